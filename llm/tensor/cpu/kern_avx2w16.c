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
#include "kern.h"

// Quantised kernels as kern_avx512.c's, each 512-bit integer op as two 256-bit halves.
#define QX86 1 // x86 conversions in kern_q.h
#define QBPS 2
#define QVL 16
#define QMR 4
#define QGC 4 // GEMV columns interleaved
#define QNC 4
#define CVT_F16(h) _cvtsh_ss(h)
#define ABS8(x) _mm256_abs_epi8((__m256i)(x))
// HALVES2: OP on the two 256-bit halves of 64-byte vectors a and b, joined into a T.
#define HALVES2(T, a, b, OP) ({ __m256i _a0, _a1, _b0, _b1, _r0, _r1; T _r; \
	memcpy(&_a0, &(a), 32); memcpy(&_a1, (const char *)&(a) + 32, 32); \
	memcpy(&_b0, &(b), 32); memcpy(&_b1, (const char *)&(b) + 32, 32); \
	_r0 = OP(_a0, _b0); _r1 = OP(_a1, _b1); \
	memcpy(&_r, &_r0, 32); memcpy((char *)&_r + 32, &_r1, 32); _r; })
#define DOT8(w, x) _mm256_madd_epi16(_mm256_maddubs_epi16((w), (x)), _mm256_set1_epi16(1))
#define QDOT(w, x) ({ qub _dw = (w); qsb _dx = (x); HALVES2(qi, _dw, _dx, DOT8); })
#define QSIGN(x, s) ({ qsb _gx = (x), _gs = (s); HALVES2(qsb, _gx, _gs, _mm256_sign_epi8); })
#include "kern_q.h"
