package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/sightline/sightline/llm/engine"
	"github.com/sightline/sightline/llm/grammar"
	"github.com/sightline/sightline/llm/tokenizer"
)

// Grammars compiles constraints with llm/grammar against one tokenizer,
// caching compiled grammars and precomputing their token masks in the
// background the first time each is seen.
type Grammars struct {
	c    *grammar.Compiler
	mu   sync.Mutex
	seen map[*grammar.Grammar]bool
}

// NewGrammars prepares the vocabulary (vocab = the model's logit count).
func NewGrammars(tok *tokenizer.Tokenizer, vocab int) (*Grammars, error) {
	v, err := grammar.VocabFromTokenizer(tok, vocab)
	if err != nil {
		return nil, fmt.Errorf("grammar vocabulary: %w", err)
	}
	return &Grammars{c: grammar.NewCompiler(v, grammar.Options{}, 256), seen: map[*grammar.Grammar]bool{}}, nil
}

// Compile returns a fresh matcher of the (cached) grammar.
func (g *Grammars) Compile(kind, source string) (engine.Grammar, error) {
	gr, err := g.c.Compile(grammar.Kind(kind), source)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if !g.seen[gr] {
		g.seen[gr] = true
		go gr.Precompute(context.Background(), 1)
	}
	g.mu.Unlock()
	return gr.NewMatcher(), nil
}
