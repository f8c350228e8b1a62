//go:build cgo

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tensor/tensortest"
)

// closeTo checks |got−want| ≤ abs + rel·|want| elementwise.
func closeTo(t *testing.T, name string, got, want []float32, abs, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > abs+rel*math.Abs(w) {
			t.Fatalf("%s: [%d] = %v, ref %v", name, i, g, w)
		}
	}
}

// pair runs the same op on a CPU backend and the reference backend and
// returns both outputs.
type pair struct {
	t  *testing.T
	b  *Backend
	rb *ref.Backend
}

func (p pair) in(v []float32, shape ...int) (*tensor.Tensor, *tensor.Tensor) {
	return mk(p.t)(p.b.FromF32(v, shape...)), mk(p.t)(p.rb.FromF32(v, shape...))
}

func (p pair) out(shape ...int) (*tensor.Tensor, *tensor.Tensor) {
	return mk(p.t)(p.b.Alloc(tensor.F32, shape...)), mk(p.t)(p.rb.Alloc(tensor.F32, shape...))
}

func check(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

var sizes = [][2]int{{1, 1}, {1, 7}, {3, 33}, {5, 100}, {2, 896}, {40, 1001}}

func TestElementwiseAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rb := ref.New()
	for _, b := range backends(t, 1, 2) {
		p := pair{t, b, rb}
		for _, s := range sizes {
			rows, cols := s[0], s[1]
			name := fmt.Sprintf("%s/%dx%d", b.Name(), rows, cols)
			x := randF32(r, rows*cols, 6)
			y := randF32(r, rows*cols, 3)
			bias := randF32(r, cols, 1)
			xc, xr := p.in(x, rows, cols)
			yc, yr := p.in(y, rows, cols)
			bc, br := p.in(bias, cols)
			dc, dr := p.out(rows, cols)

			check(t, b.Add(dc, xc, yc), rb.Add(dr, xr, yr))
			closeTo(t, name+"/add", dc.F32(), dr.F32(), 0, 0)
			check(t, b.Mul(dc, xc, bc), rb.Mul(dr, xr, br))
			closeTo(t, name+"/mul-bcast", dc.F32(), dr.F32(), 0, 0)
			check(t, b.Scale(dc, xc, 0.37), rb.Scale(dr, xr, 0.37))
			closeTo(t, name+"/scale", dc.F32(), dr.F32(), 0, 0)
			for _, f := range []tensor.Activation{tensor.SiLU, tensor.GELU, tensor.GELUTanh, tensor.QuickGELU} {
				check(t, b.Act(dc, xc, f), rb.Act(dr, xr, f))
				closeTo(t, name+"/"+f.String(), dc.F32(), dr.F32(), 1e-6, 2e-6)
			}
			check(t, b.SwiGLU(dc, xc, yc), rb.SwiGLU(dr, xr, yr))
			closeTo(t, name+"/swiglu", dc.F32(), dr.F32(), 1e-6, 2e-6)
			check(t, b.RMSNorm(dc, xc, bc, 1e-5), rb.RMSNorm(dr, xr, br, 1e-5))
			closeTo(t, name+"/rmsnorm", dc.F32(), dr.F32(), 1e-6, 2e-6)
			check(t, b.RMSNorm(dc, xc, nil, 1e-6), rb.RMSNorm(dr, xr, nil, 1e-6))
			closeTo(t, name+"/rmsnorm-nil", dc.F32(), dr.F32(), 1e-6, 2e-6)
			b2c, b2r := p.in(randF32(r, cols, 1), cols)
			check(t, b.LayerNorm(dc, xc, bc, b2c, 1e-5), rb.LayerNorm(dr, xr, br, b2r, 1e-5))
			closeTo(t, name+"/layernorm", dc.F32(), dr.F32(), 2e-6, 2e-6)
			check(t, b.Softmax(dc, xc), rb.Softmax(dr, xr))
			closeTo(t, name+"/softmax", dc.F32(), dr.F32(), 1e-8, 2e-6)
			// in place
			check(t, b.Act(xc, xc, tensor.SiLU), rb.Act(xr, xr, tensor.SiLU))
			closeTo(t, name+"/silu-inplace", xc.F32(), xr.F32(), 1e-6, 2e-6)

			am := make([]int32, rows)
			amr := make([]int32, rows)
			check(t, b.Argmax(am, yc), rb.Argmax(amr, yr))
			for i := range am {
				if am[i] != amr[i] {
					t.Fatalf("%s argmax row %d: %d vs %d", name, i, am[i], amr[i])
				}
			}
		}
	}
}

func TestRoPEAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rb := ref.New()
	cases := []struct {
		name    string
		T, H, D int
		p       tensor.RoPE
	}{
		{"norm", 5, 4, 16, tensor.RoPE{Mode: tensor.RoPENorm, Dims: 16, Base: 10000}},
		{"neox-partial", 7, 3, 64, tensor.RoPE{Mode: tensor.RoPENeox, Dims: 32, Base: 1e6}},
		{"neox-freqs", 3, 2, 8, tensor.RoPE{Mode: tensor.RoPENeox, Dims: 8, Freqs: []float32{1, 0.5, 0.25, 0.125}}},
		{"mrope", 6, 4, 16, tensor.RoPE{Mode: tensor.RoPEMulti, Dims: 16, Base: 1e6, Sections: []int{2, 3, 3, 0}}},
		{"vision", 9, 4, 32, tensor.RoPE{Mode: tensor.RoPEVision, Dims: 32, Base: 1e4, Sections: []int{8, 8}}},
	}
	for _, b := range backends(t, 1) {
		p := pair{t, b, rb}
		for _, c := range cases {
			x := randF32(r, c.T*c.H*c.D, 2)
			pos := make([]int32, c.T*c.p.Streams())
			for i := range pos {
				pos[i] = int32(r.IntN(3000))
			}
			xc, xr := p.in(x, c.T, c.H, c.D)
			dc, dr := p.out(c.T, c.H, c.D)
			check(t, b.RoPE(dc, xc, pos, c.p), rb.RoPE(dr, xr, pos, c.p))
			closeTo(t, b.Name()+"/"+c.name, dc.F32(), dr.F32(), 1e-6, 1e-6)
			check(t, b.RoPE(xc, xc, pos, c.p))
			closeTo(t, b.Name()+"/"+c.name+"-inplace", xc.F32(), dr.F32(), 1e-6, 1e-6)
		}
	}
}

// TestRoPEKnownValues pins the pairings: NORM rotates (0,1), NEOX (0, D/2).
func TestRoPEKnownValues(t *testing.T) {
	for _, be := range []tensor.Backend{ref.New(), backends(t, 1)[0]} {
		x, _ := be.FromF32([]float32{1, 0, 0, 0}, 1, 1, 4)
		for _, c := range []struct {
			mode tensor.RoPEMode
			want []float32
		}{
			{tensor.RoPENorm, []float32{float32(math.Cos(2)), float32(math.Sin(2)), 0, 0}},
			{tensor.RoPENeox, []float32{float32(math.Cos(2)), 0, float32(math.Sin(2)), 0}},
		} {
			d, _ := be.Alloc(tensor.F32, 1, 1, 4)
			check(t, be.RoPE(d, x, []int32{2}, tensor.RoPE{Mode: c.mode, Dims: 4, Base: 10000}))
			closeTo(t, be.Name(), d.F32(), c.want, 1e-7, 0)
		}
	}
}

func TestAttentionAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rb := ref.New()
	cases := []struct {
		Tq, H, D, Tk, Hkv, Dv int
		a                     tensor.Attn
	}{
		{1, 4, 16, 9, 2, 16, tensor.Attn{Scale: 0.25, Causal: true, QPos0: 8}},
		{7, 4, 8, 7, 4, 8, tensor.Attn{Scale: 0.35, Causal: true}},
		{5, 6, 13, 12, 2, 13, tensor.Attn{Scale: 0.3, Causal: true, QPos0: 7}},
		{16, 4, 32, 16, 4, 24, tensor.Attn{Scale: 0.17}},
		{10, 2, 64, 30, 1, 64, tensor.Attn{Scale: 0.125, KVLen: 17}},
		{33, 14, 64, 33, 2, 64, tensor.Attn{Scale: 0.125, Causal: true}},
		{70, 4, 16, 90, 2, 24, tensor.Attn{Scale: 0.25, Causal: true, QPos0: 20}},
		{100, 2, 32, 150, 1, 32, tensor.Attn{Scale: 0.2, KVLen: 120}},
	}
	for _, b := range backends(t, 1, 3) {
		p := pair{t, b, rb}
		for i, c := range cases {
			qc, qr := p.in(randF32(r, c.Tq*c.H*c.D, 2), c.Tq, c.H, c.D)
			kc, kr := p.in(randF32(r, c.Tk*c.Hkv*c.D, 2), c.Tk, c.Hkv, c.D)
			vc, vr := p.in(randF32(r, c.Tk*c.Hkv*c.Dv, 2), c.Tk, c.Hkv, c.Dv)
			dc, dr := p.out(c.Tq, c.H, c.Dv)
			check(t, b.Attention(dc, qc, kc, vc, c.a), rb.Attention(dr, qr, kr, vr, c.a))
			closeTo(t, fmt.Sprintf("%s/case%d", b.Name(), i), dc.F32(), dr.F32(), 2e-6, 1e-5)
		}
	}
}

// TestAttentionRowInvariance: a query row's output does not depend on which
// other rows share the call (chunked prefill and decode give the same bits).
func TestAttentionRowInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const T, H, Hkv, D = 20, 4, 2, 16
	for _, b := range backends(t, 1, 2) {
		q := mk(t)(b.FromF32(randF32(r, T*H*D, 1), T, H, D))
		k := mk(t)(b.FromF32(randF32(r, T*Hkv*D, 1), T, Hkv, D))
		v := mk(t)(b.FromF32(randF32(r, T*Hkv*D, 1), T, Hkv, D))
		all := mk(t)(b.Alloc(tensor.F32, T, H, D))
		check(t, b.Attention(all, q, k, v, tensor.Attn{Scale: 0.25, Causal: true}))
		for _, chunk := range [][2]int{{0, 1}, {5, 6}, {7, 19}, {19, 20}} {
			qs, _ := q.Slice(chunk[0], chunk[1])
			out := mk(t)(b.Alloc(tensor.F32, chunk[1]-chunk[0], H, D))
			check(t, b.Attention(out, qs, k, v, tensor.Attn{Scale: 0.25, Causal: true, QPos0: chunk[0]}))
			want, _ := all.Slice(chunk[0], chunk[1])
			if !bitsEqual(out.F32(), want.F32()) {
				t.Fatalf("%s: rows %v differ when computed alone", b.Name(), chunk)
			}
		}
	}
}

func TestGatherSetRowsConcat(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	rb := ref.New()
	for _, b := range backends(t, 1) {
		p := pair{t, b, rb}
		for _, dt := range dtypes {
			const V = 70
			D := blockK(dt, 96)
			enc, _ := weightBytes(t, r, dt, V, D)
			wc := mk(t)(b.Weight(dt, []int{V, D}, enc))
			wr := mk(t)(rb.Weight(dt, []int{V, D}, enc))
			ids := []int32{0, 69, 31, 32, 33, 5, 5}
			dc, dr := p.out(len(ids), D)
			check(t, b.Gather(dc, wc, ids), rb.Gather(dr, wr, ids))
			closeTo(t, b.Name()+"/gather/"+dt.String(), dc.F32(), dr.F32(), 0, 0)
			all := make([]float32, V*D)
			check(t, b.ToF32(wc, all))
			allr := make([]float32, V*D)
			check(t, rb.ToF32(wr, allr))
			closeTo(t, b.Name()+"/tof32/"+dt.String(), all, allr, 0, 0)
		}
		dst, dstr := p.in(randF32(r, 6*5, 1), 6, 5)
		src, srcr := p.in(randF32(r, 2*5, 1), 2, 5)
		check(t, b.SetRows(dst, []int32{4, 1}, src), rb.SetRows(dstr, []int32{4, 1}, srcr))
		closeTo(t, "setrows", dst.F32(), dstr.F32(), 0, 0)
		a, ar := p.in(randF32(r, 2*3*4, 1), 2, 3, 4)
		c, cr := p.in(randF32(r, 2*1*4, 1), 2, 1, 4)
		o, or := p.out(2, 4, 4)
		check(t, b.Concat(o, 1, a, c), rb.Concat(or, 1, ar, cr))
		closeTo(t, "concat", o.F32(), or.F32(), 0, 0)
		want := append(append([]float32{}, a.F32()[:12]...), c.F32()[:4]...)
		closeTo(t, "concat-layout", o.F32()[:16], want, 0, 0)
	}
}

