package tensor

import "fmt"

// The Check functions validate op arguments for every backend, so that all
// backends reject the same inputs with the same errors. They never panic.

func shapeErr(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrShape, op, fmt.Sprintf(format, args...))
}

// act checks that t is a usable row-major F32 activation.
func act(op, name string, t *Tensor) error {
	if t == nil {
		return shapeErr(op, "%s is nil", name)
	}
	if t.DType != F32 {
		return fmt.Errorf("%w: %s: %s is %v, want F32", ErrDType, op, name, t.DType)
	}
	if t.Layout != RowMajor {
		return shapeErr(op, "%s is not row-major", name)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return shapeErr(op, "%s has negative dimension %v", name, t.Shape)
		}
	}
	n, err := ByteSize(F32, t.Shape)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", op, name, err)
	}
	if t.Dev == nil && len(t.Data) < n {
		return shapeErr(op, "%s %v needs %d bytes, has %d", name, t.Shape, n, len(t.Data))
	}
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// weight checks a MatMul/Gather weight and returns its [rows, cols] view.
func weight(op, name string, w *Tensor) (rows, cols int, err error) {
	if w == nil {
		return 0, 0, shapeErr(op, "%s is nil", name)
	}
	if !w.DType.Valid() {
		return 0, 0, fmt.Errorf("%w: %s: %s has dtype %v", ErrDType, op, name, w.DType)
	}
	if len(w.Shape) < 2 {
		return 0, 0, shapeErr(op, "%s must have rank ≥ 2, has %v", name, w.Shape)
	}
	rows, cols = w.Shape[0], 1
	for _, d := range w.Shape[1:] {
		if d < 0 || (d != 0 && cols > maxElems/d) {
			return 0, 0, shapeErr(op, "%s has bad shape %v", name, w.Shape)
		}
		cols *= d
	}
	if rows < 0 {
		return 0, 0, shapeErr(op, "%s has bad shape %v", name, w.Shape)
	}
	size, err := ByteSize(w.DType, []int{rows, cols})
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %s: %w", op, name, err)
	}
	if w.Layout == RowMajor && w.Dev == nil && len(w.Data) < size {
		return 0, 0, shapeErr(op, "%s %v %v needs %d bytes, has %d", name, w.DType, w.Shape, size, len(w.Data))
	}
	return rows, cols, nil
}

// CheckMatMul validates dst[m,n] = a[m,k]·w[n,k]ᵀ.
func CheckMatMul(dst, a, w *Tensor) (m, n, k int, err error) {
	const op = "MatMul"
	if err = act(op, "a", a); err != nil {
		return
	}
	if err = act(op, "dst", dst); err != nil {
		return
	}
	if n, k, err = weight(op, "w", w); err != nil {
		return
	}
	if a.Cols() != k {
		return 0, 0, 0, shapeErr(op, "a %v has %d columns, w %v wants k=%d", a.Shape, a.Cols(), w.Shape, k)
	}
	m = a.Rows()
	if dst.Rows() != m || dst.Cols() != n {
		return 0, 0, 0, shapeErr(op, "dst %v, want [%d %d]", dst.Shape, m, n)
	}
	return m, n, k, nil
}

// CheckBinary validates an elementwise op with optional row broadcast of b.
func CheckBinary(op string, dst, a, b *Tensor) (rows, cols int, bcast bool, err error) {
	for _, x := range []struct {
		n string
		t *Tensor
	}{{"dst", dst}, {"a", a}, {"b", b}} {
		if err = act(op, x.n, x.t); err != nil {
			return
		}
	}
	if !sameShape(dst.Shape, a.Shape) {
		return 0, 0, false, shapeErr(op, "dst %v differs from a %v", dst.Shape, a.Shape)
	}
	rows, cols = a.Rows(), a.Cols()
	switch {
	case sameShape(a.Shape, b.Shape):
	case b.Len() == cols && b.Cols() == cols:
		bcast = true
	default:
		return 0, 0, false, shapeErr(op, "b %v is neither a's shape %v nor [%d]", b.Shape, a.Shape, cols)
	}
	return rows, cols, bcast, nil
}

