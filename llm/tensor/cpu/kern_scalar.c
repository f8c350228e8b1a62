//go:build cgo

// Portable scalar level: one lane, plain C arithmetic (no FMA), 1×32 tile.
#define W 1
#define MR 1
#define SFX(n) n##_scalar
#define VFMA(a, b, c) ((a) * (b) + (c))
#include "kern.h"
