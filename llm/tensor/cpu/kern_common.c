//go:build cgo

// Level-independent kernels: weight packing and RoPE application.
#include <string.h>
#include "kern_api.h"

static long elem_bytes(int dt) { return dt == DT_F32 ? 4 : 2; }

// pack_panels rearranges a row-major weight [n][k] (GGUF blocks along k) into
// panels of NR rows (see cpu.go for the layout); missing rows are zero.
void pack_panels(int dt, const uint8_t *src, long n, long k, uint8_t *dst) {
	long np = (n + NR - 1) / NR;
	long es = elem_bytes(dt);
	for (long p = 0; p < np; p++) {
		uint8_t *pan = dst + p * k * NR * es;
		memset(pan, 0, k * NR * es);
		for (long l = 0; l < NR && p * NR + l < n; l++) {
			const uint8_t *s = src + (p * NR + l) * k * es;
			for (long j = 0; j < k; j++) memcpy(pan + (j * NR + l) * es, s + j * es, es);
		}
	}
}

// rope_apply rotates x [t][h][d] into dst with per-token cos/sin [t][dims/2].
void rope_apply(float *dst, const float *x, long t, long h, long d, long dims, int adjacent,
		const float *cos, const float *sin) {
	long half = dims / 2;
	for (long ti = 0; ti < t; ti++) {
		const float *c = cos + ti * half, *s = sin + ti * half;
		for (long hi = 0; hi < h; hi++) {
			const float *xr = x + (ti * h + hi) * d;
			float *dr = dst + (ti * h + hi) * d;
			if (dr != xr) memcpy(dr + dims, xr + dims, (d - dims) * sizeof(float));
			for (long i = 0; i < half; i++) {
				long a = adjacent ? 2 * i : i, b = adjacent ? 2 * i + 1 : i + half;
				float x0 = xr[a], x1 = xr[b];
				dr[a] = x0 * c[i] - x1 * s[i];
				dr[b] = x0 * s[i] + x1 * c[i];
			}
		}
	}
}