// CheckUnary validates dst and x of the same shape; it returns the element count.
func CheckUnary(op string, dst, x *Tensor) (int, error) {
	if err := act(op, "x", x); err != nil {
		return 0, err
	}
	if err := act(op, "dst", dst); err != nil {
		return 0, err
	}
	if !sameShape(dst.Shape, x.Shape) {
		return 0, shapeErr(op, "dst %v differs from x %v", dst.Shape, x.Shape)
	}
	return x.Len(), nil
}

// CheckAct also validates the activation kind.
func CheckAct(dst, x *Tensor, f Activation) (int, error) {
	if int(f) >= len(actNames) {
		return 0, shapeErr("Act", "unknown activation %d", f)
	}
	return CheckUnary("Act", dst, x)
}

// CheckNorm validates a per-row norm with optional weight and bias of [cols].
func CheckNorm(op string, dst, x, w, b *Tensor) (rows, cols int, err error) {
	if _, err = CheckUnary(op, dst, x); err != nil {
		return
	}
	rows, cols = x.Rows(), x.Cols()
	for _, p := range []struct {
		n string
		t *Tensor
	}{{"w", w}, {"b", b}} {
		if p.t == nil {
			continue
		}
		if err = act(op, p.n, p.t); err != nil {
			return
		}
		if p.t.Len() != cols {
			return 0, 0, shapeErr(op, "%s %v, want [%d]", p.n, p.t.Shape, cols)
		}
	}
	return rows, cols, nil
}

// CheckRoPE validates RoPE arguments and returns x's [T, H, D].
func CheckRoPE(dst, x *Tensor, pos []int32, p RoPE) (T, H, D int, err error) {
	const op = "RoPE"
	if _, err = CheckUnary(op, dst, x); err != nil {
		return
	}
	if len(x.Shape) != 3 {
		return 0, 0, 0, shapeErr(op, "x %v must be [T, H, D]", x.Shape)
	}
	T, H, D = x.Shape[0], x.Shape[1], x.Shape[2]
	if p.Dims <= 0 || p.Dims%2 != 0 || p.Dims > D {
		return 0, 0, 0, shapeErr(op, "rotary dims %d must be even and in (0, %d]", p.Dims, D)
	}
	if p.Mode > RoPEVision {
		return 0, 0, 0, shapeErr(op, "unknown mode %d", p.Mode)
	}
	if p.Freqs != nil && len(p.Freqs) != p.Dims/2 {
		return 0, 0, 0, shapeErr(op, "%d frequencies for %d pairs", len(p.Freqs), p.Dims/2)
	}
	if p.Freqs == nil && !(p.Base > 0) {
		return 0, 0, 0, shapeErr(op, "base %v must be > 0", p.Base)
	}
	if p.Mode == RoPEMulti || p.Mode == RoPEVision {
		sum := 0
		for _, s := range p.Sections {
			if s < 0 {
				return 0, 0, 0, shapeErr(op, "negative section in %v", p.Sections)
			}
			sum += s
		}
		if len(p.Sections) == 0 || sum != p.Dims/2 {
			return 0, 0, 0, shapeErr(op, "sections %v must sum to %d pairs", p.Sections, p.Dims/2)
		}
	}
	if want := T * p.Streams(); len(pos) != want {
		return 0, 0, 0, shapeErr(op, "%d positions, want %d (%d tokens × %d streams)", len(pos), want, T, p.Streams())
	}
	return T, H, D, nil
}

// CheckGather validates an embedding lookup and returns the row width.
func CheckGather(dst, table *Tensor, ids []int32) (d int, err error) {
	const op = "Gather"
	if err = act(op, "dst", dst); err != nil {
		return
	}
	rows, cols, err := weight(op, "table", table)
	if err != nil {
		return 0, err
	}
	if dst.Rows() != len(ids) || dst.Cols() != cols {
		return 0, shapeErr(op, "dst %v, want [%d %d]", dst.Shape, len(ids), cols)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= rows {
			return 0, shapeErr(op, "id %d at %d out of range [0, %d)", id, i, rows)
		}
	}
	return cols, nil
}

