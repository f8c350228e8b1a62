// Generic compute kernels of the CPU backend, written once with GCC vector
// extensions and compiled once per dispatch level (kern_<level>.c). The
// including file defines:
//   W         lanes per vector (1 scalar, 8 AVX2, 16 AVX-512)
//   MR        rows of the GEMM micro-tile
//   SFX(n)    n##_<level>, the symbol suffix
//   VFMA(a,b,c)  fused a*b+c on vf (or a*b+c where no FMA exists)
// Every reduction runs in a fixed order that depends only on the shapes of
// one output element, never on m, other rows or the thread split.
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "kern_api.h"

typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));
typedef uint32_t vu __attribute__((vector_size(W * 4)));
typedef uint16_t vu16 __attribute__((vector_size(W * 2)));
typedef int8_t vq __attribute__((vector_size(W)));

#define NV (NR / W) // vectors per panel row

// The GEMV and micro-kernels stay separate functions: inlined into the large
// gemm driver they lose registers (a 2× slowdown of the F16 m=8 kernel seen).
#define NOINLINE __attribute__((noinline))

static inline vf ld(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void st(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf splat(float s) { vf v = {s}; return __builtin_shuffle(v, (vi){0}); }
static inline float hsum(vf v) { float s = 0; for (int i = 0; i < W; i++) s += v[i]; return s; }
static inline float hmax(vf v) { float s = v[0]; for (int i = 1; i < W; i++) s = v[i] > s ? v[i] : s; return s; }
// sel: lanes of a where mask is set (all ones), else b.
static inline vf sel(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
static inline vf vmax(vf a, vf b) { return sel(a > b, a, b); }
static inline vf vmin(vf a, vf b) { return sel(a < b, a, b); }

#ifdef LD_F16
static inline vf ld_f16(const uint16_t *p) { return (vf)LD_F16(p); }
#else
static inline float f16_to_f32(uint16_t h) { // exact, for levels without a conversion instruction
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0x1f) bits = sign | 0x7f800000 | man << 13;
	else if (exp) bits = sign | (exp + 112) << 23 | man << 13;
	else if (!man) bits = sign;
	else {
		uint32_t e = 113;
		while (!(man & 0x400)) { man <<= 1; e--; }
		bits = sign | e << 23 | (man & 0x3ff) << 13;
	}
	float f; memcpy(&f, &bits, 4); return f;
}
static inline vf ld_f16(const uint16_t *p) { vf v; for (int i = 0; i < W; i++) v[i] = f16_to_f32(p[i]); return v; }
#endif
#ifdef LD_BF16
static inline vf ld_bf16(const uint16_t *p) { return (vf)LD_BF16(p); }
#else
static inline vf ld_bf16(const uint16_t *p) {
	vu16 h; memcpy(&h, p, sizeof h);
	vu u = __builtin_convertvector(h, vu) << 16;
	vf f; memcpy(&f, &u, sizeof f); return f;
}
#endif
// ---- vector math (float32; accuracy noted per function) ----

// vexp: Cephes-style range reduction + degree-6 polynomial, ~2 ulp on [-87, 88].
static inline vf vexp(vf x) {
	x = vmin(vmax(x, splat(-87.33654f)), splat(88.37626f));
	const vf magic = splat(12582912.0f); // 1.5·2^23: adding it rounds to an integer
	vf fx = (x * splat(1.44269504088896341f) + magic) - magic;
	vf r = x - fx * splat(0.693359375f);
	r = r - fx * splat(-2.12194440e-4f);
	vf p = splat(1.9875691500E-4f);
	p = p * r + splat(1.3981999507E-3f);
	p = p * r + splat(8.3334519073E-3f);
	p = p * r + splat(4.1665795894E-2f);
	p = p * r + splat(1.6666665459E-1f);
	p = p * r + splat(5.0000001201E-1f);
	p = p * r * r + r + splat(1.0f);
	vi n = __builtin_convertvector(fx, vi);
	vi bits = (n + 127) << 23;
	vf scale; memcpy(&scale, &bits, sizeof scale);
	return p * scale;
}

static inline vf vsigmoid(vf x) { return splat(1.0f) / (splat(1.0f) + vexp(-x)); }

// verfc_pos: erfc(z) for z ≥ 0 (Numerical Recipes erfcc, relative error < 1.2e-7 in exact arithmetic).
static inline vf verfc_pos(vf z) {
	vf t = splat(1.0f) / (splat(1.0f) + splat(0.5f) * z);
	vf p = splat(0.17087277f);
	p = p * t + splat(-0.82215223f);
	p = p * t + splat(1.48851587f);
	p = p * t + splat(-1.13520398f);
	p = p * t + splat(0.27886807f);
	p = p * t + splat(-0.18628806f);
	p = p * t + splat(0.09678418f);
	p = p * t + splat(0.37409196f);
	p = p * t + splat(1.00002368f);
	p = p * t + splat(-1.26551223f);
	return t * vexp(p - z * z);
}

// vgelu: 0.5·x·(1+erf(x/√2)) written as x − 0.5·x·erfc(x/√2) (x ≥ 0) or 0.5·x·erfc(|x|/√2).
static inline vf vgelu(vf x) {
	vf z = x * splat(0.70710678118654752f);
	vf az = sel(z < splat(0.0f), -z, z);
	vf e = verfc_pos(az);
	vf h = splat(0.5f) * x * e;
	return sel(x >= splat(0.0f), x - h, h);
}

static inline vf vtanh(vf y) { return splat(1.0f) - splat(2.0f) / (vexp(splat(2.0f) * y) + splat(1.0f)); }

static inline vf vact(vf x, int kind) {
	switch (kind) {
	case ACT_SILU: return x * vsigmoid(x);
	case ACT_GELU: return vgelu(x);
	case ACT_GELU_TANH: return splat(0.5f) * x * (splat(1.0f) + vtanh(splat(0.7978845608028654f) * (x + splat(0.044715f) * x * x * x)));
	default: return x * vsigmoid(splat(1.702f) * x);
	}
}

// ---- panel loads: one k-row of a 32-wide weight panel as NV vectors ----

static inline void brow_f32(const void *pan, long k, vf *b) {
	const float *p = (const float *)pan + k * NR;
	for (int v = 0; v < NV; v++) b[v] = ld(p + v * W);
}
static inline void brow_f16(const void *pan, long k, vf *b) {
	const uint16_t *p = (const uint16_t *)pan + k * NR;
	for (int v = 0; v < NV; v++) b[v] = ld_f16(p + v * W);
}
static inline void brow_bf16(const void *pan, long k, vf *b) {
	const uint16_t *p = (const uint16_t *)pan + k * NR;
	for (int v = 0; v < NV; v++) b[v] = ld_bf16(p + v * W);
}
// ---- GEMM micro-kernels: C[MR rows][NR] (+)= A sliver [kc][MR] · B [kc][NR] ----

// Store or accumulate helpers for partial tiles go through a local tile.
static inline void tile_load(vf acc[MR][NV], const float *C, long ldc, int mr, int nr, int first) {
	if (!first && mr == MR && nr == NR) {
		for (int r = 0; r < MR; r++)
			for (int v = 0; v < NV; v++) acc[r][v] = ld(C + r * ldc + v * W);
		return;
	}
	if (first) {
		for (int r = 0; r < MR; r++)
			for (int v = 0; v < NV; v++) acc[r][v] = splat(0.0f);
		return;
	}
	float t[MR][NR];
	memset(t, 0, sizeof t);
	if (!first)
		for (int r = 0; r < mr; r++) memcpy(t[r], C + r * ldc, nr * sizeof(float));
	for (int r = 0; r < MR; r++)
		for (int v = 0; v < NV; v++) acc[r][v] = ld(&t[r][v * W]);
}
static inline void tile_store(vf acc[MR][NV], float *C, long ldc, int mr, int nr) {
	if (mr == MR && nr == NR) {
		for (int r = 0; r < MR; r++)
			for (int v = 0; v < NV; v++) st(C + r * ldc + v * W, acc[r][v]);
		return;
	}
	float t[MR][NR];
	for (int r = 0; r < MR; r++)
		for (int v = 0; v < NV; v++) st(&t[r][v * W], acc[r][v]);
	for (int r = 0; r < mr; r++) memcpy(C + r * ldc, t[r], nr * sizeof(float));
}

// One vector (lanes v·W…) of k-row k of a panel, converted to f32.
static inline vf b1_f32(const void *pan, long k, int v) {
	return ld((const float *)pan + k * NR + v * W);
}
static inline vf b1_f16(const void *pan, long k, int v) {
	return ld_f16((const uint16_t *)pan + k * NR + v * W);
}
static inline vf b1_bf16(const void *pan, long k, int v) {
	return ld_bf16((const uint16_t *)pan + k * NR + v * W);
}

// MK_BODY: the MR row broadcasts are held while each B vector is loaded and
// used for all rows in turn, so MR·NV accumulators + MR + 1 registers suffice
// (16 ymm registers at MR 3, NV 4): nothing spills.
#define MK_BODY(LOADB1, PAN, K0)                                               \
	vf acc[MR][NV];                                                        \
	tile_load(acc, C, ldc, mr, nr, first);                                 \
	for (long p = 0; p < kc; p++) {                                        \
		vf a[MR];                                                      \
		_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) a[r] = splat(A[p * MR + r]); \
		_Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {         \
			vf b = LOADB1(PAN, (K0) + p, v);                \
			_Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)  \
				acc[r][v] = VFMA(a[r], b, acc[r][v]);          \
		}                                                              \
	}                                                                      \
	tile_store(acc, C, ldc, mr, nr);

