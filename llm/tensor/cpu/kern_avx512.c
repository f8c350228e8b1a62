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
#define LD_Q8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
#include "kern.h"
