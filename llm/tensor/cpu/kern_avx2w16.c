//go:build cgo && amd64

// The AVX-512 kernels' source (16 lanes, 12×32 tile) compiled for AVX2: each
// 16-lane vector is two 8-lane halves. Not a production level: it lets
// machines without AVX-512 run the 16-lane code paths in tests.
#pragma GCC target("avx2,fma,f16c")
#pragma GCC diagnostic ignored "-Wpsabi"
#include <immintrin.h>
#define W 16
#define MR 12
#define SFX(n) n##_avx2w16
// a*b+c on 16 lanes as two fused 8-lane halves.
#define LO8(x) __builtin_shufflevector((x), (x), 0, 1, 2, 3, 4, 5, 6, 7)
#define HI8(x) __builtin_shufflevector((x), (x), 8, 9, 10, 11, 12, 13, 14, 15)
#define VFMA(a, b, c) ({ __typeof__(a) _a = (a), _b = (b), _c = (c); \
	__m256 _lo = _mm256_fmadd_ps(LO8(_a), LO8(_b), LO8(_c)); \
	__m256 _hi = _mm256_fmadd_ps(HI8(_a), HI8(_b), HI8(_c)); \
	(__typeof__(a))__builtin_shufflevector(_lo, _hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); })
#define LD_F16(p) ({ __m256 _l = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p))), \
	_h = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p) + 1)); \
	__builtin_shufflevector(_l, _h, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); })
#define JOIN16(l, h) __builtin_shufflevector((l), (h), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define LD_BF16(p) ({ __m256i _l = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16), \
	_h = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p) + 1)), 16); \
	(vf)JOIN16((__v8si)_l, (__v8si)_h); })
#define LD_Q8(p) ({ __m256 _l = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p)))), \
	_h = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((const char *)(p) + 8)))); \
	JOIN16(_l, _h); })
#include "kern.h"
