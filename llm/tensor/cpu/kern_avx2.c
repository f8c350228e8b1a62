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
#define LD_Q8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#include "kern.h"
