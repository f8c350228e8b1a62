package arbiter

import "github.com/sightline/sightline/llm/tensor"

// backend is a tensor.Backend whose ops take background turns. It lists
// every method explicitly (no embedding), so a method added to the interface
// fails to compile here instead of bypassing the arbiter.
type backend struct {
	a  *Arbiter
	be tensor.Backend
}

func (b *backend) Name() string { return b.be.Name() }
func (b *backend) Alloc(dt tensor.DType, shape ...int) (*tensor.Tensor, error) {
	return b.be.Alloc(dt, shape...)
}
func (b *backend) FromF32(src []float32, shape ...int) (*tensor.Tensor, error) {
	return b.be.FromF32(src, shape...)
}
func (b *backend) ToF32(t *tensor.Tensor, dst []float32) error { return b.be.ToF32(t, dst) }
func (b *backend) Weight(dt tensor.DType, shape []int, data []byte) (*tensor.Tensor, error) {
	return b.be.Weight(dt, shape, data)
}
func (b *backend) Free(t *tensor.Tensor) { b.be.Free(t) }
func (b *backend) Close() error          { return nil }

// turn runs one op in a background turn.
func (b *backend) turn(f func() error) error { return b.a.background(f) }

// blocks cuts m rows into n near-equal blocks of at least minRows rows
// (when m allows) and about BlockFLOPs each, at perRow FLOPs a row.
func (b *backend) blocks(m, minRows int, perRow float64) [][2]int {
	step := m
	if perRow > 0 {
		step = max(minRows, int(b.a.cfg.BlockFLOPs/perRow), 1)
	}
	n := max(1, m/step) // floor: every block keeps ≥ step rows
	out := make([][2]int, n)
	q, r := m/n, m%n
	lo := 0
	for i := range out {
		hi := lo + q
		if i < r {
			hi++
		}
		out[i] = [2]int{lo, hi}
		lo = hi
	}
	return out
}

// MatMul is cut into row blocks of a and dst: each output row depends only
// on its own input row (the backend's batch invariance).
func (b *backend) MatMul(dst, a, w *tensor.Tensor) error {
	_, n, k, err := tensor.CheckMatMul(dst, a, w)
	if err != nil || len(a.Shape) != 2 || len(dst.Shape) != 2 {
		return b.turn(func() error { return b.be.MatMul(dst, a, w) })
	}
	for _, blk := range b.blocks(a.Shape[0], minMatMulRows, 2*float64(n)*float64(k)) {
		as, err := a.Slice(blk[0], blk[1])
		if err != nil {
			return err
		}
		ds, err := dst.Slice(blk[0], blk[1])
		if err != nil {
			return err
		}
		if err := b.turn(func() error { return b.be.MatMul(ds, as, w) }); err != nil {
			return err
		}
	}
	return nil
}

// minMatMulRows is the smallest block of rows MatMul is cut into: a CPU
// GEMM converts each weight panel once per block of up to 512 rows of a,
// so smaller blocks would redo that work (measured: 2e9-FLOP blocks of 170
// rows cost Qwen2-VL's ViT 10–25% more time).
const minMatMulRows = 512

// minAttnRows is the smallest block of query rows Attention is cut into: a
// backend may switch algorithms on the query count (the CPU backend's dense
// attention becomes a GEMM at 64 rows), and blocks must take the same path as
// the uncut call for bit-identical results.
const minAttnRows = 64

// Attention is cut into blocks of query rows; a causal block starting at
// row r sees keys up to QPos0+r+i, as in the uncut call.
func (b *backend) Attention(dst, q, k, v *tensor.Tensor, at tensor.Attn) error {
	s, err := tensor.CheckAttention(dst, q, k, v, at)
	if err != nil || s.Tq < 2*minAttnRows {
		return b.turn(func() error { return b.be.Attention(dst, q, k, v, at) })
	}
	perRow := 2 * float64(s.Tk) * float64(s.H) * float64(s.D+s.Dv)
	for _, blk := range b.blocks(s.Tq, minAttnRows, perRow) {
		qs, err := q.Slice(blk[0], blk[1])
		if err != nil {
			return err
		}
		ds, err := dst.Slice(blk[0], blk[1])
		if err != nil {
			return err
		}
		sub := at
		sub.QPos0 += blk[0]
		if err := b.turn(func() error { return b.be.Attention(ds, qs, k, v, sub) }); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) Add(dst, x, y *tensor.Tensor) error {
	return b.turn(func() error { return b.be.Add(dst, x, y) })
}
func (b *backend) Mul(dst, x, y *tensor.Tensor) error {
	return b.turn(func() error { return b.be.Mul(dst, x, y) })
}
func (b *backend) Scale(dst, x *tensor.Tensor, s float32) error {
	return b.turn(func() error { return b.be.Scale(dst, x, s) })
}
func (b *backend) Act(dst, x *tensor.Tensor, f tensor.Activation) error {
	return b.turn(func() error { return b.be.Act(dst, x, f) })
}
func (b *backend) SwiGLU(dst, gate, up *tensor.Tensor) error {
	return b.turn(func() error { return b.be.SwiGLU(dst, gate, up) })
}
func (b *backend) RMSNorm(dst, x, w *tensor.Tensor, eps float32) error {
	return b.turn(func() error { return b.be.RMSNorm(dst, x, w, eps) })
}
func (b *backend) LayerNorm(dst, x, w, bias *tensor.Tensor, eps float32) error {
	return b.turn(func() error { return b.be.LayerNorm(dst, x, w, bias, eps) })
}
func (b *backend) Softmax(dst, x *tensor.Tensor) error {
	return b.turn(func() error { return b.be.Softmax(dst, x) })
}
func (b *backend) RoPE(dst, x *tensor.Tensor, pos []int32, p tensor.RoPE) error {
	return b.turn(func() error { return b.be.RoPE(dst, x, pos, p) })
}
func (b *backend) Gather(dst, table *tensor.Tensor, ids []int32) error {
	return b.turn(func() error { return b.be.Gather(dst, table, ids) })
}
func (b *backend) SetRows(dst *tensor.Tensor, rows []int32, src *tensor.Tensor) error {
	return b.turn(func() error { return b.be.SetRows(dst, rows, src) })
}
func (b *backend) Concat(dst *tensor.Tensor, axis int, srcs ...*tensor.Tensor) error {
	return b.turn(func() error { return b.be.Concat(dst, axis, srcs...) })
}
func (b *backend) Conv1D(dst, x, w, bias *tensor.Tensor, stride, pad int) error {
	return b.turn(func() error { return b.be.Conv1D(dst, x, w, bias, stride, pad) })
}
func (b *backend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad [2]int) error {
	return b.turn(func() error { return b.be.Conv2D(dst, x, w, bias, stride, pad) })
}
func (b *backend) AvgPool1D(dst, x *tensor.Tensor, k, stride int) error {
	return b.turn(func() error { return b.be.AvgPool1D(dst, x, k, stride) })
}
func (b *backend) PagedAttention(dst, q, k, v *tensor.Tensor, at tensor.PagedAttn) error {
	return b.turn(func() error { return b.be.PagedAttention(dst, q, k, v, at) })
}
func (b *backend) Argmax(dst []int32, x *tensor.Tensor) error {
	return b.turn(func() error { return b.be.Argmax(dst, x) })
}
