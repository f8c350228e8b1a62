//go:build cgo && amd64

// AVX-512 level (F, BW, VL, DQ): 16 lanes, 12×32 GEMM micro-tile.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
#include <immintrin.h>
#define W 16
#define MR 12
#define SFX(n) n##_avx512
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define LD_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define LD_BF16(p) _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16)
#include "kern.h"

// Quantised kernels: two 32-blocks per 512-bit step, 4×4 tile. kern_avx2w16.c
// runs this same source on AVX2 (QDOT and QSIGN as two 256-bit halves).
#define QX86 1 // x86 conversions in kern_q.h
#define QBPS 2
#define QVL 16
#define QMR 4
#define QGC 4 // GEMV columns interleaved
#define QNC 4
#define CVT_F16(h) _cvtsh_ss(h)
#define ABS8(x) _mm256_abs_epi8((__m256i)(x))
#define QDOT(w, x) ((qi)_mm512_madd_epi16(_mm512_maddubs_epi16((__m512i)(w), (__m512i)(x)), _mm512_set1_epi16(1)))
#define QSIGN(x, s) ((qsb)_mm512_mask_sub_epi8((__m512i)(x), _mm512_movepi8_mask((__m512i)(s)), \
	_mm512_setzero_si512(), (__m512i)(x)))
#include "kern_q.h"
