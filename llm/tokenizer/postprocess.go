package tokenizer

// postProcessor adds special tokens around a single encoded sequence.
type postProcessor interface {
	process(ids []int32) []int32
	// leading returns the ids placed before the sequence.
	leading() []int32
	// all returns every id the processor may add.
	all() []int32
}

type postSeq []postProcessor

func (p postSeq) process(ids []int32) []int32 {
	for _, x := range p {
		ids = x.process(ids)
	}
	return ids
}

func (p postSeq) all() []int32 {
	var out []int32
	for _, x := range p {
		out = append(out, x.all()...)
	}
	return out
}

func (p postSeq) leading() []int32 {
	var out []int32
	for _, x := range p {
		out = append(out, x.leading()...)
	}
	return out
}

// templatePost is TemplateProcessing's single template: fixed ids around the
// sequence (whose place is seqAt).
type templatePost struct {
	before, after []int32
}

func (t templatePost) process(ids []int32) []int32 {
	out := make([]int32, 0, len(t.before)+len(ids)+len(t.after))
	out = append(out, t.before...)
	out = append(out, ids...)
	return append(out, t.after...)
}

func (t templatePost) leading() []int32 { return t.before }
func (t templatePost) all() []int32     { return append(append([]int32(nil), t.before...), t.after...) }

// noopPost is the ByteLevel post-processor (offsets only).
type noopPost struct{}

func (noopPost) process(ids []int32) []int32 { return ids }
func (noopPost) leading() []int32            { return nil }
func (noopPost) all() []int32                { return nil }
