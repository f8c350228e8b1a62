// Package sample implements SGLang's sampling_params (docs/api.md §3.3–3.7,
// §3.10): parsing and validation with SGLang's exact 400 messages, a
// per-sequence Sampler, log-probabilities, stop-string/regex matching,
// finish reasons and native custom logit processors.
//
// One sequence's step, as the engine drives it:
//
//	s, _ := sample.NewSampler(&params, sample.Options{Vocab: V, Seed: seed, Suppress: eosAndStopIDs})
//	tok, err := s.Sample(logits, grammarMask) // grammarMask nil = all allowed
//	lp := s.Dist()                            // only when logprobs are wanted
//	s.Accept(tok)                             // penalties, min_new_tokens, processors
//	m, stopped := stopChecker.Feed(newText, s.Generated() >= params.MinNewTokens)
//
// Logit pipeline inside Sample (SGLang order):
//
//	mask (allowed) → repetition → frequency/presence → min_new_tokens
//	suppression → logit_bias → custom processors → mask again →
//	temperature → softmax → top-k / top-p / min-p → seeded PCG draw
//
// Nothing here is safe for concurrent use; the engine goroutine owns every
// Sampler and StopChecker.
package sample