// CheckSetRows validates dst[rows[i],:] = src[i,:].
func CheckSetRows(dst *Tensor, rows []int32, src *Tensor) error {
	const op = "SetRows"
	if err := act(op, "dst", dst); err != nil {
		return err
	}
	if err := act(op, "src", src); err != nil {
		return err
	}
	if src.Rows() != len(rows) || src.Cols() != dst.Cols() {
		return shapeErr(op, "src %v, want [%d %d]", src.Shape, len(rows), dst.Cols())
	}
	for i, r := range rows {
		if r < 0 || int(r) >= dst.Rows() {
			return shapeErr(op, "row %d at %d out of range [0, %d)", r, i, dst.Rows())
		}
	}
	return nil
}

// CheckConcat validates a concatenation and returns the sizes it needs:
// outer = product of dims before axis, inner[i] = src i's elements per outer index.
func CheckConcat(dst *Tensor, axis int, srcs []*Tensor) (outer int, inner []int, err error) {
	const op = "Concat"
	if err = act(op, "dst", dst); err != nil {
		return
	}
	if axis < 0 || axis >= len(dst.Shape) {
		return 0, nil, shapeErr(op, "axis %d out of range for dst %v", axis, dst.Shape)
	}
	total := 0
	for i, s := range srcs {
		if err = act(op, fmt.Sprintf("srcs[%d]", i), s); err != nil {
			return
		}
		if len(s.Shape) != len(dst.Shape) {
			return 0, nil, shapeErr(op, "srcs[%d] %v has rank ≠ dst %v", i, s.Shape, dst.Shape)
		}
		for d := range s.Shape {
			if d != axis && s.Shape[d] != dst.Shape[d] {
				return 0, nil, shapeErr(op, "srcs[%d] %v differs from dst %v off axis %d", i, s.Shape, dst.Shape, axis)
			}
		}
		total += s.Shape[axis]
	}
	if total != dst.Shape[axis] {
		return 0, nil, shapeErr(op, "sources sum to %d along axis %d, dst has %d", total, axis, dst.Shape[axis])
	}
	outer = 1
	for _, d := range dst.Shape[:axis] {
		outer *= d
	}
	rest := 1
	for _, d := range dst.Shape[axis+1:] {
		rest *= d
	}
	for _, s := range srcs {
		inner = append(inner, s.Shape[axis]*rest)
	}
	return outer, inner, nil
}

// Conv1DShape is the geometry of a 1-D convolution.
type Conv1DShape struct{ T, C, K, OC, TOut, Stride, Pad int }

// CheckConv1D validates Conv1D arguments.
func CheckConv1D(dst, x, w, b *Tensor, stride, pad int) (s Conv1DShape, err error) {
	const op = "Conv1D"
	if err = act(op, "x", x); err != nil {
		return
	}
	if err = act(op, "dst", dst); err != nil {
		return
	}
	if len(x.Shape) != 2 {
		return s, shapeErr(op, "x %v must be [T, C]", x.Shape)
	}
	if _, _, err = weight(op, "w", w); err != nil {
		return
	}
	if len(w.Shape) != 3 {
		return s, shapeErr(op, "w %v must be [OC, C, K]", w.Shape)
	}
	s = Conv1DShape{T: x.Shape[0], C: x.Shape[1], OC: w.Shape[0], K: w.Shape[2], Stride: stride, Pad: pad}
	if w.Shape[1] != s.C {
		return s, shapeErr(op, "w %v has %d input channels, x %v has %d", w.Shape, w.Shape[1], x.Shape, s.C)
	}
	if stride <= 0 || pad < 0 || s.K <= 0 {
		return s, shapeErr(op, "stride %d, pad %d, kernel %d", stride, pad, s.K)
	}
	span := s.T + 2*pad - s.K
	if span < 0 {
		return s, shapeErr(op, "input length %d + 2·%d is shorter than kernel %d", s.T, pad, s.K)
	}
	s.TOut = span/stride + 1
	if dst.Rows() != s.TOut || dst.Cols() != s.OC || len(dst.Shape) != 2 {
		return s, shapeErr(op, "dst %v, want [%d %d]", dst.Shape, s.TOut, s.OC)
	}
	if err = convBias(op, b, s.OC); err != nil {
		return
	}
	return s, nil
}

