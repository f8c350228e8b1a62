package tensor

import (
	"fmt"

	"github.com/sightline/sightline/internal/registry"
)

// Backend owns tensor storage and implements the ops on it.
type Backend interface {
	Ops
	Name() string
	// Alloc returns a zeroed row-major tensor.
	Alloc(dt DType, shape ...int) (*Tensor, error)
	// FromF32 copies src into a new row-major F32 tensor of the given shape.
	FromF32(src []float32, shape ...int) (*Tensor, error)
	// ToF32 decodes any tensor of this backend (any dtype or layout) into dst,
	// row-major; len(dst) must equal t.Len().
	ToF32(t *Tensor, dst []float32) error
	// Weight wraps encoded row-major bytes (GGUF layout: blocks along the last
	// dimension) as a weight usable by MatMul (as w) and Gather (as table).
	// A backend may repack; data may be a read-only mmap and is not modified.
	// Shapes of rank > 2 are treated as [Shape[0], product of the rest].
	Weight(dt DType, shape []int, data []byte) (*Tensor, error)
	// Free releases t's storage early (host backends may leave it to the GC).
	Free(t *Tensor)
	// Close stops the backend's workers; tensors stay readable on the host.
	Close() error
}

// Ops is the op set models and encoders run on. Activations are F32 and
// row-major; dst may alias x for elementwise ops, RoPE, norms and Softmax.
// Every method validates shapes and dtypes and returns an error wrapping
// ErrShape or ErrDType instead of panicking or overrunning.
type Ops interface {
	// MatMul: dst[m,n] = a[m,k] · w[n,k]ᵀ; w in any dtype. With a
	// block-quantised w (DType.Quantized) each row of a is first quantised by
	// QuantizeAct and the product uses those values (integer dot products
	// per block on the CPU backend).
	// Each element is a reduction over k in a fixed order that does not depend
	// on m, on the other rows or on the thread count (batch invariance).
	MatMul(dst, a, w *Tensor) error
	// Add and Mul: dst = a ∘ b; b has a's shape, or is [a.Cols()] and broadcast over rows.
	Add(dst, a, b *Tensor) error
	Mul(dst, a, b *Tensor) error
	// Scale: dst = a·s.
	Scale(dst, a *Tensor, s float32) error
	// Act applies an activation elementwise.
	Act(dst, x *Tensor, f Activation) error
	// SwiGLU: dst = silu(gate)·up.
	SwiGLU(dst, gate, up *Tensor) error
	// RMSNorm per row: dst = x / sqrt(mean(x²)+eps) · w (w [cols], or nil for 1).
	RMSNorm(dst, x, w *Tensor, eps float32) error
	// LayerNorm per row: dst = (x-mean)/sqrt(var+eps) · w + b (w, b [cols] or nil).
	LayerNorm(dst, x, w, b *Tensor, eps float32) error
	// Softmax per row.
	Softmax(dst, x *Tensor) error
	// RoPE rotates x [T, H, D] in place of dst (same shape). pos holds
	// T·S positions stream-major (pos[s·T+t]); S = 1, or len(p.Sections).
	RoPE(dst, x *Tensor, pos []int32, p RoPE) error
	// Gather: dst[i,:] = table[ids[i],:]; table any dtype (a Weight or row-major).
	Gather(dst, table *Tensor, ids []int32) error
	// SetRows: dst[rows[i],:] = src[i,:].
	SetRows(dst *Tensor, rows []int32, src *Tensor) error
	// Concat joins srcs along axis into dst (all row-major F32).
	Concat(dst *Tensor, axis int, srcs ...*Tensor) error
	// Conv1D: x [T, C] → dst [T', OC], w [OC, C, K] (a Weight), b [OC] or nil,
	// T' = (T + 2·pad − K)/stride + 1.
	Conv1D(dst, x, w, b *Tensor, stride, pad int) error
	// Conv2D: x [C, H, W] → dst [H'·W', OC] (row-major over h', w'),
	// w [OC, C, KH, KW] (a Weight), b [OC] or nil.
	Conv2D(dst, x, w, b *Tensor, stride, pad [2]int) error
	// AvgPool1D over time: x [T, C] → dst [(T−k)/stride+1, C].
	AvgPool1D(dst, x *Tensor, k, stride int) error
	// Attention: q [Tq, H, D], k [Tk, Hkv, D], v [Tk, Hkv, Dv] → dst [Tq, H, Dv];
	// H a multiple of Hkv (GQA: query head h reads kv head h/(H/Hkv)).
	Attention(dst, q, k, v *Tensor, a Attn) error
	// PagedAttention: q [T, H, D] → dst [T, H, Dv] for the rows of a.Seqs
	// (other rows are left as they are). Key j of a sequence is row
	// Pages[j/PageSize]·PageSize + j%PageSize of k [slots, Hkv, D] and
	// v [slots, Hkv, Dv]; query i of the sequence sees keys j ≤ KVLen−QLen+i.
	// Each row's result depends only on its own query and keys, in key order.
	PagedAttention(dst, q, k, v *Tensor, a PagedAttn) error
	// Argmax per row of x [m, n] into dst[m]; the first index wins ties.
	Argmax(dst []int32, x *Tensor) error
}

