#ifndef SIGHTLINE_KERN_DISPATCH_H
#define SIGHTLINE_KERN_DISPATCH_H
#include "kern_api.h"

enum { LEVEL_SCALAR = 0, LEVEL_AVX2 = 1, LEVEL_AVX2W16 = 2, LEVEL_AVX512 = 3 };

int k_mr(int level);
double k_fma_probe(int level, long iters, float *sink);
float k_read(int level, const float *a, long n);
void k_triad(int level, float *c, const float *a, const float *b, long n, float s);
void k_gemm(int level, const gemm_args *g);
void k_binop(int level, float *dst, const float *a, const float *b, long rows, long cols, int bcast, int mul);
void k_scale(int level, float *dst, const float *a, long n, float s);
void k_act(int level, float *dst, const float *x, long n, int kind);
void k_swiglu(int level, float *dst, const float *g, const float *u, long n);
void k_rmsnorm(int level, float *dst, const float *x, const float *w, long rows, long cols, float eps);
void k_layernorm(int level, float *dst, const float *x, const float *w, const float *b, long rows, long cols, float eps);
void k_softmax(int level, float *dst, const float *x, long rows, long cols);
void k_attention(int level, const attn_args *a, long w0, long w1, float *scores);
// Flat-argument wrappers for Go (cgo may not pass Go memory holding Go pointers).
void gemm_call(int level, long m, long n, long k, const float *a, long lda, const uint8_t *w, int dt,
	       long pstride, float *c, long ldc, long p0, long p1, float *abuf, float *bbuf);
void attn_call(int level, const float *q, const float *k, const float *v, float *out, long tq, long h,
	       long d, long tk, long hkv, long dv, long kvlen, long qpos0, int causal, float scale,
	       long w0, long w1, float *scores);
void pattn_call(int level, const float *q, const float *k, const float *v, float *out, long t, long h, long d,
		long hkv, long dv, long page, float scale, const int32_t *row_seq, const int32_t *seq_info,
		const int32_t *pages, long w0, long w1, float *scores);
int k_qgeom(int level, int what); // 0: blocks per step, 1: lanes per step, 2: GEMM tile columns, 3: GEMV columns
void qact_call(int level, const float *a, long lda, long k, long r0, long r1, int8_t *xq, float *xd, float *xs,
	       long nbp, long nhp);
// qgemm_call computes output columns [0, n) in chunks of chunk columns, each
// taken from the shared counter *next (so threads that run faster take more).
void qgemm_call(int level, int dt, long m, long k, const uint8_t *w, long rowbytes, long n, long chunk, long *next,
		const int8_t *xq, const float *xd, const float *xs, long nbp, long nhp, float *c, long ldc, float *scr);
#endif