// mk_<dt>: B read in its native dtype from the packed panel, rows [k0, k0+kc).
#define DEF_MK(NAME, LOADB)                                                                    \
	NOINLINE static void SFX(NAME)(const float *restrict A, const void *restrict pan, long k0, long kc, \
			      float *restrict C, long ldc, int mr, int nr, int first) {            \
		MK_BODY(LOADB, pan, k0)                                                         \
	}
DEF_MK(mk_f32, b1_f32)
DEF_MK(mk_f16, b1_f16)
DEF_MK(mk_bf16, b1_bf16)

// ---- GEMV (m = 1): NP panels at a time so that NP·NV accumulators hide FMA latency ----

#define NP (NV >= 8 ? 1 : 8 / NV) // panels per GEMV pass

// gemv_pass computes NPASS panels starting at panel p over all k.
#define GEMV_PASS(LOADB, NPASS)                                                            \
	{                                                                                  \
		vf acc[NPASS][NV];                                                         \
		const uint8_t *pans[NPASS];                                                \
		for (int q = 0; q < NPASS; q++) {                                          \
			pans[q] = w + (p + q) * pstride;                                   \
			for (int v = 0; v < NV; v++) acc[q][v] = splat(0.0f);             \
		}                                                                          \
		for (long kk = 0; kk < k; kk++) {                                          \
			vf x = splat(a[kk]);                                               \
			_Pragma("GCC unroll 8") for (int q = 0; q < NPASS; q++) {         \
				vf b[NV];                                                  \
				LOADB(pans[q], kk, b);                           \
				for (int v = 0; v < NV; v++) acc[q][v] = VFMA(x, b[v], acc[q][v]); \
			}                                                                  \
		}                                                                          \
		for (int q = 0; q < NPASS; q++) {                                          \
			float t[NR];                                                       \
			for (int v = 0; v < NV; v++) st(t + v * W, acc[q][v]);            \
			long col = (p + q) * NR, nr = n - col < NR ? n - col : NR;         \
			memcpy(c + col, t, nr * sizeof(float));                            \
		}                                                                          \
		p += NPASS;                                                                \
	}

