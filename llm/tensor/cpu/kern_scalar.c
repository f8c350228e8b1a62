//go:build cgo

// Portable scalar level: one lane, plain C arithmetic (no FMA), 1×32 tile.
#define W 1
#define MR 1
#define SFX(n) n##_scalar
#define VFMA(a, b, c) ((a) * (b) + (c))
#include "kern.h"

// Quantised kernels: one block per step, one lane per 16-half.
#define QBPS 1
#define QVL 2
#define QMR 1
#define QGC 1 // GEMV columns interleaved
#define QNC 1
#define QDOT(w, x) ({ qub _dw = (w); qsb _dx = (x); qi _r = {0, 0}; \
	for (int _j = 0; _j < 32; _j++) _r[_j / 16] += (int32_t)_dw[_j] * _dx[_j]; _r; })
#define QSIGN(x, s) ({ qsb _gx = (x), _gs = (s); for (int _j = 0; _j < 32; _j++) if (_gs[_j] < 0) _gx[_j] = -_gx[_j]; _gx; })
#include "kern_q.h"
