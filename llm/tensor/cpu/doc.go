// Package cpu is the optimised CPU backend: C kernels (kern.h, kern_q.h)
// compiled per dispatch level — AVX-512, AVX2+FMA+F16C and a portable scalar
// level — chosen at run time from the CPU's features, and a Go worker pool that
// splits every op over output rows or columns, never over a reduction, so
// results are bit-identical for any thread count. It registers itself as "cpu"
// and needs cgo; without cgo this package is empty and the "ref" backend is used.
//
// F32, F16 and BF16 MatMul weights are repacked into panels of NR = 32 output
// rows: panel p = [k][32] elements, element (row 32p+l, col j) at j·32+l, so a
// GEMV streams each panel contiguously and the GEMM micro-kernel reads the
// same layout: every output element is one fused multiply-add chain over k in
// order, whatever m is (batch invariance).
//
// Block-quantised weights (Q4_0 … Q8_0, Q2_K … Q6_K, IQ4_NL, IQ4_XS) stay in
// ggml's row-major blocks, unpacked in registers or per column tile. Their
// MatMul quantises each activation row on the fly to int8 in blocks of 32
// (tensor.QuantizeAct: scale max|x|/127, round to nearest even) and computes
// integer dot products per 32-block (vpmaddubsw/vpmaddwd on x86), scaled in
// float32 by weight scale × activation scale; a block's codes are unsigned with
// a per-16 min term (Σ min·Σx, from per-half activation sums) or, for Q8_0,
// Q5_0 and the IQ4 codebooks, signed through the sign trick. The decode GEMV
// hands out column chunks from a shared counter (a thread the host slows takes
// fewer) and prefetches the next columns' rows, which short rows (k = 896)
// otherwise leave to a hardware prefetcher that has not yet caught on. This is how llama.cpp
// computes quantised matrices on the CPU, and it is what makes a 4-bit decode
// step cheaper than an 8-bit one; the price is the activation rounding:
// against the same model with its weights dequantised to F32, logits move by
// under 2% of the largest logit with correlation > 0.9998 (llm/model/llama's
// twin tests). The reference backend quantises activations identically, so the
// kernels are checked against it to float32 rounding, and every output element
// is still one fixed sequence of operations over k (kern_q.h): GEMV, small-m
// and prefill paths give the same bits.
package cpu