func TestConvPoolAgainstRef(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	rb := ref.New()
	for _, b := range backends(t, 1, 2) {
		p := pair{t, b, rb}
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16} {
			// Whisper-like conv1d: k3, stride 1 and 2, pad 1
			const T, C, OC, K = 50, 12, 20, 3
			enc, _ := weightBytes(t, r, dt, OC, C*K)
			wc := mk(t)(b.Weight(dt, []int{OC, C, K}, enc))
			wr := mk(t)(rb.Weight(dt, []int{OC, C, K}, enc))
			xc, xr := p.in(randF32(r, T*C, 1), T, C)
			bc, br := p.in(randF32(r, OC, 1), OC)
			for _, stride := range []int{1, 2} {
				to := (T+2-K)/stride + 1
				dc, dr := p.out(to, OC)
				check(t, b.Conv1D(dc, xc, wc, bc, stride, 1), rb.Conv1D(dr, xr, wr, br, stride, 1))
				closeTo(t, fmt.Sprintf("%s/conv1d/%v/s%d", b.Name(), dt, stride), dc.F32(), dr.F32(), 1e-5, 1e-5)
			}
			// patch embedding: 3×28×42 image, 14×14 patches
			const IC, H, W, P, OC2 = 3, 28, 42, 14, 16
			enc2, _ := weightBytes(t, r, dt, OC2, IC*P*P)
			w2c := mk(t)(b.Weight(dt, []int{OC2, IC, P, P}, enc2))
			w2r := mk(t)(rb.Weight(dt, []int{OC2, IC, P, P}, enc2))
			ic, ir := p.in(randF32(r, IC*H*W, 1), IC, H, W)
			dc, dr := p.out(H/P*W/P, OC2)
			check(t, b.Conv2D(dc, ic, w2c, nil, [2]int{P, P}, [2]int{0, 0}), rb.Conv2D(dr, ir, w2r, nil, [2]int{P, P}, [2]int{0, 0}))
			closeTo(t, fmt.Sprintf("%s/conv2d/%v", b.Name(), dt), dc.F32(), dr.F32(), 1e-5, 1e-5)
			dc2, dr2 := p.out(2*3, OC2)
			check(t, b.Conv2D(dc2, ic, w2c, nil, [2]int{10, 12}, [2]int{1, 2}), rb.Conv2D(dr2, ir, w2r, nil, [2]int{10, 12}, [2]int{1, 2}))
			closeTo(t, fmt.Sprintf("%s/conv2d-pad/%v", b.Name(), dt), dc2.F32(), dr2.F32(), 1e-5, 1e-5)
		}
		xc, xr := p.in(randF32(r, 9*5, 1), 9, 5)
		dc, dr := p.out(4, 5)
		check(t, b.AvgPool1D(dc, xc, 2, 2), rb.AvgPool1D(dr, xr, 2, 2))
		closeTo(t, "avgpool", dc.F32(), dr.F32(), 1e-7, 1e-6)
	}
}

func TestPoolRunsEveryThread(t *testing.T) {
	for i := 0; i < 200; i++ {
		n := 1 + i%5
		p := newPool(n)
		for j := 0; j < 20; j++ {
			th := 1 + (i+j)%n
			hits := make([]int, n)
			p.run(th, func(tid int) { hits[tid]++ })
			for tid := range hits {
				if want := map[bool]int{true: 1, false: 0}[tid < th]; hits[tid] != want {
					t.Fatalf("pool n=%d run(%d): thread %d ran %d times", n, th, tid, hits[tid])
				}
			}
		}
		p.close()
	}
}

