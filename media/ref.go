package media

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ParseSingle parses the raw JSON of image_data / audio_data for a single
// (non-batch) request (docs/api.md §4.1): an item, or a list of items in prompt
// order. null, [] and null entries mean no media. A nested list is accepted
// only with one entry (a batch of one).
func ParseSingle(raw []byte, m Modality) ([]Ref, error) {
	elems, isList, err := splitContainer(raw, m)
	if err != nil || elems == nil {
		return nil, err
	}
	if !isList {
		r, err := parseItem(elems[0], m, m.field())
		if err != nil {
			return nil, err
		}
		return []Ref{r}, nil
	}
	kind, err := listKind(elems, m)
	if err != nil {
		return nil, err
	}
	if kind == kindList {
		if len(elems) != 1 {
			return nil, fmt.Errorf("%w: %s: a nested list (one list per prompt) needs a batch request", ErrInvalid, m.field())
		}
		return parseEntry(elems[0], m, m.field()+"[0]")
	}
	return parseItems(elems, m, m.field())
}

// ParseBatch parses image_data / audio_data for a batch of n prompts and
// returns one list per prompt (docs/api.md §4.1): a single item is shared by every
// prompt; a flat list gives one item per prompt; a nested list gives one list
// per prompt, where null, [] and [null] mean no media. Lists must have n
// entries.
func ParseBatch(raw []byte, m Modality, n int) ([][]Ref, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: batch size %d", ErrInvalid, n)
	}
	out := make([][]Ref, n)
	elems, isList, err := splitContainer(raw, m)
	if err != nil || elems == nil {
		return out, err
	}
	if !isList {
		r, err := parseItem(elems[0], m, m.field())
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = []Ref{r}
		}
		return out, nil
	}
	if len(elems) != n {
		return nil, fmt.Errorf("%w: The length of %s should be equal to the batch size.", ErrInvalid, m.field())
	}
	kind, err := listKind(elems, m)
	if err != nil {
		return nil, err
	}
	for i, e := range elems {
		path := fmt.Sprintf("%s[%d]", m.field(), i)
		switch {
		case isNull(e):
		case kind == kindList:
			if out[i], err = parseEntry(e, m, path); err != nil {
				return nil, err
			}
		default:
			r, err := parseItem(e, m, path)
			if err != nil {
				return nil, err
			}
			out[i] = []Ref{r}
		}
	}
	return out, nil
}

// splitContainer returns the top-level elements: nil for no media, one
// element with isList false for a bare item.
func splitContainer(raw []byte, m Modality) (elems []json.RawMessage, isList bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return nil, false, nil
	}
	if raw[0] != '[' {
		return []json.RawMessage{raw}, false, nil
	}
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, false, fmt.Errorf("%w: %s: %v", ErrInvalid, m.field(), err)
	}
	if len(elems) == 0 {
		return nil, true, nil
	}
	return elems, true, nil
}

type elemKind int

const (
	kindNone elemKind = iota // only nulls
	kindItem
	kindList
)

// listKind classifies a list as flat (items) or nested (lists); nulls fit both.
func listKind(elems []json.RawMessage, m Modality) (elemKind, error) {
	kind := kindNone
	for _, e := range elems {
		k := kindItem
		switch {
		case isNull(e):
			continue
		case e[0] == '[':
			k = kindList
		}
		if kind != kindNone && k != kind {
			return 0, fmt.Errorf("%w: %s mixes items and lists", ErrInvalid, m.field())
		}
		kind = k
	}
	return kind, nil
}

