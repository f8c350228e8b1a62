package api

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Item is one generation of a normalised /generate request: prompt i,
// sample j of n, at output index i·n + j.
type Item struct {
	Index, Prompt, Sample int
	RID                   string
	Text                  *string
	InputIDs              []int32
	Embeds                *Embeds
	SamplingParams        json.RawMessage // this prompt's sampling_params object, or nil
	ReturnLogprob         bool
	LogprobStartLen       int
	TopLogprobsNum        int
	TokenIDsLogprob       []int32
	ReturnHiddenStates    bool
	CustomLogitProcessor  *string
	LoraPath              *string
}

// Embeds is an input_embeds prompt: Rows × Hidden float32 values.
type Embeds struct {
	Rows, Hidden int
	Data         []float32
}

// Normalized is a request resolved into items. Batch means the response is a
// JSON array (list input or n > 1).
type Normalized struct {
	Batch   bool
	Prompts int
	N       int
	Items   []Item
}

// Normalize applies docs/api.md §3.2. newID returns a fresh 32-char hex id.
func (r *GenerateRequest) Normalize(newID func() string) (*Normalized, error) {
	kinds := 0
	for _, raw := range []json.RawMessage{r.Text, r.InputIDs, r.InputEmbeds, r.InputEmbedsBytes} {
		if present(raw) {
			kinds++
		}
	}
	if kinds == 0 {
		return nil, badf("Either text, input_ids or input_embeds should be provided.")
	}
	if kinds > 1 {
		return nil, badf("Only one of text, input_ids or input_embeds may be provided.")
	}
	nr := &Normalized{}
	var texts []*string
	var ids [][]int32
	var embeds []*Embeds
	var err error
	switch {
	case present(r.Text):
		texts, nr.Batch, err = decodeTexts(r.Text)
	case present(r.InputIDs):
		ids, nr.Batch, err = decodeIDs(r.InputIDs)
	case present(r.InputEmbeds):
		embeds, nr.Batch, err = decodeEmbeds(r.InputEmbeds)
	default:
		embeds, err = decodeEmbedBytes(r.InputEmbedsBytes, r.InputEmbedsShape)
	}
	if err != nil {
		return nil, err
	}
	B := max(len(texts), len(ids), len(embeds))
	nr.Prompts = B
	params, err := perPrompt(r.SamplingParams, B, "sampling_params")
	if err != nil {
		return nil, err
	}
	n, err := parallelN(params)
	if err != nil {
		return nil, err
	}
	nr.N = n
	if n > 1 {
		nr.Batch = true
		for _, f := range []struct {
			name string
			raw  json.RawMessage
		}{{"return_logprob", r.ReturnLogprob}, {"logprob_start_len", r.LogprobStartLen}, {"top_logprobs_num", r.TopLogprobsNum},
			{"custom_logit_processor", r.CustomLogitProcessor}} {
			if isList(f.raw) {
				return nil, badf("Cannot use list %s with parallel_sample_num > 1", f.name)
			}
		}
		if isList(r.TokenIDsLogprob) && nr.Batch && nestedList(r.TokenIDsLogprob) {
			return nil, badf("Cannot use list token_ids_logprob with parallel_sample_num > 1")
		}
	}
	rids, err := r.rids(B*n, nr.Batch, n > 1, newID)
	if err != nil {
		return nil, err
	}
	retLP, err := scalarOrList[bool](r.ReturnLogprob, B, nr.Batch, "return_logprob", false)
	if err != nil {
		return nil, err
	}
	startLP, err := scalarOrList[int](r.LogprobStartLen, B, nr.Batch, "logprob_start_len", -1)
	if err != nil {
		return nil, err
	}
	topLP, err := scalarOrList[int](r.TopLogprobsNum, B, nr.Batch, "top_logprobs_num", 0)
	if err != nil {
		return nil, err
	}
	hidden, err := scalarOrList[bool](r.ReturnHiddenStates, B, nr.Batch, "return_hidden_states", false)
	if err != nil {
		return nil, err
	}
	clp, err := scalarOrList[*string](r.CustomLogitProcessor, B, nr.Batch, "custom_logit_processor", nil)
	if err != nil {
		return nil, err
	}
	lora, err := scalarOrList[*string](r.LoraPath, B, nr.Batch, "lora_path", nil)
	if err != nil {
		return nil, err
	}
	tidLP, err := r.tokenIDsLogprob(B, nr.Batch)
	if err != nil {
		return nil, err
	}
	for i := 0; i < B; i++ {
		for j := 0; j < n; j++ {
			it := Item{Index: i*n + j, Prompt: i, Sample: j, RID: rids[i*n+j], SamplingParams: params[i],
				ReturnLogprob: retLP[i], LogprobStartLen: startLP[i], TopLogprobsNum: topLP[i], TokenIDsLogprob: tidLP[i],
				ReturnHiddenStates: hidden[i], CustomLogitProcessor: clp[i], LoraPath: lora[i]}
			switch {
			case texts != nil:
				it.Text = texts[i]
			case ids != nil:
				it.InputIDs = ids[i]
			default:
				it.Embeds = embeds[i]
			}
			nr.Items = append(nr.Items, it)
		}
	}
	return nr, nil
}