#define DEF_GEMV(NAME, LOADB)                                                                     \
	NOINLINE static void SFX(NAME)(const float *restrict a, const uint8_t *restrict w, long k, long pstride, \
			      long p0, long p1, float *restrict c, long n) {                            \
		long p = p0;                                                                       \
		while (p + NP <= p1) GEMV_PASS(LOADB, NP)                                          \
		while (p < p1) GEMV_PASS(LOADB, 1)                                                 \
	}
DEF_GEMV(gemv_f32, brow_f32)
DEF_GEMV(gemv_f16, brow_f16)
DEF_GEMV(gemv_bf16, brow_bf16)
// ---- GEMM driver over panels [p0, p1) of this thread ----

// Converts rows [k0, k0+kc) of panel pan to an f32 panel block bbuf [kc][NR].
static void SFX(panel_to_f32)(int dt, const uint8_t *pan, long k0, long kc, float *bbuf) {
	for (long p = 0; p < kc; p++) {
		vf b[NV];
		if (dt == DT_F16) brow_f16(pan, k0 + p, b);
		else brow_bf16(pan, k0 + p, b);
		for (int v = 0; v < NV; v++) st(bbuf + p * NR + v * W, b[v]);
	}
}

void SFX(gemm)(const gemm_args *g) {
	const long m = g->m, n = g->n, k = g->k;
	if (m == 1) {
		switch (g->dt) {
		case DT_F32: SFX(gemv_f32)(g->a, g->w, k, g->pstride, g->p0, g->p1, g->c, n); break;
		case DT_F16: SFX(gemv_f16)(g->a, g->w, k, g->pstride, g->p0, g->p1, g->c, n); break;
		default: SFX(gemv_bf16)(g->a, g->w, k, g->pstride, g->p0, g->p1, g->c, n);
		}
		return;
	}
	if (m <= SMALL_M) {
		// Few rows (batched decode): stream every panel once, in its native
		// dtype, with all rows' slivers; k is blocked only when A would not
		// fit the scratch. Per element this is the same FMA chain over k.
		long mp = (m + MR - 1) / MR * MR;
		long kcs = k;
		if (mp * kcs > (long)MC_MAX * KC) kcs = (long)MC_MAX * KC / mp;
		for (long k0 = 0; k0 < k; k0 += kcs) {
			long kc = k - k0 < kcs ? k - k0 : kcs;
			for (long s = 0; s < m; s += MR) {
				float *dst = g->abuf + s * kc;
				for (long p = 0; p < kc; p++)
					for (int r = 0; r < MR; r++)
						dst[p * MR + r] = s + r < m ? g->a[(s + r) * g->lda + k0 + p] : 0.0f;
			}
			for (long pi = g->p0; pi < g->p1; pi++) {
				const uint8_t *pan = g->w + pi * g->pstride;
				int nr = n - pi * NR < NR ? (int)(n - pi * NR) : NR;
				for (long s = 0; s < m; s += MR) {
					int mr = m - s < MR ? (int)(m - s) : MR;
					float *C = g->c + s * g->ldc + pi * NR;
					const float *A = g->abuf + s * kc;
					switch (g->dt) {
					case DT_F32: SFX(mk_f32)(A, pan, k0, kc, C, g->ldc, mr, nr, k0 == 0); break;
					case DT_F16: SFX(mk_f16)(A, pan, k0, kc, C, g->ldc, mr, nr, k0 == 0); break;
					default: SFX(mk_bf16)(A, pan, k0, kc, C, g->ldc, mr, nr, k0 == 0);
					}
				}
			}
		}
		return;
	}
	// Many rows (prefill): k blocks of KC, A blocks of MC rows; F16/BF16
	// panel blocks are converted to f32 once and reused by every sliver.
	for (long k0 = 0; k0 < k; k0 += KC) {
		long kc = k - k0 < KC ? k - k0 : KC;
		for (long i0 = 0; i0 < m; i0 += MC) {
			long mc = m - i0 < MC ? m - i0 : MC;
			// pack A[i0:i0+mc, k0:k0+kc] into slivers [kc][MR], zero-padded rows
			for (long s = 0; s < mc; s += MR) {
				float *dst = g->abuf + s * kc;
				for (long p = 0; p < kc; p++)
					for (int r = 0; r < MR; r++)
						dst[p * MR + r] = s + r < mc ? g->a[(i0 + s + r) * g->lda + k0 + p] : 0.0f;
			}
			for (long pi = g->p0; pi < g->p1; pi++) {
				const uint8_t *pan = g->w + pi * g->pstride;
				int nr = n - pi * NR < NR ? (int)(n - pi * NR) : NR;
				if (g->dt != DT_F32) SFX(panel_to_f32)(g->dt, pan, k0, kc, g->bbuf);
				const void *B = g->dt != DT_F32 ? (const void *)g->bbuf : (const void *)pan;
				long bk0 = g->dt != DT_F32 ? 0 : k0;
				for (long s = 0; s < mc; s += MR) {
					int mr = mc - s < MR ? (int)(mc - s) : MR;
					float *C = g->c + (i0 + s) * g->ldc + pi * NR;
					SFX(mk_f32)(g->abuf + s * kc, B, bk0, kc, C, g->ldc, mr, nr, k0 == 0);
				}
			}
		}
	}
}

