// Package input holds the plain data shared by the processors, the encoders,
// the models and the engine: prompts with media spans, and forward batches.
package input

import "github.com/sightline/sightline/llm/tensor"

// Batch is one forward step over every scheduled sequence (ragged: prefill
// chunks and decode tokens together). Row r of the batch is token Tokens[r].
//
//	rows:   | seq 0: QLen rows | seq 1: QLen rows | ... |
//	seq s's rows are [QStart, QStart+QLen); their K/V go to Slots[r].
type Batch struct {
	Tokens []int32    // [T] token ids (a spliced row's id is ignored)
	Pos    []int32    // [T] RoPE positions
	PosM   [][3]int32 // [T] M-RoPE (t, h, w) positions; nil ⇒ (Pos, Pos, Pos)
	Seqs   []SeqView
	Slots  []int32 // [T] KV-pool slot each row's K/V is written to
	Splice []Splice
	Logits []int // rows whose logits Forward returns, in this order
}

// SeqView is one sequence's share of a batch and of the KV pool.
type SeqView struct {
	QStart, QLen int     // rows of this sequence in the batch
	KVLen        int     // keys after this step, including these QLen rows
	Pages        []int32 // KV pages in order: key j lives in Pages[j/PageSize]
}

// Splice replaces the token embeddings of rows [Row, Row+Len) with rows
// [From, From+Len) of Embeds ([n, DModel]): media embeddings and input_embeds.
type Splice struct {
	Row, Len int
	Embeds   *tensor.Tensor
	From     int
}

// T is the number of rows.
func (b *Batch) T() int { return len(b.Tokens) }
