// Quantised-weight MatMul kernels, written once with GCC vector extensions
// and compiled per dispatch level after kern.h. The including file defines,
// besides kern.h's macros:
//   QBPS        32-element blocks per step (1, or 2 at 16 lanes)
//   QVL         float/int32 lanes per step (QBPS·QLPB)
//   QMR, QNC    rows × columns of the GEMM micro-tile
//   QDOT(w, x)  qi: lane sums of u8 w[j]·s8 x[j] (lane l of a block sums its
//               bytes [l·32/QLPB, (l+1)·32/QLPB))
//   QSIGN(x, s) qsb: x with the sign of s (negated where s < 0)
//
// Weights stay in ggml's row-major blocks (a weight row = an output column).
// Each row of A is quantised per 32-block (tensor.QuantizeAct): codes xq,
// scale xd, and per 16-half xs = xd·Σxq. A weight block is decoded to 32
// codes q (unsigned, or |v| with the sign in sg for the signed types Q8_0, Q5_0,
// IQ4_NL, IQ4_XS), one scale per 16-half and one min per half, so that
// w[j] = s[h]·q[j] − m[h] (sg applied for signed types). Output (r, c) is
//
//   acc = fma(float(QDOT(q_b, xq_b)), s_b·xd_b, acc)   (QVL lanes, blocks b in order)
//   acc = fma(−m_h, xs_h, acc)                          (QVL lanes, halves h in order)
//   out = qhsum(acc)
//
// the same operation sequence in the GEMV, the small-m and the prefill paths,
// so every element is bit-identical whatever m or the thread split.

#define QLPB (QVL / QBPS) // lanes per block: half 0 in the first QLPB/2
#ifndef QPFD
#define QPFD 1 // GEMV prefetch distance, in groups of NCOL columns
#endif

typedef uint8_t qub __attribute__((vector_size(32 * QBPS)));
typedef int8_t qsb __attribute__((vector_size(32 * QBPS)));
typedef float qf __attribute__((vector_size(QVL * 4)));
typedef int32_t qi __attribute__((vector_size(QVL * 4)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef int8_t s8x16 __attribute__((vector_size(16)));
typedef int8_t s8x32 __attribute__((vector_size(32)));

static inline qf qsplat(float s) { qf v = {s}; return __builtin_shuffle(v, (qi){0}); }
typedef float f4 __attribute__((vector_size(16)));
// qhsum: lanes summed as a tree (halves added until 4 lanes, then (0+2)+(1+3)).
static inline float qhsum(qf v) {
#if QVL == 2
	return v[0] + v[1];
#else
#if QVL == 16
	typedef float f8 __attribute__((vector_size(32)));
	f8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
#else
	qf h = v;
#endif
	f4 a = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
	f4 b = a + __builtin_shufflevector(a, a, 2, 3, 2, 3);
	return b[0] + b[1];
#endif
}

// ---- scales ----

#ifdef CVT_F16
static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return CVT_F16(h); }
#else // the scalar level: kern.h's exact conversion
static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return f16_to_f32(h); }
#endif

// ---- block decoders ----
//
// A type's super-block (SB) is its ggml block: 1 block of 32 (Q*_0, Q*_1,
// IQ4_NL) or 8 (K-quants, IQ4_XS). hdr_T(sb, s, m) writes the scale s and min
// m of each 16-half of the super-block (2·BPSB values each); codes_T(sb, bi, o)
// the 32 codes of block bi, a constant after unrolling (constant shifts).

typedef struct {
	u8x32 q;  // codes (unsigned) or |v| (signed types)
	u8x32 sg; // signed types: v
} qblk;

static const s8x16 kIQ4 = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static inline u8x16 ld16(const uint8_t *p) { u8x16 v; memcpy(&v, p, 16); return v; }
static inline u8x32 ld32(const uint8_t *p) { u8x32 v; memcpy(&v, p, 32); return v; }

typedef uint16_t u16x16 __attribute__((vector_size(32)));

