package tiny

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/weights"
)

// How a tensor's values are drawn (see tensorSpec.amplitude).
const (
	kMatrix = iota // uniform with std 1/√fan_in (fan_in: all dims but the first)
	kNorm          // 1 ± 0.1
	kBias          // ± 0.1
	kWide          // ± 0.5: learned positions, class embeddings
	kEmbed         // ± 0.5·√(64/width): token embeddings, so tied-output logits stay a few units wide at any width
)

// tensorSpec is one generated tensor: its Hugging Face name and shape, how
// the GGUF form stores it, and how to fill it. Every tensor of a list is
// generated (in order) whichever forms are written, so both forms hold the
// same values.
type tensorSpec struct {
	hf, gguf string // "": not in that form
	shape    []int  // HF shape, row-major
	kind     int
	// GGUF layout changes, all plain rearrangements of the encoded rows:
	permute   int      // >0: llama.cpp's Q/K row permutation with this many heads
	ggufShape []int    // GGUF shape when it differs (same element order)
	split     []string // GGUF stores equal row blocks under these names (a fused qkv)
	frames    int      // >0: a [D, 3, T, P, P] kernel stored as T per-frame [D, 3, P, P] kernels (gguf, gguf.1, …)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// gen draws tensor values: from one sequential PCG stream (the tiny shapes,
// whose values stay as they always were), or counter-based (FastRand): every
// tensor its own stream, every element a hash of (seed, tensor, index), filled
// in parallel — the same values whatever the number of threads.
type gen struct {
	r    *rand.Rand // sequential stream; nil: counter-based
	seed uint64
	n    uint64 // tensors drawn (counter-based)
	buf  []float32
}

func newGen(seed, stream uint64, fast bool) *gen {
	if fast {
		return &gen{seed: splitmix(seed ^ splitmix(stream))}
	}
	return &gen{r: rand.New(rand.NewPCG(seed, seed^stream))}
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// amplitude returns t's values' half-width and centre.
func (t tensorSpec) amplitude() (a, off float64) {
	switch t.kind {
	case kMatrix:
		return math.Sqrt(3 / float64(numel(t.shape[1:]))), 0
	case kNorm:
		return 0.1, 1
	case kWide:
		return 0.5, 0
	case kEmbed:
		return 0.5 * math.Sqrt(64/float64(t.shape[len(t.shape)-1])), 0
	}
	return 0.1, 0
}

// draw returns a source of t's rows for encodeRows: the sequential
// stream's values, or the counter-based rows computed on demand.
func (g *gen) draw(t tensorSpec) func(r, row int, buf []float32) []float32 {
	n := numel(t.shape)
	a, off := t.amplitude()
	if g.r != nil {
		if cap(g.buf) < n {
			g.buf = make([]float32, n)
		}
		v := g.buf[:n]
		for i := range v {
			v[i] = float32(off + (g.r.Float64()*2-1)*a)
		}
		return func(r, row int, _ []float32) []float32 { return v[r*row : (r+1)*row] }
	}
	key := splitmix(g.seed + g.n)
	g.n++
	fa, fo := float32(a)/(1<<31), float32(off)
	return func(r, row int, buf []float32) []float32 {
		fillFast(buf, key, r*row, fa, fo)
		return buf
	}
}

// fillFast sets buf to elements j, j+1, … of a counter-based tensor:
// element k is fo + fa·(a signed 32-bit half of splitmix(key + k/2): the
// high half for even k).
func fillFast(buf []float32, key uint64, j int, fa, fo float32) {
	i := 0
	if j&1 == 1 && len(buf) > 0 {
		buf[0] = fo + fa*float32(int32(splitmix(key+uint64(j>>1))))
		i = 1
	}
	for ; i+1 < len(buf); i += 2 {
		h := splitmix(key + uint64((j+i)>>1))
		buf[i], buf[i+1] = fo+fa*float32(int32(h>>32)), fo+fa*float32(int32(h))
	}
	if i < len(buf) {
		buf[i] = fo + fa*float32(int32(splitmix(key+uint64((j+i)>>1))>>32))
	}
}

// putF16 encodes v as F16 into d: tensor.F32ToF16, its common case (a
// normal half) inline.
func putF16(d []byte, v []float32) {
	d = d[:2*len(v)]
	for i, x := range v {
		b := math.Float32bits(x)
		var h uint32
		if a := b & 0x7fffffff; a>>23-113 < 30 { // half exponent 1…30
			// rebias, round to nearest even (a carry may reach the exponent, up to Inf)
			h = b>>16&0x8000 | (a-112<<23+0xfff+a>>13&1)>>13
		} else {
			h = uint32(tensor.F32ToF16(x))
		}
		d[2*i], d[2*i+1] = byte(h), byte(h>>8)
	}
}

// parallel runs f over [0, n) in chunks of at least grain on all CPUs.
func parallel(n, grain int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), (n+grain-1)/max(grain, 1))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// encodeRows encodes a tensor row by row (the last dim), as
// weights.EncodeTensor does, into one allocation, in parallel; src gives
// row r's values (buf: the worker's scratch row).
func encodeRows(name string, dt tensor.DType, shape []int, src func(r, row int, buf []float32) []float32) (weights.TensorData, error) {
	row := 1
	if len(shape) > 0 {
		row = shape[len(shape)-1]
	}
	n := numel(shape)
	rb, err := dt.RowBytes(row)
	if err != nil || row <= 0 || n%row != 0 {
		return weights.TensorData{}, fmt.Errorf("tiny: encode %q as %v %v: %v", name, dt, shape, err)
	}
	rows := n / row
	data := make([]byte, rows*rb)
	var mu sync.Mutex
	parallel(rows, max(1, (1<<16)/row), func(lo, hi int) {
		buf := make([]float32, row)
		for r := lo; r < hi; r++ {
			v := src(r, row, buf)
			if dt == tensor.F16 { // EncodeRow's bytes, faster
				putF16(data[r*rb:(r+1)*rb], v)
				continue
			}
			if _, e := tensor.EncodeRow(dt, data[r*rb:r*rb:(r+1)*rb], v); e != nil {
				mu.Lock()
				err = e
				mu.Unlock()
				return
			}
		}
	})
	if err != nil {
		return weights.TensorData{}, fmt.Errorf("tiny: encode %q: %w", name, err)
	}
	return weights.TensorData{Info: weights.Info{Name: name, DType: dt, Type: dt.String(), Shape: append([]int(nil), shape...)}, Data: data}, nil
}

// forms is what generate returns: the tensors of each form written.
type forms struct{ hf, gguf []weights.TensorData }

// generate draws ts in order and encodes them: matrices (all but norms and biases) as
// dt, norms and biases as F32; the HF form keeps F32 where dt is a block
// type (safetensors has none). HF names get hfPrefix. The two forms share
// their bytes where the layouts agree.
func generate(g *gen, ts []tensorSpec, dt tensor.DType, hfPrefix string, hf, gguf bool) (forms, error) {
	var out forms
	for _, t := range ts {
		src := g.draw(t)
		gdt := dt
		if t.kind == kNorm || t.kind == kBias {
			gdt = tensor.F32
		}
		hdt := gdt
		if hdt.Quantized() {
			hdt = tensor.F32
		}
		var h weights.TensorData
		var err error
		if hf && t.hf != "" {
			if h, err = encodeRows(hfPrefix+t.hf, hdt, t.shape, src); err != nil {
				return out, err
			}
			out.hf = append(out.hf, h)
		}
		if !gguf || t.gguf == "" {
			continue
		}
		data := h.Data
		if h.Data == nil || hdt != gdt {
			td, err := encodeRows(t.gguf, gdt, t.shape, src)
			if err != nil {
				return out, err
			}
			data = td.Data
		}
		gg, err := t.ggufLayout(gdt, data)
		if err != nil {
			return out, err
		}
		out.gguf = append(out.gguf, gg...)
	}
	return out, nil
}

// ggufLayout rearranges t's encoded HF-layout bytes into its GGUF tensor(s).
func (t tensorSpec) ggufLayout(dt tensor.DType, data []byte) ([]weights.TensorData, error) {
	td := func(name string, shape []int, b []byte) weights.TensorData {
		return weights.TensorData{Info: weights.Info{Name: name, DType: dt, Type: dt.String(), Shape: append([]int(nil), shape...)}, Data: b}
	}
	shape := t.shape
	switch {
	case t.permute > 0: // HF's half-split rotary rows → llama.cpp's adjacent pairs
		rows := shape[0]
		rb, hd := len(data)/rows, rows/t.permute
		out := make([]byte, len(data))
		for h := 0; h < t.permute; h++ {
			for i := 0; i < hd/2; i++ {
				for s := 0; s < 2; s++ {
					src, dst := h*hd+s*hd/2+i, h*hd+2*i+s
					copy(out[dst*rb:(dst+1)*rb], data[src*rb:(src+1)*rb])
				}
			}
		}
		data = out
	case len(t.split) > 0:
		k := len(t.split)
		per := len(data) / k
		part := append([]int{shape[0] / k}, shape[1:]...)
		var out []weights.TensorData
		for j, name := range t.split {
			out = append(out, td(name, part, data[j*per:(j+1)*per]))
		}
		return out, nil
	case t.frames > 0: // [D, 3, T, P, P] → T × [D, 3, P, P]
		if len(shape) != 5 || shape[2] != t.frames || len(data)%numel(shape) != 0 {
			return nil, fmt.Errorf("tiny: %s: %v is not a [D, 3, %d, P, P] kernel", t.hf, shape, t.frames)
		}
		D, C, T := shape[0], shape[1], t.frames
		pp := shape[3] * shape[4] * (len(data) / numel(shape)) // bytes per P×P plane
		var out []weights.TensorData
		for f := 0; f < T; f++ {
			b := make([]byte, D*C*pp)
			for dc := 0; dc < D*C; dc++ {
				copy(b[dc*pp:(dc+1)*pp], data[(dc*T+f)*pp:(dc*T+f+1)*pp])
			}
			name := t.gguf
			if f > 0 {
				name = fmt.Sprintf("%s.%d", t.gguf, f)
			}
			out = append(out, td(name, []int{D, C, shape[3], shape[4]}, b))
		}
		return out, nil
	}
	if t.ggufShape != nil {
		shape = t.ggufShape
	}
	return []weights.TensorData{td(t.gguf, shape, data)}, nil
}

// kv is one GGUF metadata entry.
type kv struct {
	k string
	v any
}

// writeGGUFFile writes metadata (in order) and tensors to path.
func writeGGUFFile(path string, meta []kv, ts []weights.TensorData) error {
	w := weights.NewGGUFWriter()
	for _, e := range meta {
		if err := w.Set(e.k, e.v); err != nil {
			return fmt.Errorf("tiny: %s: %w", e.k, err)
		}
	}
	for _, t := range ts {
		if err := w.AddTensor(t); err != nil {
			return err
		}
	}
	return w.WriteFile(path)
}

// writeHFDir writes an HF model directory: the JSON files (name → value),
// the tokenizer files of voc and model.safetensors.
func writeHFDir(dir string, voc *Vocab, jsons map[string]any, ts []weights.TensorData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tj, err := voc.TokenizerJSON()
	if err != nil {
		return err
	}
	tc, err := voc.TokenizerConfigJSON()
	if err != nil {
		return err
	}
	files := map[string][]byte{"tokenizer.json": tj, "tokenizer_config.json": tc}
	for name, v := range jsons {
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return weights.WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"})
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }
