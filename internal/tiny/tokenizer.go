package tiny

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Qwen2-style pre-tokenizer regex (a public data constant of the Qwen2 tokenizer format).
const qwen2Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// chatML is the chat template of the tiny models (Qwen/ChatML style).
const chatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}" +
	"{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}" +
	"{% if part['type'] == 'text' %}{{ part['text'] }}{% elif part['type'] == 'image' or 'image' in part or 'image_url' in part %}<|vision_start|><|image_pad|><|vision_end|>" +
	"{% elif part['type'] == 'audio' or 'audio' in part or 'audio_url' in part or 'input_audio' in part %}<|audio_bos|><|AUDIO|><|audio_eos|>{% endif %}{% endfor %}{% endif %}" +
	"{{'<|im_end|>\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

// Specials are the added tokens of the tiny vocabulary, after the byte tokens and merges.
var Specials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>",
	"<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"}

// merges are byte-level BPE merges over the GPT-2 byte alphabet (Ġ = space).
var merges = [][2]string{
	{"Ġ", "t"}, {"h", "e"}, {"Ġ", "a"}, {"i", "n"}, {"Ġt", "he"}, {"e", "r"}, {"o", "n"}, {"Ġ", "s"}, {"r", "e"}, {"Ġ", "w"},
	{"a", "t"}, {"e", "n"}, {"o", "r"}, {"Ġ", "o"}, {"i", "s"}, {"e", "d"}, {"Ġ", "b"}, {"Ġ", "c"}, {"in", "g"}, {"Ġ", "f"},
	{"o", "u"}, {"a", "n"}, {"Ġ", "m"}, {"Ġ", "p"}, {"Ġ", "d"}, {"l", "l"}, {"a", "r"}, {"Ġ", "h"}, {"i", "t"}, {"Ġ", "i"},
	{"Ġo", "f"}, {"n", "d"}, {"Ġa", "nd"}, {"Ġ", "l"}, {"e", "s"}, {"Ġ", "n"}, {"a", "s"}, {"Ġw", "as"}, {"Ġ", "I"}, {"Ġ", "T"},
	{"Ġ", "y"}, {"o", "w"}, {"Ġ", "g"}, {"Ġi", "s"}, {"Ġt", "o"}, {"Ġ", "e"}, {"Ġ", "u"}, {"l", "e"}, {"Ġ", "C"}, {"Ġ", "A"},
}

// byteRunes is GPT-2's reversible byte→rune map used by byte-level BPE.
func byteRunes() [256]rune {
	var out [256]rune
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			out[b] = rune(b)
		} else {
			out[b] = rune(256 + n)
			n++
		}
	}
	return out
}

// Vocab is the tiny tokenizer: tokens by id, merges, and the special ids.
type Vocab struct {
	Tokens   []string
	Merges   []string // "a b"
	Special  map[string]int32
	Types    []int32 // GGUF token types: 1 normal, 3 control, 5 unused
	Normal   int     // tokens before the specials
	EOS, PAD int32
}

// NewVocab builds the vocabulary padded with unused tokens to size (0 = no padding).
func NewVocab(size int) (*Vocab, error) { return newVocab(size, nil) }

// newVocab is NewVocab with extra control tokens after Specials (e.g.
// LLaVA's <image>); without extras it is NewVocab's vocabulary exactly.
func newVocab(size int, extra []string) (*Vocab, error) {
	v := &Vocab{Special: map[string]int32{}}
	br := byteRunes()
	seen := map[string]bool{}
	for b := 0; b < 256; b++ {
		v.Tokens = append(v.Tokens, string(br[b]))
		seen[string(br[b])] = true
	}
	for _, m := range merges {
		if !seen[m[0]] || !seen[m[1]] {
			return nil, fmt.Errorf("tiny: merge %v uses an unknown token", m)
		}
		tok := m[0] + m[1]
		if seen[tok] {
			return nil, fmt.Errorf("tiny: merge %v repeats %q", m, tok)
		}
		seen[tok] = true
		v.Tokens = append(v.Tokens, tok)
		v.Merges = append(v.Merges, m[0]+" "+m[1])
	}
	v.Normal = len(v.Tokens)
	for _, s := range append(append([]string(nil), Specials...), extra...) {
		if _, dup := v.Special[s]; dup {
			return nil, fmt.Errorf("tiny: special token %q repeated", s)
		}
		v.Special[s] = int32(len(v.Tokens))
		v.Tokens = append(v.Tokens, s)
	}
	for i := range v.Tokens {
		t := int32(1)
		if i >= v.Normal {
			t = 3
		}
		v.Types = append(v.Types, t)
	}
	if size > 0 {
		if size < len(v.Tokens) {
			return nil, fmt.Errorf("tiny: vocab %d smaller than the %d tokens", size, len(v.Tokens))
		}
		for i := len(v.Tokens); i < size; i++ {
			v.Tokens = append(v.Tokens, fmt.Sprintf("[PAD%d]", i))
			v.Types = append(v.Types, 5)
		}
	}
	v.EOS, v.PAD = v.Special["<|im_end|>"], v.Special["<|endoftext|>"]
	return v, nil
}

// TokenizerJSON renders the HF tokenizer.json of v.
func (v *Vocab) TokenizerJSON() ([]byte, error) {
	vocab := map[string]int{}
	for i, t := range v.Tokens[:v.Normal] {
		vocab[t] = i
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var adds []added
	for i := v.Normal; i < len(v.Tokens); i++ {
		adds = append(adds, added{ID: i, Content: v.Tokens[i], Special: v.Types[i] == 3})
	}
	bl := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	doc := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": adds,
		"normalizer": map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": qwen2Regex}, "behavior": "Isolated", "invert": false}, bl}},
		"post_processor": bl, "decoder": bl,
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": v.Merges},
	}
	return json.MarshalIndent(doc, "", " ")
}

// TokenizerConfigJSON renders tokenizer_config.json (special tokens and chat template).
func (v *Vocab) TokenizerConfigJSON() ([]byte, error) {
	dec := map[string]any{}
	ids := make([]int, 0)
	for i := v.Normal; i < len(v.Tokens); i++ {
		ids = append(ids, i)
	}
	sort.Ints(ids)
	for _, i := range ids {
		dec[fmt.Sprint(i)] = map[string]any{"content": v.Tokens[i], "lstrip": false, "normalized": false,
			"rstrip": false, "single_word": false, "special": v.Types[i] == 3}
	}
	return json.MarshalIndent(map[string]any{
		"add_bos_token": false, "bos_token": nil, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
		"unk_token": nil, "model_max_length": 32768, "clean_up_tokenization_spaces": false,
		"added_tokens_decoder": dec, "chat_template": chatML,
	}, "", " ")
}