func nestedList(raw json.RawMessage) bool {
	var l []json.RawMessage
	return json.Unmarshal(raw, &l) == nil && len(l) > 0 && isList(l[0])
}

func decodeTexts(raw json.RawMessage) ([]*string, bool, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []*string{&s}, false, nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, false, badf("text must be a string or a list of strings")
	}
	if len(l) == 0 {
		return nil, false, badf("text cannot be an empty list")
	}
	out := make([]*string, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out, true, nil
}

func decodeIDs(raw json.RawMessage) ([][]int32, bool, error) {
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, false, badf("input_ids must be a list of token ids or a list of such lists")
	}
	if len(l) == 0 {
		return nil, false, badf("input_ids cannot be empty.")
	}
	if !isList(l[0]) {
		one, err := tokenList(raw, "input_ids")
		return [][]int32{one}, false, err
	}
	out := make([][]int32, len(l))
	for i, e := range l {
		ids, err := tokenList(e, "input_ids")
		if err != nil {
			return nil, false, err
		}
		if len(ids) == 0 {
			return nil, false, badf("input_ids cannot be empty.")
		}
		out[i] = ids
	}
	return out, true, nil
}

// tokenList decodes a flat list of non-negative 32-bit token ids.
func tokenList(raw json.RawMessage, field string) ([]int32, error) { return int32List(raw, field, 0) }

// int32List decodes a flat list of 32-bit integers ≥ lo.
func int32List(raw json.RawMessage, field string, lo int64) ([]int32, error) {
	var l []json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&l); err != nil {
		return nil, badf("%s must be a flat list of integers", field)
	}
	out := make([]int32, len(l))
	for i, n := range l {
		v, err := n.Int64()
		if err != nil || v < lo || v > math.MaxInt32 {
			return nil, badf("%s[%d] = %s is not a valid token id", field, i, n)
		}
		out[i] = int32(v)
	}
	return out, nil
}

func decodeEmbeds(raw json.RawMessage) ([]*Embeds, bool, error) {
	var one [][]float32
	if json.Unmarshal(raw, &one) == nil {
		e, err := embedsOf(one)
		return []*Embeds{e}, false, err
	}
	var many [][][]float32
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, false, badf("input_embeds must be [seq][hidden] or [batch][seq][hidden] numbers")
	}
	if len(many) == 0 {
		return nil, false, badf("input_embeds cannot be empty")
	}
	out := make([]*Embeds, len(many))
	for i, m := range many {
		e, err := embedsOf(m)
		if err != nil {
			return nil, false, err
		}
		out[i] = e
	}
	return out, true, nil
}

func embedsOf(rows [][]float32) (*Embeds, error) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return nil, badf("input_embeds cannot be empty")
	}
	e := &Embeds{Rows: len(rows), Hidden: len(rows[0])}
	for i, r := range rows {
		if len(r) != e.Hidden {
			return nil, badf("input_embeds row %d has %d values, row 0 has %d", i, len(r), e.Hidden)
		}
		e.Data = append(e.Data, r...)
	}
	return e, nil
}

func decodeEmbedBytes(raw, shapeRaw json.RawMessage) ([]*Embeds, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, badf("input_embeds_bytes must be a base64 string")
	}
	var shape []int
	if err := json.Unmarshal(shapeRaw, &shape); err != nil || len(shape) != 2 || shape[0] <= 0 || shape[1] <= 0 {
		return nil, badf("input_embeds_shape must be [seq, hidden] with positive sizes")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, badf("input_embeds_bytes is not valid base64: %v", err)
	}
	if len(b) != 4*shape[0]*shape[1] {
		return nil, badf("input_embeds_bytes has %d bytes, shape %v needs %d", len(b), shape, 4*shape[0]*shape[1])
	}
	e := &Embeds{Rows: shape[0], Hidden: shape[1], Data: make([]float32, shape[0]*shape[1])}
	for i := range e.Data {
		e.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return []*Embeds{e}, nil
}