// parseEntry parses one prompt's list (or null) of a nested container.
func parseEntry(raw json.RawMessage, m Modality, path string) ([]Ref, error) {
	if isNull(raw) {
		return nil, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	for _, e := range elems {
		if len(e) > 0 && e[0] == '[' {
			return nil, fmt.Errorf("%w: %s: lists nested more than two deep", ErrInvalid, path)
		}
	}
	return parseItems(elems, m, path)
}

// parseItems parses a flat list of items and nulls (nulls are skipped).
func parseItems(elems []json.RawMessage, m Modality, path string) ([]Ref, error) {
	refs := make([]Ref, 0, len(elems))
	for i, e := range elems {
		if isNull(e) {
			continue
		}
		r, err := parseItem(e, m, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	for _, r := range refs {
		if r.Format != Raw && len(refs) > 1 {
			return nil, fmt.Errorf("%w: %s: %s: you must pass exactly one item", ErrInvalid, path, r.Format)
		}
	}
	return refs, nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// ParseItem parses one media item: a source string, an object with "url" and
// hints, or a pre-processed object with "format" (docs/api.md §4.2, §4.4).
func ParseItem(raw []byte, m Modality) (Ref, error) { return parseItem(raw, m, m.field()) }

func parseItem(raw []byte, m Modality, path string) (Ref, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Ref{}, fmt.Errorf("%w: %s: empty item", ErrInvalid, path)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Ref{}, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
		}
		if s == "" {
			return Ref{}, fmt.Errorf("%w: %s: empty source string", ErrInvalid, path)
		}
		return Ref{Modality: m, Format: Raw, Src: s}, nil
	case '{':
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			return Ref{}, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
		}
		if _, ok := keys["format"]; ok {
			return parsePreprocessed(keys, m, path)
		}
		return parseURLObject(raw, m, path)
	}
	return Ref{}, fmt.Errorf("%w: %s: an item must be a string or an object", ErrInvalid, path)
}

// urlObject is the object form of a media item; unknown keys are rejected.
type urlObject struct {
	URL               *string  `json:"url"`
	Detail            *string  `json:"detail"`
	MinPixels         *int64   `json:"min_pixels"`
	MaxPixels         *int64   `json:"max_pixels"`
	TotalMaxPixels    *int64   `json:"total_max_pixels"`
	MinDynamicPatch   *int     `json:"min_dynamic_patch"`
	MaxDynamicPatch   *int     `json:"max_dynamic_patch"`
	FPS               *float64 `json:"fps"`
	NumFrames         *int     `json:"num_frames"`
	MinFrames         *int     `json:"min_frames"`
	MaxFrames         *int     `json:"max_frames"`
	MaxTokensPerFrame *int     `json:"max_tokens_per_frame"`
	MaxImageTokens    *int     `json:"max_image_tokens"`
	UseAudio          *bool    `json:"use_audio"`
	ContentHash       *string  `json:"content_hash"`
}

func parseURLObject(raw []byte, m Modality, path string) (Ref, error) {
	var o urlObject
	if err := strictUnmarshal(raw, &o); err != nil {
		return Ref{}, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if o.URL == nil || *o.URL == "" {
		return Ref{}, fmt.Errorf("%w: %s: object item needs a non-empty \"url\"", ErrInvalid, path)
	}
	r := Ref{Modality: m, Format: Raw, Src: *o.URL}
	h := &r.Hints
	if o.Detail != nil {
		switch *o.Detail {
		case "auto", "low", "high":
			h.Detail = *o.Detail
		default:
			return Ref{}, fmt.Errorf("%w: %s: detail must be auto, low or high, got %q", ErrInvalid, path, *o.Detail)
		}
	}
	ints := []struct {
		name string
		src  *int64
		dst  *int64
	}{
		{"min_pixels", o.MinPixels, &h.MinPixels},
		{"max_pixels", o.MaxPixels, &h.MaxPixels},
		{"total_max_pixels", o.TotalMaxPixels, &h.TotalMaxPixels},
	}
	for _, f := range ints {
		if f.src != nil {
			if *f.src < 0 {
				return Ref{}, fmt.Errorf("%w: %s: %s must be ≥ 0", ErrInvalid, path, f.name)
			}
			*f.dst = *f.src
		}
	}
	smalls := []struct {
		name string
		src  *int
		dst  *int
	}{
		{"min_dynamic_patch", o.MinDynamicPatch, &h.MinDynamicPatch},
		{"max_dynamic_patch", o.MaxDynamicPatch, &h.MaxDynamicPatch},
		{"num_frames", o.NumFrames, &h.NumFrames},
		{"min_frames", o.MinFrames, &h.MinFrames},
		{"max_frames", o.MaxFrames, &h.MaxFrames},
		{"max_tokens_per_frame", o.MaxTokensPerFrame, &h.MaxTokensPerFrame},
		{"max_image_tokens", o.MaxImageTokens, &h.MaxImageTokens},
	}
	for _, f := range smalls {
		if f.src != nil {
			if *f.src < 0 {
				return Ref{}, fmt.Errorf("%w: %s: %s must be ≥ 0", ErrInvalid, path, f.name)
			}
			*f.dst = *f.src
		}
	}
	if o.MinPixels != nil && o.MaxPixels != nil && h.MaxPixels > 0 && h.MinPixels > h.MaxPixels {
		return Ref{}, fmt.Errorf("%w: %s: min_pixels %d > max_pixels %d", ErrInvalid, path, h.MinPixels, h.MaxPixels)
	}
	if o.FPS != nil {
		if !(*o.FPS > 0) {
			return Ref{}, fmt.Errorf("%w: %s: fps must be > 0", ErrInvalid, path)
		}
		h.FPS = *o.FPS
	}
	if o.UseAudio != nil {
		h.UseAudio = *o.UseAudio
	}
	if o.ContentHash != nil {
		ch, err := parseContentHash(*o.ContentHash)
		if err != nil {
			return Ref{}, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
		}
		h.ContentHash = ch
		r.ID = ch
	}
	return r, nil
}

// parseContentHash validates "sha256:<64 hex>" and lower-cases it.
func parseContentHash(s string) (string, error) {
	const prefix = "sha256:"
	hexPart, ok := strings.CutPrefix(s, prefix)
	if !ok || len(hexPart) != 64 {
		return "", fmt.Errorf("content_hash must be \"sha256:<64 hex digits>\"")
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fmt.Errorf("content_hash must be \"sha256:<64 hex digits>\"")
	}
	return prefix + strings.ToLower(hexPart), nil
}

// Feature keys of a processor_output object (docs/api.md §4.4); one is required.
var featureKeys = []string{"pixel_values", "pixel_values_videos", "input_features", "audio_features"}

// parsePreprocessed parses {"format": "processor_output" | "precomputed_embedding", ...}.
// Every key but format, modality and hash holds a numeric array; a
// precomputed "feature" may also be base64 float32 with a top-level "shape".
func parsePreprocessed(keys map[string]json.RawMessage, m Modality, path string) (Ref, error) {
	var format string
	if err := json.Unmarshal(keys["format"], &format); err != nil {
		return Ref{}, fmt.Errorf("%w: %s: format must be a string", ErrInvalid, path)
	}
	r := Ref{Modality: m, Arrays: map[string]Array{}}
	switch format {
	case "processor_output":
		r.Format = ProcessorOutput
	case "precomputed_embedding":
		r.Format = Precomputed
	default:
		return Ref{}, fmt.Errorf("%w: %s: unknown format %q (want processor_output or precomputed_embedding)", ErrInvalid, path, format)
	}
	var b64Shape []int
	if raw, ok := keys["shape"]; ok && r.Format == Precomputed && isJSONString(keys["feature"]) {
		if err := json.Unmarshal(raw, &b64Shape); err != nil {
			return Ref{}, fmt.Errorf("%w: %s: shape: %v", ErrInvalid, path, err)
		}
		delete(keys, "shape")
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		raw := keys[k]
		switch k {
		case "format":
			continue
		case "modality":
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || !modalityMatches(s, m) {
				return Ref{}, fmt.Errorf("%w: %s: modality %s does not match %s", ErrInvalid, path, raw, m.field())
			}
			continue
		case "hash":
			id, err := parseHashKey(raw)
			if err != nil {
				return Ref{}, fmt.Errorf("%w: %s: hash: %v", ErrInvalid, path, err)
			}
			r.ID = id
			continue
		}
		if isNull(raw) {
			continue
		}
		var a Array
		var err error
		if k == "feature" && isJSONString(raw) {
			if b64Shape == nil {
				return Ref{}, fmt.Errorf("%w: %s: base64 feature needs a \"shape\"", ErrInvalid, path)
			}
			var s string
			_ = json.Unmarshal(raw, &s)
			a, err = decodeB64F32(s, b64Shape, 0)
		} else {
			a, err = ParseArray(raw, 0)
		}
		if err != nil {
			return Ref{}, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		r.Arrays[k] = a
	}
	switch r.Format {
	case Precomputed:
		f, ok := r.Arrays["feature"]
		if !ok {
			return Ref{}, fmt.Errorf("%w: %s: precomputed_embedding needs \"feature\"", ErrInvalid, path)
		}
		if len(f.Shape) < 2 || f.Len() == 0 {
			return Ref{}, fmt.Errorf("%w: %s: feature must be a non-empty [N][hidden] array, got shape %v", ErrInvalid, path, f.Shape)
		}
	case ProcessorOutput:
		found := false
		for _, k := range featureKeys {
			_, ok := r.Arrays[k]
			found = found || ok
		}
		if !found {
			return Ref{}, fmt.Errorf("%w: %s: processor_output needs one of %s", ErrInvalid, path, strings.Join(featureKeys, ", "))
		}
	}
	return r, nil
}

func isJSONString(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

// modalityMatches accepts SGLang's Modality names (IMAGE, MULTI_IMAGES, AUDIO), any case.
func modalityMatches(s string, m Modality) bool {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "_")) {
	case "IMAGE", "MULTI_IMAGES":
		return m == Image
	case "AUDIO":
		return m == Audio
	}
	return false
}

// parseHashKey accepts a string or an integer identity.
func parseHashKey(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", fmt.Errorf("empty")
		}
		return s, nil
	}
	t := strings.TrimPrefix(string(bytes.TrimSpace(raw)), "-")
	if t == "" || len(t) > 40 || strings.Trim(t, "0123456789") != "" {
		return "", fmt.Errorf("must be a string or an integer")
	}
	return "int:" + string(bytes.TrimSpace(raw)), nil
}

// strictUnmarshal decodes one JSON value, rejecting unknown object keys.
func strictUnmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}