// PagedAttn parameterises PagedAttention.
type PagedAttn struct {
	Scale    float32
	PageSize int
	Seqs     []AttnSeq
}

// AttnSeq is one sequence's rows in the batch and its keys in the pool.
type AttnSeq struct {
	QStart, QLen int     // batch rows [QStart, QStart+QLen)
	KVLen        int     // keys, including the QLen new ones (the last QLen keys)
	Pages        []int32 // pool pages holding keys 0..KVLen−1 in order
}

// Activation selects an elementwise function for Ops.Act.
type Activation uint8

const (
	SiLU      Activation = iota // x·σ(x)
	GELU                        // exact: 0.5·x·(1+erf(x/√2))
	GELUTanh                    // 0.5·x·(1+tanh(√(2/π)·(x+0.044715·x³)))
	QuickGELU                   // x·σ(1.702·x)
)

var actNames = [...]string{SiLU: "silu", GELU: "gelu", GELUTanh: "gelu_tanh", QuickGELU: "quick_gelu"}

func (a Activation) String() string {
	if int(a) < len(actNames) {
		return actNames[a]
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// RoPEMode selects which dimensions rotate together and where positions come from.
type RoPEMode uint8

const (
	// RoPENorm rotates adjacent pairs (2i, 2i+1): llama.cpp's "NORM", used by
	// GGUF llama models whose converter permuted Q/K.
	RoPENorm RoPEMode = iota
	// RoPENeox rotates (i, i+Dims/2): Hugging Face's rotate_half, qwen2.
	RoPENeox
	// RoPEMulti is NEOX pairing where pair i takes its position from stream s
	// chosen by Sections (Qwen2-VL M-RoPE: t, h, w); frequency index i is global.
	RoPEMulti
	// RoPEVision is NEOX pairing with per-section positions whose frequency
	// index restarts in each section: pair l of section s turns by
	// pos·Base^(−l/Sections[s]) (Qwen2-VL ViT 2-D RoPE, sections [D/4, D/4]).
	RoPEVision
)

// RoPE parameterises Ops.RoPE. Pair i (0 ≤ i < Dims/2) turns by
// pos·Base^(−2i/Dims) unless Freqs or the mode says otherwise; dims ≥ Dims are copied.
type RoPE struct {
	Mode     RoPEMode
	Dims     int       // rotated leading dims of each head; even, ≤ D
	Base     float32   // θ
	Sections []int     // Multi/Vision: rotary pairs per position stream, summing to Dims/2
	Freqs    []float32 // optional inverse frequency per pair (len Dims/2), e.g. llama3 rope_scaling
}

// Streams is the number of position streams RoPE expects.
func (p *RoPE) Streams() int {
	if p.Mode == RoPEMulti || p.Mode == RoPEVision {
		return len(p.Sections)
	}
	return 1
}

// Attn parameterises dense attention.
type Attn struct {
	Scale  float32 // logits = q·k·Scale
	Causal bool    // query i sees keys j ≤ QPos0+i
	QPos0  int     // key index of the first query row (causal only)
	KVLen  int     // keys at index ≥ KVLen are masked; 0 means all Tk keys
}

// Factory creates a backend; threads ≤ 0 means one per CPU.
type Factory func(o Options) (Backend, error)

// Options configure a backend.
type Options struct {
	Threads int
	Level   string // CPU dispatch level ("" = best available); see each backend
}

// backends are the registered backends (each registers itself in init).
var backends = registry.New[Factory]("backend")

// Register adds a backend factory (from the backend package's init).
func Register(name string, f Factory) { backends.Register(name, f) }

// Open creates the named backend.
func Open(name string, o Options) (Backend, error) {
	f, err := backends.Get(name)
	if err != nil {
		return nil, fmt.Errorf("tensor: %w", err)
	}
	return f(o)
}

// Names lists the registered backends, sorted.
func Names() []string { return backends.Names() }