int SFX(gemm_mr)(void) { return MR; }

// ---- elementwise and row ops ----

// Tails shorter than W go through a zero-padded vector so every element is
// computed by the same vector code.
#define TAIL_LOAD(dst, src, cnt) do { float _t[W] = {0}; memcpy(_t, (src), (cnt) * sizeof(float)); dst = ld(_t); } while (0)
#define TAIL_STORE(dstp, v, cnt) do { float _t[W]; st(_t, (v)); memcpy((dstp), _t, (cnt) * sizeof(float)); } while (0)

void SFX(binop)(float *dst, const float *a, const float *b, long rows, long cols, int bcast, int mul) {
	for (long r = 0; r < rows; r++) {
		const float *ar = a + r * cols, *br = bcast ? b : b + r * cols;
		float *dr = dst + r * cols;
		long c = 0;
		for (; c + W <= cols; c += W) st(dr + c, mul ? ld(ar + c) * ld(br + c) : ld(ar + c) + ld(br + c));
		for (; c < cols; c++) dr[c] = mul ? ar[c] * br[c] : ar[c] + br[c];
	}
}

void SFX(scale)(float *dst, const float *a, long n, float s) {
	long i = 0;
	for (; i + W <= n; i += W) st(dst + i, ld(a + i) * splat(s));
	for (; i < n; i++) dst[i] = a[i] * s;
}

