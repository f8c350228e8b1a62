//go:build cgo && amd64

// AVX2 + FMA + F16C level: 8 lanes, 3×32 GEMM micro-tile.
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#define W 8
#define MR 3
#define SFX(n) n##_avx2
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define LD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LD_BF16(p) _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16)
#include "kern.h"

// Quantised kernels: one 32-block per 256-bit step (vpmaddubsw + vpmaddwd), 4×2 tile.
#define QX86 1 // x86 conversions in kern_q.h
#define QBPS 1
#define QVL 8
#define QMR 4
#define QGC 4 // GEMV columns interleaved
#define QNC 2
#define CVT_F16(h) _cvtsh_ss(h)
#define ABS8(x) _mm256_abs_epi8((__m256i)(x))
#define QDOT(w, x) ((qi)_mm256_madd_epi16(_mm256_maddubs_epi16((__m256i)(w), (__m256i)(x)), _mm256_set1_epi16(1)))
#define QSIGN(x, s) ((qsb)_mm256_sign_epi8((__m256i)(x), (__m256i)(s)))
#include "kern_q.h"