func TestShapeErrors(t *testing.T) {
	for _, b := range backends(t, 2) {
		tensortest.ShapeErrors(t, b)
	}
}

func FuzzOps(f *testing.F) {
	b, err := New(tensor.Options{Threads: 2})
	if err != nil {
		f.Fatal(err)
	}
	tensortest.Fuzz(f, b)
}

// TestPagedAttention: three sequences with scattered pages (a prefill chunk
// after a cached prefix, a decode row, a fresh prompt) against the reference,
// and bit-identical to dense attention over the same keys copied contiguously.
func TestPagedAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	rb := ref.New()
	const H, Hkv, D, page, pages = 4, 2, 16, 4, 12
	seqs := []tensor.AttnSeq{
		{QStart: 0, QLen: 3, KVLen: 9, Pages: []int32{7, 2, 10}},
		{QStart: 3, QLen: 1, KVLen: 6, Pages: []int32{0, 5}},
		{QStart: 4, QLen: 5, KVLen: 5, Pages: []int32{11, 3}},
	}
	const T = 10 // row 9 belongs to no sequence and must stay untouched
	for _, b := range backends(t, 1, 2) {
		p := pair{t, b, rb}
		qc, qr := p.in(randF32(r, T*H*D, 1), T, H, D)
		kv := randF32(r, pages*page*Hkv*D, 1)
		vv := randF32(r, pages*page*Hkv*D, 1)
		kc, kr := p.in(kv, pages*page, Hkv, D)
		vc, vr := p.in(vv, pages*page, Hkv, D)
		dc, dr := p.out(T, H, D)
		for i := range dc.F32() {
			dc.F32()[i], dr.F32()[i] = 7, 7
		}
		a := tensor.PagedAttn{Scale: 0.25, PageSize: page, Seqs: seqs}
		check(t, b.PagedAttention(dc, qc, kc, vc, a), rb.PagedAttention(dr, qr, kr, vr, a))
		closeTo(t, b.Name()+"/paged", dc.F32(), dr.F32(), 2e-6, 1e-5)
		if dc.F32()[9*H*D] != 7 {
			t.Fatal("row outside every sequence was written")
		}
		for _, sq := range seqs {
			kk := make([]float32, sq.KVLen*Hkv*D)
			vvv := make([]float32, sq.KVLen*Hkv*D)
			for j := 0; j < sq.KVLen; j++ {
				slot := int(sq.Pages[j/page])*page + j%page
				copy(kk[j*Hkv*D:], kv[slot*Hkv*D:(slot+1)*Hkv*D])
				copy(vvv[j*Hkv*D:], vv[slot*Hkv*D:(slot+1)*Hkv*D])
			}
			qs, _ := qc.Slice(sq.QStart, sq.QStart+sq.QLen)
			out := mk(t)(b.Alloc(tensor.F32, sq.QLen, H, D))
			check(t, b.Attention(out, qs, mk(t)(b.FromF32(kk, sq.KVLen, Hkv, D)), mk(t)(b.FromF32(vvv, sq.KVLen, Hkv, D)),
				tensor.Attn{Scale: 0.25, Causal: true, QPos0: sq.KVLen - sq.QLen}))
			want, _ := dc.Slice(sq.QStart, sq.QStart+sq.QLen)
			if !bitsEqual(out.F32(), want.F32()) {
				t.Fatalf("%s: paged differs from dense for seq %+v", b.Name(), sq)
			}
		}
		bad := tensor.PagedAttn{Scale: 1, PageSize: page, Seqs: []tensor.AttnSeq{{QStart: 0, QLen: 2, KVLen: 9, Pages: []int32{1, 2}}}}
		if err := b.PagedAttention(dc, qc, kc, vc, bad); err == nil {
			t.Fatal("too few pages accepted")
		}
	}
}
