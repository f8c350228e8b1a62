// Package cpu is the optimised CPU backend: C kernels (kern.h) compiled per
// dispatch level — AVX-512, AVX2+FMA+F16C and a portable scalar level — chosen
// at run time from the CPU's features, and a Go worker pool that splits every
// op over output rows or columns, never over a reduction, so results are
// bit-identical for any thread count. It registers itself as "cpu" and needs
// cgo; without cgo this package is empty and the "ref" backend is used.
//
// MatMul weights are repacked into panels of NR = 32 output rows:
//
//	F32/F16/BF16: panel p = [k][32] elements; element (row 32p+l, col j) at j·32+l
//	Q8_0:         panel p = k/32 blocks of [32 f16 scales][32 k][32 lanes int8]
//
// so a GEMV streams each panel contiguously and the GEMM micro-kernel reads the
// same layout: every output element is one fused multiply-add chain over k in
// order, whatever m is (batch invariance).
package cpu
