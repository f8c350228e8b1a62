package media

import (
	"math"
	"math/bits"
)

// Discrete Fourier transforms for the resampler, unnormalised:
// X[k] = Σ_j x[j]·exp(∓2πi·jk/n), minus sign forward.

// twiddles returns exp(sign·2πi·k/n) for k < n/2.
func twiddles(n int, sign float64) []complex128 {
	tw := make([]complex128, n/2)
	for k := range tw {
		s, c := math.Sincos(sign * 2 * math.Pi * float64(k) / float64(n))
		tw[k] = complex(c, s)
	}
	return tw
}

// fftPow2 is an in-place iterative FFT (radix-4 stages, one radix-2 stage
// when log2 n is odd) on bit-reversed input; len(x) is a power of two and
// tw = twiddles(len(x), sign). A radix-4 stage joins four consecutive
// size-q blocks B0..B3 (DFTs of x[4j], x[4j+2], x[4j+1], x[4j+3]) with
// W = exp(sign·2πi·k/4q), a = B0, b = W²B1, c = W·B2, d = W³B3, j = sign·i:
//
//	Y[k] = a+b + (c+d)    Y[k+q] = a-b + j(c-d)
//	Y[k+2q] = a+b - (c+d) Y[k+3q] = a-b - j(c-d)
func fftPow2(x, tw []complex128) {
	n := len(x)
	if n <= 1 {
		return
	}
	lg := bits.TrailingZeros(uint(n))
	shift := 64 - uint(lg)
	for i := range n {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	q := 1
	if lg%2 == 1 {
		for s := 0; s < n; s += 2 {
			a, b := x[s], x[s+1]
			x[s], x[s+1] = a+b, a-b
		}
		q = 2
	}
	// j·z for j = sign·i: sign is encoded in tw[n/4] (= exp(sign·iπ/2)).
	var jm complex128
	if n >= 4 {
		jm = tw[n/4]
	}
	for ; q < n; q *= 4 {
		step := n / (4 * q)
		for s := 0; s < n; s += 4 * q {
			blk := x[s : s+4*q]
			for k := range q {
				w := tw[k*step]
				w2 := w * w
				a, b := blk[k], blk[k+q]*w2
				c, d := blk[k+2*q]*w, blk[k+3*q]*w2*w
				apb, amb := a+b, a-b
				cpd, cmd := c+d, (c-d)*jm
				blk[k], blk[k+q], blk[k+2*q], blk[k+3*q] = apb+cpd, amb+cmd, apb-cpd, amb-cmd
			}
		}
	}
}

// dftPrefix returns the first k outputs of the length-n DFT of in(0..n-1).
// Powers of two use radix-2 directly. Other lengths use Bluestein's chirp-z
// form X[k] = w[k]·Σ_j (x[j]·w[j])·conj(w[k-j]), w[t] = exp(∓iπt²/n), as a
// circular convolution of size M ≥ n+k-1 (a power of two). Transient memory
// is about 3·M complex values.
//
//	conv index:  0 … k-1 | zeros | M-(n-1) … M-1
//	chirp lag t: 0 … k-1 |       | -(n-1) … -1
func dftPrefix(in func(j int) complex128, n, k int, inverse bool) []complex128 {
	sign := -1.0
	if inverse {
		sign = 1
	}
	if n&(n-1) == 0 {
		x := make([]complex128, n)
		for j := range x {
			x[j] = in(j)
		}
		fastFFT(x, sign, nil)
		return x[:k]
	}
	m := 1 << bits.Len(uint(n+k-2))
	chirp := func(t int) complex128 {
		tt := (uint64(t) * uint64(t)) % uint64(2*n) // exact angle for large t
		s, c := math.Sincos(sign * math.Pi * float64(tt) / float64(n))
		return complex(c, s)
	}
	a := make([]complex128, m)
	for j := range n {
		a[j] = in(j) * chirp(j)
	}
	b := make([]complex128, m)
	for t := 0; t < k; t++ {
		b[t] = conj(chirp(t))
	}
	for t := 1; t < n; t++ {
		b[m-t] = conj(chirp(t))
	}
	if m >= fourStepMin {
		scratch := make([]complex128, m)
		fwd := newFourStep(m, -1, scratch)
		fwd.fwd(a)
		fwd.fwd(b)
		for i := range a {
			a[i] *= b[i]
		}
		b = nil
		newFourStep(m, 1, scratch).inv(a)
	} else {
		fwd, inv := twiddles(m, -1), twiddles(m, 1)
		fftPow2(a, fwd)
		fftPow2(b, fwd)
		for i := range a {
			a[i] *= b[i]
		}
		fftPow2(a, inv)
	}
	scale := 1 / float64(m)
	out := a[:k]
	for t := range out {
		out[t] *= complex(scale, 0) * chirp(t)
	}
	return out
}

func conj(c complex128) complex128 { return complex(real(c), -imag(c)) }

// fourStepMin is the size from which transforms are split into cache-sized
// sub-transforms (four-step algorithm).
const fourStepMin = 1 << 14

// fourStep splits N = N1·N2 (N1 = 2^⌊log2 N / 2⌋). With x[N2·n1 + n2] and
// X[k1 + N1·k2]:
//
//	X = Σ_n2 ω_N2^(n2·k2) · ω_N^(n2·k1) · Σ_n1 x·ω_N1^(n1·k1)
//
// fwd leaves X "permuted", in row-major [k1][k2] order (no final
// transpose); inv takes that order back to natural x. A convolution
// (pointwise product between fwd and inv) never needs the natural order.
type fourStep struct {
	n, n1, n2 int
	tw1, tw2  []complex128 // twiddles(n1), twiddles(n2), for sign
	sign      float64
	scratch   []complex128
}

func newFourStep(n int, sign float64, scratch []complex128) *fourStep {
	lg := bits.TrailingZeros(uint(n))
	n1 := 1 << (lg / 2)
	if len(scratch) < n {
		scratch = make([]complex128, n)
	}
	return &fourStep{n: n, n1: n1, n2: n / n1, tw1: twiddles(n1, sign), tw2: twiddles(n/n1, sign), sign: sign, scratch: scratch[:n]}
}

// mulTwiddle multiplies row[c] by exp(sign·2πi·r·c/N), re-anchoring the
// recurrence every 64 steps against drift.
func (f *fourStep) mulTwiddle(row []complex128, r int) {
	s, c := math.Sincos(f.sign * 2 * math.Pi * float64(r) / float64(f.n))
	step := complex(c, s)
	var w complex128
	for k := range row {
		if k&63 == 0 {
			s, c := math.Sincos(f.sign * 2 * math.Pi * float64(r*k) / float64(f.n))
			w = complex(c, s)
		}
		row[k] *= w
		w *= step
	}
}

// fwd transforms x in place into permuted [k1][k2] order.
func (f *fourStep) fwd(x []complex128) {
	t := f.scratch
	transpose(t, x, f.n1, f.n2) // t[n2][n1]
	for r := 0; r < f.n2; r++ {
		row := t[r*f.n1 : (r+1)*f.n1]
		fftPow2(row, f.tw1) // over n1 → t[n2][k1]
		f.mulTwiddle(row, r)
	}
	transpose(x, t, f.n2, f.n1) // x[k1][n2]
	for r := 0; r < f.n1; r++ {
		fftPow2(x[r*f.n2:(r+1)*f.n2], f.tw2) // over n2 → x[k1][k2]
	}
}

// inv transforms permuted [k1][k2] input in place into natural order (with
// the sign it was built with: +1 for an inverse transform).
func (f *fourStep) inv(x []complex128) {
	t := f.scratch
	for r := 0; r < f.n1; r++ {
		row := x[r*f.n2 : (r+1)*f.n2]
		fftPow2(row, f.tw2)  // over k2 → x[k1][n2]
		f.mulTwiddle(row, r) // exp(sign·2πi·n2·k1/N), row r = k1

	}
	transpose(t, x, f.n1, f.n2) // t[n2][k1]
	for r := 0; r < f.n2; r++ {
		fftPow2(t[r*f.n1:(r+1)*f.n1], f.tw1) // over k1 → t[n2][n1]
	}
	transpose(x, t, f.n2, f.n1) // x[n1][n2] = x[N2·n1 + n2]
}

// fastFFT is an in-place power-of-two FFT in natural order.
func fastFFT(x []complex128, sign float64, scratch []complex128) {
	n := len(x)
	if n < fourStepMin {
		fftPow2(x, twiddles(n, sign))
		return
	}
	f := newFourStep(n, sign, scratch)
	f.fwd(x)
	transpose(f.scratch, x, f.n1, f.n2) // [k2][k1]: X[k1 + N1·k2]
	copy(x, f.scratch)
}

// transpose writes the rows×cols matrix src into dst as cols×rows, in
// cache-sized blocks.
func transpose(dst, src []complex128, rows, cols int) {
	const blk = 32
	for r0 := 0; r0 < rows; r0 += blk {
		for c0 := 0; c0 < cols; c0 += blk {
			for r := r0; r < min(r0+blk, rows); r++ {
				for c := c0; c < min(c0+blk, cols); c++ {
					dst[c*rows+r] = src[r*cols+c]
				}
			}
		}
	}
}