// nib32: 16 bytes → 32 codes, low nibbles first (the bytes and the bytes
// shifted right by 4, concatenated, then masked).
#ifdef QX86
static inline u8x32 nib32(const uint8_t *p) { // GCC would load twice and permute
	__m128i v = _mm_loadu_si128((const __m128i *)p);
	__m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
	return (u8x32)_mm256_and_si256(b, _mm256_set1_epi8(15));
}
#else
static inline u8x32 nib32(const uint8_t *p) {
	typedef uint16_t u16x8 __attribute__((vector_size(16)));
	u8x16 v = ld16(p), h = (u8x16)((u16x8)v >> 4);
	u8x32 b = __builtin_shufflevector(v, h, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
					  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
	return b & 15;
}
#endif

// bitmask: byte i = 0xff if bit i of the little-endian u32 at p is set, else 0.
static inline u8x32 bitmask(const uint8_t *p) {
	typedef uint32_t u32x8 __attribute__((vector_size(32)));
	uint32_t w;
	memcpy(&w, p, 4);
	u8x32 rep = __builtin_shuffle((u8x32)(u32x8){w, w, w, w, w, w, w, w},
				      (u8x32){0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
					      18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19});
	const u8x32 bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
			   1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
	return (u8x32)((rep & bit) == bit);
}

// bit16: byte i = 16 if bit i of the little-endian u32 at p is set, else 0.
static inline u8x32 bit16(const uint8_t *p) { return bitmask(p) & 16; }

// abs8: |x| as unsigned bytes (|−128| = 128).
#ifdef ABS8
static inline u8x32 abs8(s8x32 x) { return (u8x32)ABS8(x); }
#else
static inline u8x32 abs8(s8x32 x) { u8x32 m = (u8x32)(x >> 7); return ((u8x32)x ^ m) - m; }
#endif

// iq4: codebook values of 32 nibble indices; |v| in q, v in sg.
static inline void iq4(const uint8_t *p, qblk *o) {
	u8x16 v = ld16(p);
	s8x16 lo = __builtin_shuffle(kIQ4, (s8x16)(v & 15)), hi = __builtin_shuffle(kIQ4, (s8x16)(v >> 4));
	s8x32 x = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
					  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
	o->sg = (u8x32)x;
	o->q = abs8(x);
}

// USHR: v >> n on bytes as one 16-bit shift: each byte's top n bits come
// from its neighbour, so callers mask to at most 8−n bits.
#define USHR(v, n) ((u8x32)((u16x16)(v) >> (n)))

#define HDR(T) static inline void hdr_##T(const uint8_t *p, float *s, float *m)
#define CODES(T) static inline void codes_##T(const uint8_t *p, int bi, qblk *o)

// 32-element types: one block per super-block.
HDR(Q8_0) { s[0] = s[1] = h2f(p); m[0] = m[1] = 0; }
CODES(Q8_0) {
	(void)bi;
	s8x32 x; memcpy(&x, p + 2, 32);
	o->sg = (u8x32)x;
	o->q = abs8(x);
}
HDR(Q4_0) { float d = h2f(p); s[0] = s[1] = d; m[0] = m[1] = 8 * d; }
CODES(Q4_0) { (void)bi; o->q = nib32(p + 2); }
HDR(Q4_1) { s[0] = s[1] = h2f(p); m[0] = m[1] = -h2f(p + 2); }
CODES(Q4_1) { (void)bi; o->q = nib32(p + 4); }
HDR(Q5_0) { s[0] = s[1] = h2f(p); m[0] = m[1] = 0; }
CODES(Q5_0) { // signed: q − 16 is the nibble with 0xf0 set where the fifth bit is clear
	(void)bi;
	s8x32 x = (s8x32)(nib32(p + 6) | (~bitmask(p + 2) & 0xf0));
	o->sg = (u8x32)x;
	o->q = abs8(x);
}
HDR(Q5_1) { s[0] = s[1] = h2f(p); m[0] = m[1] = -h2f(p + 2); }
CODES(Q5_1) { (void)bi; o->q = nib32(p + 8) | bit16(p + 4); }
HDR(IQ4_NL) { s[0] = s[1] = h2f(p); m[0] = m[1] = 0; }
CODES(IQ4_NL) { (void)bi; iq4(p + 2, o); }

// K-quants: 8 blocks of 32, block bi = 4h + j (Q2_K, Q3_K, Q6_K) or 2c + hh (Q4_K, Q5_K).
// Their headers decode all sub-block scales at once, 8 lanes at a time.
typedef float qf8 __attribute__((vector_size(32)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
static inline qf8 qsplat8(float s) { return (qf8){s, s, s, s, s, s, s, s}; }
typedef int32_t qi8 __attribute__((vector_size(32)));
// f8u, f8s: bytes 0–7 (hi = 0) or 8–15 (hi = 1) of v to floats, unsigned or
// signed. GCC scalarises the generic conversion byte by byte, so x86 levels
// (QX86) use vpmovzxbd/vpmovsxbd.
#ifdef QX86
static inline qf8 f8u(u8x16 v, int hi) {
	__m128i x = hi ? _mm_unpackhi_epi64((__m128i)v, (__m128i)v) : (__m128i)v;
	return (qf8)_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(x));
}
static inline qf8 f8s(u8x16 v, int hi) {
	__m128i x = hi ? _mm_unpackhi_epi64((__m128i)v, (__m128i)v) : (__m128i)v;
	return (qf8)_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(x));
}
#else
static inline qf8 f8u(u8x16 v, int hi) {
	qf8 r;
	for (int i = 0; i < 8; i++) r[i] = (float)v[8 * hi + i];
	return r;
}
static inline qf8 f8s(u8x16 v, int hi) {
	qf8 r;
	for (int i = 0; i < 8; i++) r[i] = (float)(int8_t)v[8 * hi + i];
	return r;
}
#endif
// put16: v0, v1 (8 values each) to out[0..16).
static inline void put16(float *out, qf8 v0, qf8 v1) { memcpy(out, &v0, 32); memcpy(out + 8, &v1, 32); }
// put16x2: the 8 values of v, each twice (one per 16-half), to out[0..16).
static inline void put16x2(float *out, qf8 v) {
	put16(out, __builtin_shufflevector(v, v, 0, 0, 1, 1, 2, 2, 3, 3), __builtin_shufflevector(v, v, 4, 4, 5, 5, 6, 6, 7, 7));
}

HDR(Q2_K) {
	float d = h2f(p + 80), dmin = h2f(p + 82);
	u8x16 b = ld16(p), lo = b & 15, hi = b >> 4;
	put16(s, f8u(lo, 0) * qsplat8(d), f8u(lo, 1) * qsplat8(d));
	put16(m, f8u(hi, 0) * qsplat8(dmin), f8u(hi, 1) * qsplat8(dmin));
}
CODES(Q2_K) { o->q = USHR(ld32(p + 16 + 32 * (bi / 4)), 2 * (bi % 4)) & 3; }
HDR(Q3_K) { // codes q+4 = low 2 bits | hmask bit << 2
	float d = h2f(p + 108);
	// scale i: low nibble of byte i%8 (high nibble for i ≥ 8), bits 4–5 from byte 8+i%4 at bit 2(i/4)
	u8x16 raw = ld16(p + 94); // bytes 94–109, all inside the 110-byte block
	u32x4 v = (u32x4)__builtin_shufflevector(raw, raw, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 0, 0, 0), lo = {0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f}, hi = {0x03030303, 0x03030303, 0x03030303, 0x03030303};
	u32x4 ab = __builtin_shufflevector(v, v, 0, 1, 0, 1), cc = __builtin_shufflevector(v, v, 2, 2, 2, 2);
	u32x4 sc = ((ab >> (u32x4){0, 0, 4, 4}) & lo) | ((cc >> (u32x4){0, 2, 4, 6}) & hi) << 4;
	u8x16 x = (u8x16)((s8x16)sc - 32);
	qf8 v0 = f8s(x, 0) * qsplat8(d), v1 = f8s(x, 1) * qsplat8(d);
	put16(s, v0, v1);
	put16(m, v0 * 4, v1 * 4);
}
CODES(Q3_K) { o->q = (USHR(ld32(p + 32 + 32 * (bi / 4)), 2 * (bi % 4)) & 3) | (USHR(ld32(p), bi) & 1) << 2; }
HDR(Q4_K) {
	float d = h2f(p), dmin = h2f(p + 2);
	// words {a, b, c}: scales j < 4 are a's bytes & 63, mins b's; j ≥ 4 take c's
	// low (scale) or high (min) nibbles with bits 4–5 from the top bits of a or b
	u32x4 v = (u32x4)ld16(p + 4); // words a, b, c (and the first codes)
	const u32x4 lo6 = {0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f}, top = {0, 0x30303030, 0, 0x30303030};
	u32x4 x = __builtin_shufflevector(v, v, 0, 2, 1, 2) >> (u32x4){0, 0, 0, 4};
	u32x4 y = __builtin_shufflevector(v, v, 0, 0, 1, 1) >> 2;
	u8x16 r = (u8x16)((x & lo6) | (y & top)); // 8 scales, then 8 mins
	put16x2(s, f8u(r, 0) * qsplat8(d));
	put16x2(m, f8u(r, 1) * qsplat8(dmin));
}
CODES(Q4_K) { o->q = USHR(ld32(p + 16 + 32 * (bi / 2)), 4 * (bi & 1)) & 15; }
HDR(Q5_K) { hdr_Q4_K(p, s, m); }
CODES(Q5_K) { o->q = (USHR(ld32(p + 48 + 32 * (bi / 2)), 4 * (bi & 1)) & 15) | (USHR(ld32(p + 16), bi) & 1) << 4; }
HDR(Q6_K) { // codes q+32
	float d = h2f(p + 208);
	u8x16 x = ld16(p + 192);
	qf8 v0 = f8s(x, 0) * qsplat8(d), v1 = f8s(x, 1) * qsplat8(d);
	put16(s, v0, v1);
	put16(m, v0 * 32, v1 * 32);
}
CODES(Q6_K) {
	int h = bi / 4, j = bi % 4;
	o->q = (USHR(ld32(p + 64 * h + 32 * (j & 1)), 4 * (j >> 1)) & 15) | (USHR(ld32(p + 128 + 32 * h), 2 * j) & 3) << 4;
}
HDR(IQ4_XS) {
	float d = h2f(p);
	uint16_t sh = (uint16_t)(p[2] | p[3] << 8);
	for (int b = 0; b < 8; b++) {
		int ls = (((p[4 + b / 2] >> (4 * (b % 2))) & 15) | ((sh >> (2 * b)) & 3) << 4) - 32;
		s[2 * b] = s[2 * b + 1] = d * (float)ls;
		m[2 * b] = m[2 * b + 1] = 0;
	}
}
CODES(IQ4_XS) { iq4(p + 8 + 16 * bi, o); }

// ---- steps: QBPS blocks as one vector ----

// A group is G = max(BPSB, QBPS) blocks: whole super-blocks and whole steps.
// grp_T(row, g, nb, s, m) writes the half scales and mins of group g's blocks
// (zero past nb); gstep_T(row, g, si, nb, q, sg) the codes of its step si.
#define DEF_QSTEP(T, SIGNED, BPSB, BYTES)                                                        \
	enum { G_##T = BPSB > QBPS ? BPSB : QBPS };                                              \
	static inline void grp_##T(const uint8_t *row, long g, long nb, float *s, float *m) {  \
		_Pragma("GCC unroll 2") for (int u = 0; u < G_##T / BPSB; u++) {                \
			long b = g * G_##T + u * BPSB;                                          \
			if (b < nb) hdr_##T(row + b / BPSB * BYTES, s + 2 * u * BPSB, m + 2 * u * BPSB); \
			else for (int i = 0; i < 2 * BPSB; i++) s[2 * u * BPSB + i] = m[2 * u * BPSB + i] = 0; \
		}                                                                               \
	}                                                                                       \
	static inline void gstep_##T(const uint8_t *row, long g, int si, long nb, qub *q, qsb *sg) { \
		_Pragma("GCC unroll 2") for (int t = 0; t < QBPS; t++) {                        \
			int bl = si * QBPS + t;                                                 \
			long b = g * G_##T + bl;                                                \
			qblk k;                                                                 \
			if (QBPS == 1 || b < nb) codes_##T(row + b / BPSB * BYTES, bl % BPSB, &k); \
			else memset(&k, 0, sizeof k);                                           \
			memcpy((uint8_t *)q + 32 * t, &k.q, 32);                                \
			if (SIGNED) memcpy((uint8_t *)sg + 32 * t, &k.sg, 32);                  \
		}                                                                               \
	}