void SFX(act)(float *dst, const float *x, long n, int kind) {
	long i = 0;
	for (; i + W <= n; i += W) st(dst + i, vact(ld(x + i), kind));
	if (i < n) {
		vf v;
		TAIL_LOAD(v, x + i, n - i);
		TAIL_STORE(dst + i, vact(v, kind), n - i);
	}
}

void SFX(swiglu)(float *dst, const float *g, const float *u, long n) {
	long i = 0;
	for (; i + W <= n; i += W) st(dst + i, vact(ld(g + i), ACT_SILU) * ld(u + i));
	if (i < n) {
		vf a, b;
		TAIL_LOAD(a, g + i, n - i);
		TAIL_LOAD(b, u + i, n - i);
		TAIL_STORE(dst + i, vact(a, ACT_SILU) * b, n - i);
	}
}

// sum over a row in W lanes (+ a scalar tail), then lanes in order.
static inline float rowsum(const float *x, long n, float sub, int square) {
	vf acc = splat(0.0f);
	long i = 0;
	for (; i + W <= n; i += W) {
		vf v = ld(x + i) - splat(sub);
		if (square) acc = VFMA(v, v, acc);
		else acc = acc + v;
	}
	float s = hsum(acc);
	for (; i < n; i++) {
		float v = x[i] - sub;
		s += square ? v * v : v;
	}
	return s;
}

void SFX(rmsnorm)(float *dst, const float *x, const float *w, long rows, long cols, float eps) {
	for (long r = 0; r < rows; r++) {
		const float *xr = x + r * cols;
		float *dr = dst + r * cols;
		float inv = 1.0f / sqrtf(rowsum(xr, cols, 0.0f, 1) / (float)cols + eps);
		long c = 0;
		for (; c + W <= cols; c += W) {
			vf y = ld(xr + c) * splat(inv);
			st(dr + c, w ? y * ld(w + c) : y);
		}
		for (; c < cols; c++) dr[c] = w ? (xr[c] * inv) * w[c] : xr[c] * inv;
	}
}

