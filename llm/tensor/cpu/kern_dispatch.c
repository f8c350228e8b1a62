//go:build cgo

// Dispatch from a level number (cpu.go's Level) to that level's kernels.
#include "kern_api.h"
#include "kern_dispatch.h"

#if defined(__x86_64__)
#define PICK(fn, ...)                                           \
	switch (level) {                                        \
	case LEVEL_AVX512: fn##_avx512(__VA_ARGS__); break;     \
	case LEVEL_AVX2W16: fn##_avx2w16(__VA_ARGS__); break;   \
	case LEVEL_AVX2: fn##_avx2(__VA_ARGS__); break;         \
	default: fn##_scalar(__VA_ARGS__);                      \
	}
#else
#define PICK(fn, ...) fn##_scalar(__VA_ARGS__)
#endif

int k_mr(int level) {
#if defined(__x86_64__)
	switch (level) {
	case LEVEL_AVX512: return gemm_mr_avx512();
	case LEVEL_AVX2W16: return gemm_mr_avx2w16();
	case LEVEL_AVX2: return gemm_mr_avx2();
	}
#endif
	(void)level;
	return gemm_mr_scalar();
}
double k_fma_probe(int level, long iters, float *sink) {
#if defined(__x86_64__)
	switch (level) {
	case LEVEL_AVX512: return fma_probe_avx512(iters, sink);
	case LEVEL_AVX2W16: return fma_probe_avx2w16(iters, sink);
	case LEVEL_AVX2: return fma_probe_avx2(iters, sink);
	}
#endif
	return fma_probe_scalar(iters, sink);
}
float k_read(int level, const float *a, long n) {
#if defined(__x86_64__)
	switch (level) {
	case LEVEL_AVX512: return read_probe_avx512(a, n);
	case LEVEL_AVX2W16: return read_probe_avx2w16(a, n);
	case LEVEL_AVX2: return read_probe_avx2(a, n);
	}
#endif
	return read_probe_scalar(a, n);
}
void k_triad(int level, float *c, const float *a, const float *b, long n, float s) { PICK(triad, c, a, b, n, s) }
void k_gemm(int level, const gemm_args *g) { PICK(gemm, g) }
void k_binop(int level, float *dst, const float *a, const float *b, long rows, long cols, int bcast, int mul) {
	PICK(binop, dst, a, b, rows, cols, bcast, mul)
}
void k_scale(int level, float *dst, const float *a, long n, float s) { PICK(scale, dst, a, n, s) }
void k_act(int level, float *dst, const float *x, long n, int kind) { PICK(act, dst, x, n, kind) }
void k_swiglu(int level, float *dst, const float *g, const float *u, long n) { PICK(swiglu, dst, g, u, n) }
void k_rmsnorm(int level, float *dst, const float *x, const float *w, long rows, long cols, float eps) {
	PICK(rmsnorm, dst, x, w, rows, cols, eps)
}
void k_layernorm(int level, float *dst, const float *x, const float *w, const float *b, long rows, long cols, float eps) {
	PICK(layernorm, dst, x, w, b, rows, cols, eps)
}
void k_softmax(int level, float *dst, const float *x, long rows, long cols) { PICK(softmax, dst, x, rows, cols) }
void k_attention(int level, const attn_args *a, long w0, long w1, float *scores) { PICK(attention, a, w0, w1, scores) }

void gemm_call(int level, long m, long n, long k, const float *a, long lda, const uint8_t *w, int dt,
	       long pstride, float *c, long ldc, long p0, long p1, float *abuf, float *bbuf) {
	gemm_args g = {m, n, k, a, lda, w, dt, pstride, c, ldc, p0, p1, abuf, bbuf};
	k_gemm(level, &g);
}

void attn_call(int level, const float *q, const float *k, const float *v, float *out, long tq, long h,
	       long d, long tk, long hkv, long dv, long kvlen, long qpos0, int causal, float scale,
	       long w0, long w1, float *scores) {
	attn_args a = {q, k, v, out, tq, h, d, tk, hkv, dv, kvlen, qpos0, causal, scale};
	k_attention(level, &a, w0, w1, scores);
}

void pattn_call(int level, const float *q, const float *k, const float *v, float *out, long t, long h, long d,
		long hkv, long dv, long page, float scale, const int32_t *row_seq, const int32_t *seq_info,
		const int32_t *pages, long w0, long w1, float *scores) {
	pattn_args a = {q, k, v, out, t, h, d, hkv, dv, page, scale, row_seq, seq_info, pages};
	PICK(paged_attention, &a, w0, w1, scores)
}

int k_qgeom(int level, int what) {
#if defined(__x86_64__)
	switch (level) {
	case LEVEL_AVX512: return qgeom_avx512(what);
	case LEVEL_AVX2W16: return qgeom_avx2w16(what);
	case LEVEL_AVX2: return qgeom_avx2(what);
	}
#endif
	(void)level;
	return qgeom_scalar(what);
}

void qact_call(int level, const float *a, long lda, long k, long r0, long r1, int8_t *xq, float *xd, float *xs,
	       long nbp, long nhp) {
	PICK(qact_rows, a, lda, k, r0, r1, xq, xd, xs, nbp, nhp)
}

void qgemm_call(int level, int dt, long m, long k, const uint8_t *w, long rowbytes, long n, long chunk, long *next,
		const int8_t *xq, const float *xd, const float *xs, long nbp, long nhp, float *c, long ldc, float *scr) {
	qgemm_args g = {dt, m, k, w, rowbytes, 0, 0, xq, xd, xs, nbp, nhp, c, ldc};
	for (;;) {
		long c0 = __atomic_fetch_add(next, chunk, __ATOMIC_RELAXED);
		if (c0 >= n) return;
		g.c0 = c0;
		g.c1 = c0 + chunk < n ? c0 + chunk : n;
		PICK(qgemm, &g, scr)
	}
}
