// Shared declarations of the CPU kernels (see kern.h). Layout constants are
// mirrored in cpu.go.
#ifndef SIGHTLINE_KERN_API_H
#define SIGHTLINE_KERN_API_H
#include <stdint.h>

#define NR 32              // columns per weight panel
#define QB 32              // Q8_0 block length along k
#define Q8_PANEL_BLOCK (2 * NR + QB * NR) // bytes per (panel, k-block): NR f16 scales + [QB][NR] int8
#define KC 128             // k rows per GEMM block (a multiple of QB)
#define MC (MC_MAX / MR * MR) // rows of A per GEMM block
#define MC_MAX 512         // largest MC of any level (scratch sizing)
#define SMALL_M 32         // up to this many rows: panel-streaming GEMM in the weights' dtype

enum { DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2, DT_Q8 = 3 };
enum { ACT_SILU = 0, ACT_GELU = 1, ACT_GELU_TANH = 2, ACT_QUICK_GELU = 3 };

typedef struct {
	long m, n, k;
	const float *a; long lda;   // A [m][k] row-major
	const uint8_t *w; int dt;   // packed panels: panel p at w + p*pstride
	long pstride;               // bytes per panel
	float *c; long ldc;         // C [m][n] row-major
	long p0, p1;                // panel range of this call
	float *abuf;                // scratch: MC_MAX*KC floats
	float *bbuf;                // scratch: KC*NR floats
} gemm_args;

typedef struct {
	const float *q, *k, *v; float *out;
	long tq, h, d, tk, hkv, dv, kvlen, qpos0;
	int causal; float scale;
} attn_args;

typedef struct {
	const float *q, *k, *v; float *out;
	long t, h, d, hkv, dv, page; float scale;
	const int32_t *row_seq;   // [t] sequence index of each row, -1 if none
	const int32_t *seq_info;  // [nseq][4] qstart, qlen, kvlen, offset into pages
	const int32_t *pages;
} pattn_args;

#define DECL_LEVEL(L)                                                                           \
	void gemm_##L(const gemm_args *g);                                                      \
	int gemm_mr_##L(void);                                                                  \
	void binop_##L(float *dst, const float *a, const float *b, long rows, long cols, int bcast, int mul); \
	void scale_##L(float *dst, const float *a, long n, float s);                           \
	void act_##L(float *dst, const float *x, long n, int kind);                             \
	void swiglu_##L(float *dst, const float *g, const float *u, long n);                    \
	void rmsnorm_##L(float *dst, const float *x, const float *w, long rows, long cols, float eps); \
	void layernorm_##L(float *dst, const float *x, const float *w, const float *b, long rows, long cols, float eps); \
	void softmax_##L(float *dst, const float *x, long rows, long cols);                     \
	void attention_##L(const attn_args *a, long w0, long w1, float *scores);                \
	void paged_attention_##L(const pattn_args *a, long w0, long w1, float *scores);         \
	double fma_probe_##L(long iters, float *sink);                                         \
	void triad_##L(float *c, const float *a, const float *b, long n, float s);            \
	float read_probe_##L(const float *a, long n);

DECL_LEVEL(scalar)
DECL_LEVEL(avx2)
DECL_LEVEL(avx2w16)
DECL_LEVEL(avx512)

void rope_apply(float *dst, const float *x, long t, long h, long d, long dims, int adjacent,
		const float *cos, const float *sin);
void pack_panels(int dt, const uint8_t *src, long n, long k, uint8_t *dst);
#endif