void SFX(layernorm)(float *dst, const float *x, const float *w, const float *b, long rows, long cols, float eps) {
	for (long r = 0; r < rows; r++) {
		const float *xr = x + r * cols;
		float *dr = dst + r * cols;
		float mean = rowsum(xr, cols, 0.0f, 0) / (float)cols;
		float inv = 1.0f / sqrtf(rowsum(xr, cols, mean, 1) / (float)cols + eps);
		long c = 0;
		for (; c + W <= cols; c += W) {
			vf y = (ld(xr + c) - splat(mean)) * splat(inv);
			if (w) y = y * ld(w + c);
			if (b) y = y + ld(b + c);
			st(dr + c, y);
		}
		for (; c < cols; c++) {
			float y = (xr[c] - mean) * inv;
			if (w) y = y * w[c];
			if (b) y = y + b[c];
			dr[c] = y;
		}
	}
}

// softmax_row: dst = exp(x - max) / Σ, reductions in lane order.
static void softmax_row(float *dst, const float *x, long n) {
	vf mx = splat(-INFINITY);
	long i = 0;
	for (; i + W <= n; i += W) mx = vmax(mx, ld(x + i));
	float m = hmax(mx);
	for (; i < n; i++) m = x[i] > m ? x[i] : m;
	vf acc = splat(0.0f);
	for (i = 0; i + W <= n; i += W) {
		vf e = vexp(ld(x + i) - splat(m));
		st(dst + i, e);
		acc = acc + e;
	}
	if (i < n) {
		vf v, e;
		TAIL_LOAD(v, x + i, n - i);
		e = vexp(v - splat(m));
		TAIL_STORE(dst + i, e, n - i);
		for (long j = 0; j < n - i; j++) acc[j] += e[j];
	}
	float inv = 1.0f / hsum(acc);
	for (i = 0; i + W <= n; i += W) st(dst + i, ld(dst + i) * splat(inv));
	for (; i < n; i++) dst[i] *= inv;
}

void SFX(softmax)(float *dst, const float *x, long rows, long cols) {
	for (long r = 0; r < rows; r++) softmax_row(dst + r * cols, x + r * cols, cols);
}

static inline float dot(const float *a, const float *b, long n) {
	vf acc = splat(0.0f);
	long i = 0;
	for (; i + W <= n; i += W) acc = VFMA(ld(a + i), ld(b + i), acc);
	float s = hsum(acc);
	for (; i < n; i++) s += a[i] * b[i];
	return s;
}

// attend computes one query head's output over keys 0..last. Key j is row
// key_row(j) of k/v (rows of hkv·d / hkv·dv floats), head kh.
static inline long key_row(const int32_t *pages, long page, long j) {
	return pages ? (long)pages[j / page] * page + j % page : j;
}

// AB keys (scores) and AC output vectors (values) are processed together as
// independent chains: each score and output element still runs the exact
// operation sequence of dot() / a single accumulator over j, so results do
// not depend on the blocking (nor on how many rows share a call).
#define AB 8
#define AC 8
static void attend(const float *q, const float *k, const float *v, float *o, long d, long dv, long hkv, long kh,
		   const int32_t *pages, long page, long last, float scale, float *scores) {
	long j = 0;
	if (d % W == 0) {
		for (; j + AB <= last + 1; j += AB) {
			const float *kr[AB];
			vf acc[AB];
			for (int b = 0; b < AB; b++) {
				kr[b] = k + (key_row(pages, page, j + b) * hkv + kh) * d;
				acc[b] = splat(0.0f);
			}
			for (long i = 0; i < d; i += W) {
				vf qv = ld(q + i);
				_Pragma("GCC unroll 8") for (int b = 0; b < AB; b++) acc[b] = VFMA(qv, ld(kr[b] + i), acc[b]);
			}
			float sum[AB] = {0};
			for (int l = 0; l < W; l++)
				for (int b = 0; b < AB; b++) sum[b] += acc[b][l]; // hsum's order, AB chains at once
			for (int b = 0; b < AB; b++) scores[j + b] = sum[b] * scale;
		}
	}
	for (; j <= last; j++) scores[j] = dot(q, k + (key_row(pages, page, j) * hkv + kh) * d, d) * scale;
	softmax_row(scores, scores, last + 1);
	long c = 0;
	for (; c + AC * W <= dv; c += AC * W) {
		vf acc[AC];
		for (int t = 0; t < AC; t++) acc[t] = splat(0.0f);
		for (long j = 0; j <= last; j++) {
			vf p = splat(scores[j]);
			const float *vr = v + (key_row(pages, page, j) * hkv + kh) * dv + c;
			_Pragma("GCC unroll 8") for (int t = 0; t < AC; t++) acc[t] = VFMA(p, ld(vr + t * W), acc[t]);
		}
		for (int t = 0; t < AC; t++) st(o + c + t * W, acc[t]);
	}
	for (; c + W <= dv; c += W) {
		vf acc = splat(0.0f);
		for (long j = 0; j <= last; j++) acc = VFMA(splat(scores[j]), ld(v + (key_row(pages, page, j) * hkv + kh) * dv + c), acc);
		st(o + c, acc);
	}
	for (; c < dv; c++) {
		float acc = 0.0f;
		for (long j = 0; j <= last; j++) acc += scores[j] * v[(key_row(pages, page, j) * hkv + kh) * dv + c];
		o[c] = acc;
	}
}