func convBias(op string, b *Tensor, oc int) error {
	if b == nil {
		return nil
	}
	if err := act(op, "b", b); err != nil {
		return err
	}
	if b.Len() != oc {
		return shapeErr(op, "bias %v, want [%d]", b.Shape, oc)
	}
	return nil
}

// Conv2DShape is the geometry of a 2-D convolution.
type Conv2DShape struct{ C, H, W, OC, KH, KW, OH, OW, SH, SW, PH, PW int }

// CheckConv2D validates Conv2D arguments.
func CheckConv2D(dst, x, w, b *Tensor, stride, pad [2]int) (s Conv2DShape, err error) {
	const op = "Conv2D"
	if err = act(op, "x", x); err != nil {
		return
	}
	if err = act(op, "dst", dst); err != nil {
		return
	}
	if len(x.Shape) != 3 {
		return s, shapeErr(op, "x %v must be [C, H, W]", x.Shape)
	}
	if _, _, err = weight(op, "w", w); err != nil {
		return
	}
	if len(w.Shape) != 4 {
		return s, shapeErr(op, "w %v must be [OC, C, KH, KW]", w.Shape)
	}
	s = Conv2DShape{C: x.Shape[0], H: x.Shape[1], W: x.Shape[2], OC: w.Shape[0], KH: w.Shape[2], KW: w.Shape[3],
		SH: stride[0], SW: stride[1], PH: pad[0], PW: pad[1]}
	if w.Shape[1] != s.C {
		return s, shapeErr(op, "w %v has %d input channels, x %v has %d", w.Shape, w.Shape[1], x.Shape, s.C)
	}
	if s.SH <= 0 || s.SW <= 0 || s.PH < 0 || s.PW < 0 || s.KH <= 0 || s.KW <= 0 {
		return s, shapeErr(op, "stride %v, pad %v, kernel %dx%d", stride, pad, s.KH, s.KW)
	}
	if s.H+2*s.PH < s.KH || s.W+2*s.PW < s.KW {
		return s, shapeErr(op, "input %dx%d (pad %v) smaller than kernel %dx%d", s.H, s.W, pad, s.KH, s.KW)
	}
	s.OH = (s.H+2*s.PH-s.KH)/s.SH + 1
	s.OW = (s.W+2*s.PW-s.KW)/s.SW + 1
	if len(dst.Shape) != 2 || dst.Shape[0] != s.OH*s.OW || dst.Shape[1] != s.OC {
		return s, shapeErr(op, "dst %v, want [%d %d]", dst.Shape, s.OH*s.OW, s.OC)
	}
	if err = convBias(op, b, s.OC); err != nil {
		return
	}
	return s, nil
}

// CheckAvgPool1D validates pooling of x [T, C]; it returns T, C and T'.
func CheckAvgPool1D(dst, x *Tensor, k, stride int) (T, C, TOut int, err error) {
	const op = "AvgPool1D"
	if err = act(op, "x", x); err != nil {
		return
	}
	if err = act(op, "dst", dst); err != nil {
		return
	}
	if len(x.Shape) != 2 {
		return 0, 0, 0, shapeErr(op, "x %v must be [T, C]", x.Shape)
	}
	T, C = x.Shape[0], x.Shape[1]
	if k <= 0 || stride <= 0 || T < k {
		return 0, 0, 0, shapeErr(op, "kernel %d stride %d over length %d", k, stride, T)
	}
	TOut = (T-k)/stride + 1
	if len(dst.Shape) != 2 || dst.Shape[0] != TOut || dst.Shape[1] != C {
		return 0, 0, 0, shapeErr(op, "dst %v, want [%d %d]", dst.Shape, TOut, C)
	}
	return T, C, TOut, nil
}

// AttnShape is the geometry of an attention call.
type AttnShape struct{ Tq, H, D, Tk, Hkv, Dv, KVLen int }

