// Shared declarations of the CPU kernels (see kern.h). Layout constants are
// mirrored in cpu.go.
#ifndef SIGHTLINE_KERN_API_H
#define SIGHTLINE_KERN_API_H
#include <stdint.h>

#define NR 32              // columns per weight panel
#define KC 128             // k rows per GEMM block
#define MC (MC_MAX / MR * MR) // rows of A per GEMM block
#define MC_MAX 512         // largest MC of any level (scratch sizing)
#define SMALL_M 32         // up to this many rows: panel-streaming GEMM in the weights' dtype

enum { DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2 };
// Block-quantised weights: tensor.DType values (checked by a test).
enum { QT_Q8_0 = 3, QT_Q4_0, QT_Q4_1, QT_Q5_0, QT_Q5_1, QT_Q2_K, QT_Q3_K, QT_Q4_K, QT_Q5_K, QT_Q6_K, QT_IQ4_NL, QT_IQ4_XS };
#define QMC_BYTES (256 * 1024) // quantised activation rows per GEMM row block (bytes, ≈ L2)
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

// MatMul with a block-quantised weight (kern_q.h).
typedef struct {
	int dt; long m, k;
	const uint8_t *w; long rowbytes; // weight [n][k] in ggml blocks, row r at w + r·rowbytes
	long c0, c1;                     // output columns (weight rows) of this call
	const int8_t *xq;                // activations [m][nbp·32] (QuantizeAct codes, zero padded)
	const float *xd, *xs;            // block scales [m][nbp], half sums [m][nhp]
	long nbp, nhp;                   // blocks and halves per row, padded per level (qgeom)
	float *c; long ldc;              // C [m][ldc]
} qgemm_args;

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
	float read_probe_##L(const float *a, long n);                                        \
	void qgemm_##L(const qgemm_args *g, float *scr);                                       \
	int qgeom_##L(int what);                                                               \
	void qact_rows_##L(const float *a, long lda, long k, long r0, long r1, int8_t *xq, float *xd, float *xs, \
			   long nbp, long nhp);

DECL_LEVEL(scalar)
DECL_LEVEL(avx2)
DECL_LEVEL(avx2w16)
DECL_LEVEL(avx512)

void rope_apply(float *dst, const float *x, long t, long h, long d, long dims, int adjacent,
		const float *cos, const float *sin);
void pack_panels(int dt, const uint8_t *src, long n, long k, uint8_t *dst);
#endif