void SFX(attention)(const attn_args *a, long w0, long w1, float *scores) {
	const long group = a->h / a->hkv;
	for (long it = w0; it < w1; it++) {
		long i = it / a->h, h = it % a->h;
		long last = a->kvlen - 1;
		if (a->causal && a->qpos0 + i < last) last = a->qpos0 + i;
		attend(a->q + (i * a->h + h) * a->d, a->k, a->v, a->out + (i * a->h + h) * a->dv, a->d, a->dv, a->hkv,
		       h / group, NULL, 1, last, a->scale, scores);
	}
}

void SFX(paged_attention)(const pattn_args *a, long w0, long w1, float *scores) {
	const long group = a->h / a->hkv;
	for (long it = w0; it < w1; it++) {
		long r = it / a->h, h = it % a->h;
		int32_t s = a->row_seq[r];
		if (s < 0) continue;
		const int32_t *info = a->seq_info + 4 * s; // qstart, qlen, kvlen, pages offset
		long last = info[2] - info[1] + (r - info[0]);
		attend(a->q + (r * a->h + h) * a->d, a->k, a->v, a->out + (r * a->h + h) * a->dv, a->d, a->dv, a->hkv,
		       h / group, a->pages + info[3], a->page, last, a->scale, scores);
	}
}

// ---- machine probes ----

// fma_probe runs iters steps of 12 independent FMA chains and returns the
// flop count (2 per lane per FMA); the result is folded into *sink.
double SFX(fma_probe)(long iters, float *sink) {
	vf acc[12];
	for (int i = 0; i < 12; i++) acc[i] = splat((float)i * 1e-3f);
	vf x = splat(0.999999f), y = splat(1e-7f);
	for (long it = 0; it < iters; it++) {
		_Pragma("GCC unroll 12") for (int i = 0; i < 12; i++) acc[i] = VFMA(acc[i], x, y);
	}
	vf s = splat(0.0f);
	for (int i = 0; i < 12; i++) s = s + acc[i];
	*sink = hsum(s);
	return 2.0 * 12 * W * (double)iters;
}

// triad: c = a + s·b over [0, n).
void SFX(triad)(float *c, const float *a, const float *b, long n, float s) {
	long i = 0;
	for (; i + W <= n; i += W) st(c + i, VFMA(splat(s), ld(b + i), ld(a + i)));
	for (; i < n; i++) c[i] = a[i] + s * b[i];
}

// read_probe sums [0, n) with 4 independent vector chains (a streaming read).
float SFX(read_probe)(const float *a, long n) {
	vf s0 = splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
	long i = 0;
	for (; i + 4 * W <= n; i += 4 * W) {
		s0 = s0 + ld(a + i);
		s1 = s1 + ld(a + i + W);
		s2 = s2 + ld(a + i + 2 * W);
		s3 = s3 + ld(a + i + 3 * W);
	}
	float r = hsum(s0 + s1 + s2 + s3);
	for (; i < n; i++) r += a[i];
	return r;
}
