package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func ids() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("gen%d", n) }
}

func norm(t *testing.T, body string) (*Normalized, error) {
	t.Helper()
	r, err := DecodeGenerate([]byte(body))
	if err != nil {
		return nil, err
	}
	return r.Normalize(ids())
}

func TestNormalizeShapes(t *testing.T) {
	cases := []struct {
		body  string
		batch bool
		items int
		check func(*Normalized) string
	}{
		{`{"text":"hi"}`, false, 1, func(n *Normalized) string {
			if *n.Items[0].Text != "hi" || n.Items[0].RID != "gen1" || n.Items[0].LogprobStartLen != -1 {
				return "single text"
			}
			return ""
		}},
		{`{"text":["a","b"],"rid":"R"}`, true, 2, func(n *Normalized) string {
			if n.Items[0].RID != "R_0" || n.Items[1].RID != "R_1" || *n.Items[1].Text != "b" {
				return "batch rid suffixes"
			}
			return ""
		}},
		{`{"input_ids":[1,2,3],"rid":"x"}`, false, 1, func(n *Normalized) string {
			if len(n.Items[0].InputIDs) != 3 || n.Items[0].RID != "x" {
				return "single ids"
			}
			return ""
		}},
		{`{"input_ids":[[1],[2,3]],"rid":["a","b"],"return_logprob":[true,false],"top_logprobs_num":2}`, true, 2, func(n *Normalized) string {
			if !n.Items[0].ReturnLogprob || n.Items[1].ReturnLogprob || n.Items[1].TopLogprobsNum != 2 || n.Items[1].RID != "b" {
				return "per-item fields"
			}
			return ""
		}},
		{`{"text":["p","q"],"sampling_params":{"n":2}}`, true, 4, func(n *Normalized) string {
			it := n.Items[3]
			if it.Prompt != 1 || it.Sample != 1 || it.Index != 3 || *it.Text != "q" || n.N != 2 {
				return "n fan-out grouped by prompt"
			}
			return ""
		}},
		{`{"text":"x","sampling_params":{"n":3},"rid":"mine"}`, true, 3, func(n *Normalized) string {
			if n.Items[0].RID == "mine" {
				return "n>1 ids are server-generated"
			}
			return ""
		}},
		{`{"input_embeds":[[0.5,1],[2,3]]}`, false, 1, func(n *Normalized) string {
			e := n.Items[0].Embeds
			if e.Rows != 2 || e.Hidden != 2 || e.Data[2] != 2 {
				return "embeds"
			}
			return ""
		}},
		{`{"input_embeds_bytes":"AAAAPwAAgD8=","input_embeds_shape":[1,2]}`, false, 1, func(n *Normalized) string {
			e := n.Items[0].Embeds
			if e.Data[0] != 0.5 || e.Data[1] != 1 {
				return "embed bytes"
			}
			return ""
		}},
		{`{"text":"x","token_ids_logprob":[5,6],"model":"ignored-extra"}`, false, 1, func(n *Normalized) string {
			if len(n.Items[0].TokenIDsLogprob) != 2 {
				return "token_ids_logprob"
			}
			return ""
		}},
	}
	for _, c := range cases {
		n, err := norm(t, c.body)
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if n.Batch != c.batch || len(n.Items) != c.items {
			t.Fatalf("%s: batch %v items %d", c.body, n.Batch, len(n.Items))
		}
		if msg := c.check(n); msg != "" {
			t.Fatalf("%s: %s: %+v", c.body, msg, n.Items)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	cases := []struct{ body, msg string }{
		{`{}`, "Either text, input_ids or input_embeds should be provided."},
		{`{"text":"a","input_ids":[1]}`, "Only one of"},
		{`{"input_ids":[]}`, "input_ids cannot be empty."},
		{`{"input_ids":[[1],[]]}`, "input_ids cannot be empty."},
		{`{"input_ids":[1,-2]}`, "not a valid token id"},
		{`{"input_ids":[1.5]}`, "not a valid token id"},
		{`{"text":5}`, "text must be a string"},
		{`{"text":["a","b"],"sampling_params":[{"n":2},{"n":3}]}`, "The parallel_sample_num should be the same for all samples in sample params."},
		{`{"text":["a","b"],"sampling_params":{"n":2},"return_logprob":[true,false]}`, "Cannot use list return_logprob with parallel_sample_num > 1"},
		{`{"text":["a","b"],"rid":["x"]}`, "The specified rids length mismatch with the batch_size for batch processing."},
		{`{"text":["a","b"],"rid":["x","x"]}`, "Duplicate request IDs detected within the request: ['x']"},
		{`{"text":"a","rid":5}`, "The rid should be a string or a list of strings."},
		{`{"text":["a","b"],"sampling_params":[{}]}`, "The length of sampling_params should be equal to the batch size"},
		{`{"text":"a","sampling_params":5}`, "sampling_params must be an object"},
		{`{"text":"a","return_logprob":"yes"}`, "return_logprob has the wrong type"},
		{`{"text":"a","token_ids_logprob":[[1]]}`, "token_ids_logprob must be a flat list of integers."},
		{`{"input_embeds":[[1,2],[3]]}`, "row 1 has 1 values"},
		{`{"input_embeds_bytes":"AAAA","input_embeds_shape":[1,2]}`, "needs 8"},
		{`[1,2]`, "must be a JSON object"},
		{`{"text":`, "invalid JSON"},
		{`{"text":"a","sampling_params":{"n":0}}`, "n must be an integer in [1, 1024]"},
	}
	for _, c := range cases {
		_, err := norm(t, c.body)
		if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", c.body, err, c.msg)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{`{"text":"hi"}`, `{"input_ids":[[1],[2]],"rid":["a","b"]}`, `{"text":["a"],"sampling_params":{"n":2}}`,
		`{"input_embeds":[[1,2]]}`, `{"input_embeds_bytes":"AAAA","input_embeds_shape":[1,1]}`, `{"text":"a","token_ids_logprob":[1]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeGenerate(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("decode error %v is not a bad request", err)
			}
			return
		}
		n, err := r.Normalize(ids())
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("normalize error %v is not a bad request", err)
			}
			return
		}
		if len(n.Items) != n.Prompts*n.N || n.N < 1 {
			t.Fatalf("%d items for %d prompts × %d", len(n.Items), n.Prompts, n.N)
		}
		for i, it := range n.Items {
			if it.Index != i || it.RID == "" {
				t.Fatalf("item %d: %+v", i, it)
			}
		}
	})
}
