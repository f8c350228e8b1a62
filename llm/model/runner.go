package model

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/tensor"
)

// Runner drives one sequence through a model: a prefill of the prompt, then
// one token per Step. It owns its KV pages; the one-shot CLI and tests use it
// (the serving engine batches many sequences instead).
type Runner struct {
	M     Model
	KV    *kvcache.Pool
	pages []int32
	n     int   // tokens in the KV cache
	next  int32 // position of the next token (differs from n under M-RoPE)
}

// Len is the number of tokens in the sequence so far.
func (r *Runner) Len() int { return r.n }

// Release frees the sequence's pages.
func (r *Runner) Release() error {
	err := r.KV.Release(r.pages)
	r.pages, r.n, r.next = nil, 0, 0
	return err
}

func (r *Runner) grow(total int) error {
	need := (total+r.KV.PageSize-1)/r.KV.PageSize - len(r.pages)
	if need <= 0 {
		return nil
	}
	p, err := r.KV.Alloc(need)
	if err != nil {
		return err
	}
	r.pages = append(r.pages, p...)
	return nil
}

// Prefill appends p's tokens and returns logits of the last row, or of every
// row when all is set ([rows, Vocab]).
func (r *Runner) Prefill(ctx context.Context, p *input.Prompt, all bool) (*tensor.Tensor, error) {
	T := len(p.Tokens)
	if T == 0 {
		return nil, fmt.Errorf("model: empty prompt")
	}
	if err := r.grow(r.n + T); err != nil {
		return nil, err
	}
	b := &input.Batch{Tokens: p.Tokens, Pos: make([]int32, T), Slots: make([]int32, T), Splice: p.Splices()}
	for i := 0; i < T; i++ {
		b.Pos[i] = r.next + int32(i)
		b.Slots[i] = r.KV.Slot(r.pages, r.n+i)
	}
	if p.MRoPE != nil {
		b.PosM = make([][3]int32, T)
		for i, m := range p.MRoPE {
			b.PosM[i] = [3]int32{m[0] + r.next, m[1] + r.next, m[2] + r.next}
		}
	}
	b.Seqs = []input.SeqView{{QStart: 0, QLen: T, KVLen: r.n + T, Pages: r.pages}}
	if all {
		for i := 0; i < T; i++ {
			b.Logits = append(b.Logits, i)
		}
	} else {
		b.Logits = []int{T - 1}
	}
	out, err := r.M.Forward(ctx, b, r.KV)
	if err != nil {
		return nil, err
	}
	r.n += T
	r.next += int32(T) + p.PosDelta
	return out, nil
}

// Step appends one token and returns its logits [1, Vocab].
func (r *Runner) Step(ctx context.Context, tok int32) (*tensor.Tensor, error) {
	return r.Prefill(ctx, &input.Prompt{Tokens: []int32{tok}}, false)
}