// CheckAttention validates dense attention arguments.
func CheckAttention(dst, q, k, v *Tensor, a Attn) (s AttnShape, err error) {
	const op = "Attention"
	for _, x := range []struct {
		n string
		t *Tensor
	}{{"dst", dst}, {"q", q}, {"k", k}, {"v", v}} {
		if err = act(op, x.n, x.t); err != nil {
			return
		}
		if len(x.t.Shape) != 3 {
			return s, shapeErr(op, "%s %v must have rank 3", x.n, x.t.Shape)
		}
	}
	s = AttnShape{Tq: q.Shape[0], H: q.Shape[1], D: q.Shape[2], Tk: k.Shape[0], Hkv: k.Shape[1], Dv: v.Shape[2]}
	if k.Shape[2] != s.D {
		return s, shapeErr(op, "k %v head dim ≠ q %v", k.Shape, q.Shape)
	}
	if v.Shape[0] != s.Tk || v.Shape[1] != s.Hkv {
		return s, shapeErr(op, "v %v does not match k %v", v.Shape, k.Shape)
	}
	if s.Hkv == 0 || s.H%s.Hkv != 0 {
		return s, shapeErr(op, "%d query heads not a multiple of %d kv heads", s.H, s.Hkv)
	}
	if !sameShape(dst.Shape, []int{s.Tq, s.H, s.Dv}) {
		return s, shapeErr(op, "dst %v, want [%d %d %d]", dst.Shape, s.Tq, s.H, s.Dv)
	}
	s.KVLen = s.Tk
	if a.KVLen != 0 {
		if a.KVLen < 0 || a.KVLen > s.Tk {
			return s, shapeErr(op, "KVLen %d out of range [0, %d]", a.KVLen, s.Tk)
		}
		s.KVLen = a.KVLen
	}
	if a.Causal && (a.QPos0 < 0 || a.QPos0+s.Tq > s.Tk) {
		return s, shapeErr(op, "causal queries at [%d, %d) beyond %d keys", a.QPos0, a.QPos0+s.Tq, s.Tk)
	}
	return s, nil
}

// CheckArgmax validates Argmax of x [m, n] into dst [m].
func CheckArgmax(dst []int32, x *Tensor) (m, n int, err error) {
	if err = act("Argmax", "x", x); err != nil {
		return
	}
	m, n = x.Rows(), x.Cols()
	if len(dst) != m || (n == 0 && m > 0) {
		return 0, 0, shapeErr("Argmax", "dst has %d entries for x %v", len(dst), x.Shape)
	}
	return m, n, nil
}

// CheckPagedAttention validates PagedAttention arguments.
func CheckPagedAttention(dst, q, k, v *Tensor, a PagedAttn) (s AttnShape, err error) {
	const op = "PagedAttention"
	if s, err = CheckAttention(dst, q, k, v, Attn{}); err != nil {
		return s, fmt.Errorf("%s: %w", op, err)
	}
	if a.PageSize <= 0 || s.Tk%a.PageSize != 0 {
		return s, shapeErr(op, "page size %d does not divide %d slots", a.PageSize, s.Tk)
	}
	pages := s.Tk / a.PageSize
	covered := make([]bool, s.Tq)
	for i, sq := range a.Seqs {
		if sq.QStart < 0 || sq.QLen < 0 || sq.QStart+sq.QLen > s.Tq {
			return s, shapeErr(op, "seq %d rows [%d, %d) outside %d rows", i, sq.QStart, sq.QStart+sq.QLen, s.Tq)
		}
		if sq.KVLen < sq.QLen || len(sq.Pages)*a.PageSize < sq.KVLen {
			return s, shapeErr(op, "seq %d: %d keys for %d queries in %d pages of %d", i, sq.KVLen, sq.QLen, len(sq.Pages), a.PageSize)
		}
		for _, p := range sq.Pages[:(sq.KVLen+a.PageSize-1)/a.PageSize] {
			if p < 0 || int(p) >= pages {
				return s, shapeErr(op, "seq %d: page %d outside [0, %d)", i, p, pages)
			}
		}
		for r := sq.QStart; r < sq.QStart+sq.QLen; r++ {
			if covered[r] {
				return s, shapeErr(op, "row %d belongs to two sequences", r)
			}
			covered[r] = true
		}
	}
	return s, nil
}