// perPrompt resolves sampling_params: an object for all prompts or a list with one per prompt.
func perPrompt(raw json.RawMessage, B int, field string) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, B)
	if !present(raw) {
		return out, nil
	}
	if !isList(raw) {
		if t := bytes.TrimSpace(raw); t[0] != '{' {
			return nil, badf("%s must be an object or a list of objects", field)
		}
		for i := range out {
			out[i] = raw
		}
		return out, nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, badf("%s must be an object or a list of objects", field)
	}
	if len(l) != B {
		return nil, badf("The length of %s should be equal to the batch size (%d), got %d.", field, B, len(l))
	}
	for i, e := range l {
		if t := bytes.TrimSpace(e); len(t) == 0 || (t[0] != '{' && string(t) != "null") {
			return nil, badf("%s[%d] must be an object", field, i)
		}
		out[i] = e
	}
	return out, nil
}

// parallelN reads sampling_params.n, which must agree across prompts.
func parallelN(params []json.RawMessage) (int, error) {
	n := -1
	for _, p := range params {
		v := 1
		if present(p) {
			var x struct {
				N *json.Number `json:"n"`
			}
			if err := json.Unmarshal(p, &x); err != nil {
				return 0, badf("sampling_params.n must be an integer")
			}
			if x.N != nil {
				i, err := x.N.Int64()
				if err != nil || i < 1 || i > 1024 {
					return 0, badf("n must be an integer in [1, 1024], got %s.", x.N)
				}
				v = int(i)
			}
		}
		if n != -1 && v != n {
			return 0, badf("The parallel_sample_num should be the same for all samples in sample params.")
		}
		n = v
	}
	return max(n, 1), nil
}

func (r *GenerateRequest) rids(total int, batch, fanout bool, newID func() string) ([]string, error) {
	out := make([]string, total)
	var one string
	var list []string
	switch {
	case !present(r.RID):
	case json.Unmarshal(r.RID, &one) == nil:
	case json.Unmarshal(r.RID, &list) == nil:
	default:
		return nil, badf("The rid should be a string or a list of strings.")
	}
	switch {
	case !present(r.RID) || fanout: // with n > 1 the per-sample ids are the server's
		for i := range out {
			out[i] = newID()
		}
	case list == nil && !batch:
		out[0] = one
	case list == nil:
		for i := range out {
			out[i] = one + "_" + strconv.Itoa(i)
		}
	default:
		if !batch || len(list) != total {
			return nil, badf("The specified rids length mismatch with the batch_size for batch processing.")
		}
		seen := map[string]int{}
		var dups []string
		for _, x := range list {
			if seen[x]++; seen[x] == 2 {
				dups = append(dups, "'"+x+"'")
			}
		}
		if len(dups) > 0 {
			sort.Strings(dups)
			return nil, badf("Duplicate request IDs detected within the request: [%s]", strings.Join(dups, ", "))
		}
		copy(out, list)
	}
	return out, nil
}

// scalarOrList resolves a field that is one value for all prompts or a list of B.
func scalarOrList[T any](raw json.RawMessage, B int, batch bool, field string, def T) ([]T, error) {
	out := make([]T, B)
	for i := range out {
		out[i] = def
	}
	if !present(raw) {
		return out, nil
	}
	var one T
	if !isList(raw) {
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, badf("%s has the wrong type: %s", field, jsonMessage(err))
		}
		for i := range out {
			out[i] = one
		}
		return out, nil
	}
	if !batch {
		return nil, badf("%s must be a single value for a single request", field)
	}
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil || len(l) != B {
		return nil, badf("The length of %s should be equal to the batch size (%d).", field, B)
	}
	for i, e := range l {
		if !present(e) {
			continue
		}
		if err := json.Unmarshal(e, &out[i]); err != nil {
			return nil, badf("%s[%d] has the wrong type: %s", field, i, jsonMessage(err))
		}
	}
	return out, nil
}

// tokenIDsLogprob is a flat list (all prompts) or, in a batch, a list of lists.
func (r *GenerateRequest) tokenIDsLogprob(B int, batch bool) ([][]int32, error) {
	out := make([][]int32, B)
	if !present(r.TokenIDsLogprob) {
		return out, nil
	}
	if batch && nestedList(r.TokenIDsLogprob) {
		var l []json.RawMessage
		if err := json.Unmarshal(r.TokenIDsLogprob, &l); err != nil || len(l) != B {
			return nil, badf("The length of token_ids_logprob should be equal to the batch size (%d).", B)
		}
		for i, e := range l {
			if !present(e) {
				continue
			}
			ids, err := int32List(e, "token_ids_logprob", math.MinInt32)
			if err != nil {
				return nil, badf("token_ids_logprob must be a flat list of integers.")
			}
			out[i] = ids
		}
		return out, nil
	}
	// negative ids parse: the server reports them out of the vocabulary, as SGLang does
	ids, err := int32List(r.TokenIDsLogprob, "token_ids_logprob", math.MinInt32)
	if err != nil {
		return nil, badf("token_ids_logprob must be a flat list of integers.")
	}
	for i := range out {
		out[i] = ids
	}
	return out, nil
}