// qlanes spreads per-half values v[2t+h] over the lanes of block t, half h;
// with halves 0 only v[2t] is read (both halves alike).
static inline qf qlanes(const float *v, int halves) {
#if QVL == 2
	return (qf){v[0], halves ? v[1] : v[0]};
#elif QVL == 8
	if (!halves) return qsplat(v[0]);
	f4 x = {v[0], v[1]};
	return __builtin_shufflevector(x, x, 0, 0, 0, 0, 1, 1, 1, 1);
#else
	f4 x = {v[0], halves ? v[1] : v[0], v[2], halves ? v[3] : v[2]};
	return __builtin_shufflevector(x, x, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
#endif
}

// xdv: the activation scales of step s, one per block, spread over its lanes.
static inline qf xdv(const float *xd, long s) {
	float v[2 * QBPS];
	for (int t = 0; t < QBPS; t++) v[2 * t] = v[2 * t + 1] = xd[s * QBPS + t];
	return qlanes(v, 0);
}

// minfma: acc − Σ m[h]·xs[h] over nhp halves (a multiple of QVL), QVL lanes
// at a time in order, folded into the blocks' accumulator.
static inline qf minfma(qf acc, const float *m, const float *xs, long nhp) {
	for (long h = 0; h < nhp; h += QVL) {
		qf a, b;
		memcpy(&a, m + h, sizeof a);
		memcpy(&b, xs + h, sizeof b);
		acc = VFMA(-a, b, acc);
	}
	return acc;
}

// ---- activation quantisation (tensor.QuantizeAct) ----

// qact_rows quantises rows [r0, r1) of a [m][k] into xq [m][nbp·32], xd
// [m][nbp] and xs [m][nhp]; padding blocks and halves are zero.
void SFX(qact_rows)(const float *a, long lda, long k, long r0, long r1, int8_t *xq, float *xd, float *xs,
		    long nbp, long nhp) {
	const long nb = k / 32;
	for (long r = r0; r < r1; r++) {
		const float *x = a + r * lda;
		int8_t *q = xq + r * nbp * 32;
		float *d = xd + r * nbp, *hs = xs + r * nhp;
		for (long b = 0; b < nb; b++) {
			const float *xb = x + b * 32;
			float amax = 0;
			for (int i = 0; i < 32; i += W) {
				vf v = ld(xb + i);
				for (int l = 0; l < W; l++) {
					float a1 = fabsf(v[l]);
					amax = a1 > amax ? a1 : amax;
				}
			}
			float sc = amax / 127.0f, inv = sc != 0.0f ? 1.0f / sc : 0.0f;
			d[b] = sc;
			int32_t sum[2] = {0, 0};
			for (int i = 0; i < 32; i += W) {
				vf v = ld(xb + i) * splat(inv);
				v = sel(v < splat(127.0f), v, splat(127.0f));
				v = sel(v > splat(-127.0f), v, splat(-127.0f));
				v = (v + splat(12582912.0f)) - splat(12582912.0f); // round to nearest even
				vi iv = __builtin_convertvector(v, vi);
				for (int l = 0; l < W; l++) {
					q[b * 32 + i + l] = (int8_t)iv[l];
					sum[(i + l) / 16] += iv[l];
				}
			}
			hs[2 * b] = sc * (float)sum[0];
			hs[2 * b + 1] = sc * (float)sum[1];
		}
		memset(q + nb * 32, 0, (nbp - nb) * 32);
		for (long b = nb; b < nbp; b++) d[b] = 0;
		for (long h = 2 * nb; h < nhp; h++) hs[h] = 0;
	}
}

// ---- GEMV: one activation row, columns [c0, c1) ----

// dot step: acc += float(QDOT(q, x·sign)) · sxd, sxd the lanes' s·xd
#define QSTEP_FMA(ACC, Q, SG, SXD, X, SIGNED)                                      \
	{                                                                          \
		qsb _sx = (X);                                                     \
		if (SIGNED) _sx = QSIGN(_sx, (SG));                                \
		qi _iv = QDOT((Q), _sx);                                           \
		ACC = VFMA(__builtin_convertvector(_iv, qf), (SXD), ACC);          \
	}

// The lanes' s·xd are products of the half scales and the block's activation
// scale, taken once per group: the same values as the GEMM's. NCOL columns run
// interleaved (independent chains hide the FMA latency); while a group is
// computed, the same bytes QPFD·NCOL rows further on are prefetched (rows of
// k = 896 are too short for the hardware prefetcher to catch on); m holds
// NCOL rows of nhp mins.
#define DEF_QGEMV(T, SIGNED, HASMIN, HALVES, BPSB, BYTES)                                                      \
	static inline void SFX(qgemv_cols_##T)(const qgemm_args *g, long c, const int NCOL, float *m) { \
		const long nb = g->k / 32, ngr = (g->nbp + G_##T - 1) / G_##T;                     \
		const int8_t *xq = g->xq;                                                          \
		const float *xds = g->xd;                                                          \
		qf acc[QGC];                                                                       \
		for (int j = 0; j < NCOL; j++) acc[j] = qsplat(0.0f);                              \
		const long gb = NCOL * (G_##T / BPSB) * BYTES; /* bytes of one group, all columns */ \
		const uint8_t *pf = g->w + (c + QPFD * NCOL) * g->rowbytes;                            \
		for (long gi = 0; gi < ngr; gi++) {                                                \
			float sc[QGC][2 * G_##T], mn[2 * G_##T];                                   \
			for (long o = 0; o < gb; o += 64) __builtin_prefetch(pf + gi * gb + o);    \
			float xdh[2 * G_##T]; /* each half's activation scale */                   \
			for (int h = 0; h < 2 * G_##T; h++) xdh[h] = xds[gi * G_##T + h / 2];      \
			for (int j = 0; j < NCOL; j++) {                                           \
				grp_##T(g->w + (c + j) * g->rowbytes, gi, nb, sc[j],               \
					HASMIN ? m + j * g->nhp + 2 * G_##T * gi : mn);            \
				for (int h = 0; h < 2 * G_##T; h++) sc[j][h] *= xdh[h];            \
			}                                                                          \
			_Pragma("GCC unroll 8") for (int si = 0; si < G_##T / QBPS; si++) {       \
				long s = gi * (G_##T / QBPS) + si;                                 \
				qsb x;                                                             \
				memcpy(&x, xq + s * 32 * QBPS, sizeof x);                          \
				for (int j = 0; j < NCOL; j++) {                                   \
					qub q;                                                     \
					qsb sg;                                                    \
					gstep_##T(g->w + (c + j) * g->rowbytes, gi, si, nb, &q, &sg); \
					QSTEP_FMA(acc[j], q, sg, qlanes(sc[j] + 2 * QBPS * si, HALVES), x, SIGNED) \
				}                                                                  \
			}                                                                          \
		}                                                                                  \
		for (int j = 0; j < NCOL; j++) {                                                   \
			if (HASMIN) acc[j] = minfma(acc[j], m + j * g->nhp, g->xs, g->nhp);        \
			g->c[c + j] = qhsum(acc[j]);                                               \
		}                                                                                  \
	}                                                                                          \
	NOINLINE static void SFX(qgemv_##T)(const qgemm_args *g, float *m) {                       \
		for (int j = 0; j < QGC; j++)                                                      \
			for (long h = 2 * g->nbp; h < g->nhp; h++) m[j * g->nhp + h] = 0;          \
		long c = g->c0;                                                                    \
		for (; c + QGC <= g->c1; c += QGC) SFX(qgemv_cols_##T)(g, c, QGC, m);              \
		for (; c < g->c1; c++) SFX(qgemv_cols_##T)(g, c, 1, m);                            \
	}

// ---- GEMM: rows [0, m), columns [c0, c1), through unpacked column tiles ----

// Unpacked column: q [nbp·32], sg [nbp·32], s [ns·QVL], m [nhp] (see qcol_bytes).
typedef struct {
	uint8_t *q, *sg;
	float *s, *m;
} qcol;

static inline qcol qcol_at(float *scr, long nbp, long nhp, int i) {
	long fl = nbp * 16 + nbp * QLPB + nhp; // floats per column
	float *base = scr + i * fl;
	return (qcol){(uint8_t *)base, (uint8_t *)base + nbp * 32, base + nbp * 16, base + nbp * 16 + nbp * QLPB};
}

#define DEF_QUNPACK(T, SIGNED, HALVES)                                                 \
	static void SFX(qunpack_##T)(const uint8_t *row, long nb, long nbp, long nhp, qcol o) { \
		const long ngr = (nbp + G_##T - 1) / G_##T;                            \
		for (long gi = 0; gi < ngr; gi++) {                                    \
			float sc[2 * G_##T];                                           \
			grp_##T(row, gi, nb, sc, o.m + 2 * G_##T * gi);                \
			_Pragma("GCC unroll 8") for (int si = 0; si < G_##T / QBPS; si++) { \
				long s = gi * (G_##T / QBPS) + si;                     \
				qub q;                                                 \
				qsb sg;                                                \
				gstep_##T(row, gi, si, nb, &q, &sg);                   \
				memcpy(o.q + s * 32 * QBPS, &q, sizeof q);             \
				if (SIGNED) memcpy(o.sg + s * 32 * QBPS, &sg, sizeof sg); \
				qf sl = qlanes(sc + 2 * QBPS * si, HALVES);            \
				memcpy(o.s + s * QVL, &sl, sizeof sl);                 \
			}                                                              \
		}                                                                      \
		for (long h = 2 * ngr * G_##T; h < nhp; h++) o.m[h] = 0;               \
	}

// micro-tile: rows r..r+mr (mr ≤ QMR) × unpacked columns cols[0..nc) (nc ≤ QNC)
#define DEF_QMICRO(T, SIGNED, HASMIN)                                                                  \
	NOINLINE static void SFX(qmicro_##T)(const qgemm_args *g, long r, int mr, const qcol *cols, int nc, \
					     long c) {                                                   \
		const long ns = g->nbp / QBPS;                                                        \
		qf acc[QMR][QNC];                                                                     \
		for (int i = 0; i < QMR; i++)                                                         \
			for (int j = 0; j < QNC; j++) acc[i][j] = qsplat(0.0f);                       \
		for (long s = 0; s < ns; s++) {                                                       \
			qub wq[QNC];                                                                  \
			qsb ws[QNC];                                                                  \
			for (int j = 0; j < QNC; j++) {                                               \
				memcpy(&wq[j], cols[j < nc ? j : 0].q + s * 32 * QBPS, sizeof wq[j]); \
				if (SIGNED) memcpy(&ws[j], cols[j < nc ? j : 0].sg + s * 32 * QBPS, sizeof ws[j]); \
			}                                                                             \
			_Pragma("GCC unroll 16") for (int i = 0; i < QMR; i++) {                     \
				long ri = r + (i < mr ? i : 0);                                       \
				qsb x;                                                                \
				memcpy(&x, g->xq + ri * g->nbp * 32 + s * 32 * QBPS, sizeof x);       \
				qf xd = xdv(g->xd + ri * g->nbp, s);                                  \
				_Pragma("GCC unroll 16") for (int j = 0; j < QNC; j++) {             \
					qf sc;                                                        \
					memcpy(&sc, cols[j < nc ? j : 0].s + s * QVL, sizeof sc);     \
					QSTEP_FMA(acc[i][j], wq[j], ws[j], sc * xd, x, SIGNED)        \
				}                                                                     \
			}                                                                             \
		}                                                                                     \
		for (int i = 0; i < mr; i++)                                                          \
			for (int j = 0; j < nc; j++) {                                                \
				qf a = acc[i][j];                                                     \
				if (HASMIN) a = minfma(a, cols[j].m, g->xs + (r + i) * g->nhp, g->nhp); \
				g->c[(r + i) * g->ldc + c + j] = qhsum(a);                            \
			}                                                                             \
	}

#define DEF_QGEMM(T)                                                                            \
	NOINLINE static void SFX(qgemm_##T)(const qgemm_args *g, float *scr) {                  \
		const long nb = g->k / 32;                                                      \
		long mc = QMC_BYTES / (g->nbp * 36) / QMR * QMR;                                \
		if (mc < QMR) mc = QMR;                                                         \
		for (long i0 = 0; i0 < g->m; i0 += mc) {                                        \
			long i1 = i0 + mc < g->m ? i0 + mc : g->m;                              \
			for (long c = g->c0; c < g->c1; c += QNC) {                             \
				int nc = g->c1 - c < QNC ? (int)(g->c1 - c) : QNC;              \
				qcol cols[QNC];                                                 \
				for (int j = 0; j < nc; j++) {                                  \
					cols[j] = qcol_at(scr, g->nbp, g->nhp, j);              \
					SFX(qunpack_##T)(g->w + (c + j) * g->rowbytes, nb, g->nbp, g->nhp, cols[j]); \
				}                                                               \
				for (long r = i0; r < i1; r += QMR) {                           \
					int mr = i1 - r < QMR ? (int)(i1 - r) : QMR;            \
					SFX(qmicro_##T)(g, r, mr, cols, nc, c);                 \
				}                                                               \
			}                                                                       \
		}                                                                               \
	}

// Per type: SIGNED (sign trick, no mins), HASMIN, HALVES (a scale per 16-half),
// BPSB blocks and BYTES bytes per super-block.
#define DEF_QTYPE(T, SIGNED, HASMIN, HALVES, BPSB, BYTES) DEF_QSTEP(T, SIGNED, BPSB, BYTES) \
	DEF_QGEMV(T, SIGNED, HASMIN, HALVES, BPSB, BYTES) \
	DEF_QUNPACK(T, SIGNED, HALVES) DEF_QMICRO(T, SIGNED, HASMIN) DEF_QGEMM(T)

DEF_QTYPE(Q8_0, 1, 0, 0, 1, 34)
DEF_QTYPE(Q4_0, 0, 1, 0, 1, 18)
DEF_QTYPE(Q4_1, 0, 1, 0, 1, 20)
DEF_QTYPE(Q5_0, 1, 0, 0, 1, 22)
DEF_QTYPE(Q5_1, 0, 1, 0, 1, 24)
DEF_QTYPE(IQ4_NL, 1, 0, 0, 1, 18)
DEF_QTYPE(Q2_K, 0, 1, 1, 8, 84)
DEF_QTYPE(Q3_K, 0, 1, 1, 8, 110)
DEF_QTYPE(Q4_K, 0, 1, 0, 8, 144)
DEF_QTYPE(Q5_K, 0, 1, 0, 8, 176)
DEF_QTYPE(Q6_K, 0, 1, 1, 8, 210)
DEF_QTYPE(IQ4_XS, 1, 0, 0, 8, 136)

#define QCASE(T)                                                    \
	case QT_##T:                                                \
		if (g->m == 1) SFX(qgemv_##T)(g, scr);               \
		else SFX(qgemm_##T)(g, scr);                        \
		break;

// qgemm computes g->c for columns [c0, c1); scr is this thread's scratch of
// qscratch_floats(level, k) floats.
void SFX(qgemm)(const qgemm_args *g, float *scr) {
	switch (g->dt) {
	QCASE(Q8_0) QCASE(Q4_0) QCASE(Q4_1) QCASE(Q5_0) QCASE(Q5_1) QCASE(IQ4_NL)
	QCASE(Q2_K) QCASE(Q3_K) QCASE(Q4_K) QCASE(Q5_K) QCASE(Q6_K) QCASE(IQ4_XS)
	}
}

int SFX(qgeom)(int what) {
	switch (what) {
	case 0: return QBPS;
	case 1: return QVL;
	case 2: return QNC;
	default: return QGC;
	}
}
