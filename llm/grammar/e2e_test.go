package grammar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/sightline/sightline/internal/tiny"
	"github.com/sightline/sightline/llm/input"
	"github.com/sightline/sightline/llm/kvcache"
	"github.com/sightline/sightline/llm/model"
	_ "github.com/sightline/sightline/llm/model/llama"
	"github.com/sightline/sightline/llm/tensor"
	refbackend "github.com/sightline/sightline/llm/tensor/ref"
	"github.com/sightline/sightline/llm/tokenizer"
)

// End-to-end: a random-weight tiny model (which "wants" garbage) decodes
// under each constraint with a masked sampler; every completed output must
// match / parse / validate with an independent checker.

var e2eSchemas = []string{
	seedSchema,
	`{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":0,"maximum":120},"address":{"type":"object","properties":{"street":{"type":"string","maxLength":10},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["zip"]}},"required":["name","address"]}`,
	`{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/node"}`,
	`{"$defs":{"t":{"type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":99},"kids":{"type":"array","items":{"$ref":"#/$defs/t"},"maxItems":2}},"required":["id","kids"]}},"$ref":"#/$defs/t"}`,
	`{"enum":["red","green","blue"]}`,
	`{"enum":["a",1,2.5,true,null,{"k":[1,2]},["x"]]}`,
	`{"const":{"status":"ok","code":200}}`,
	`{"type":"array","items":{"type":"integer","minimum":-5,"maximum":5},"minItems":2,"maxItems":4}`,
	`{"type":"array","items":{"type":"boolean"},"maxItems":3}`,
	`{"type":"string","pattern":"^\\(\\d{3}\\) \\d{3}-\\d{4}$"}`,
	`{"type":"string","pattern":"^[a-z]+$","minLength":2,"maxLength":5}`,
	`{"anyOf":[{"type":"string","maxLength":3},{"type":"integer","minimum":0,"maximum":1000},{"type":"null"}]}`,
	`{"oneOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number","minimum":0,"maximum":10}},"required":["kind","r"]},{"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"integer","minimum":1,"maximum":9}},"required":["kind","side"]}]}`,
	`{"type":"integer","minimum":-1000,"maximum":1000}`,
	`{"type":"number","minimum":-1.5,"maximum":2.25}`,
	`{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"type":"integer","minimum":0,"maximum":3}}}`,
	`{"type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":9}},"required":["id"],"additionalProperties":{"type":"boolean"}}`,
	`{"type":"object","properties":{"x":{"enum":[1,2]},"y":{"enum":[3,4]}},"additionalProperties":false}`,
	JSONObjectSchema,
	`{}`,
	`{"type":["string","null"],"maxLength":4}`,
	`{"type":"array","prefixItems":[{"type":"string","maxLength":3},{"type":"integer","minimum":0,"maximum":9},{"type":"boolean"}],"items":false,"minItems":3}`,
	`{"type":"array","items":{"type":"array","items":{"type":"number","minimum":0,"maximum":1},"maxItems":3},"maxItems":3}`,
	nestedSchema,
	`{"type":"string","maxLength":5}`,
	`{"type":"object","properties":{"d":{"type":"string","format":"date"},"u":{"type":"string","format":"uuid"}},"required":["d","u"]}`,
	`{"type":"boolean"}`,
	`{"type":"null"}`,
	`{"type":"object","required":["key"]}`,
	`{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"p":{"type":"object","properties":{"x":{"type":"integer","minimum":0,"maximum":9},"y":{"type":"integer","minimum":0,"maximum":9}},"required":["x","y"]}},"type":"array","items":{"$ref":"#/definitions/p"},"maxItems":3}`,
	`{"type":"object","properties":{"p1":{"type":"boolean"},"p2":{"type":"boolean"},"p3":{"type":"boolean"},"p4":{"type":"boolean"},"p5":{"type":"boolean"},"p6":{"type":"boolean"},"p7":{"type":"boolean"},"p8":{"type":"boolean"},"p9":{"type":"boolean"},"p10":{"type":"boolean"}},"required":["p5"]}`,
	`{"type":"array","items":{"type":"object","properties":{"level":{"enum":["low","mid","high"]},"ok":{"type":"boolean"}},"required":["level"]},"minItems":1,"maxItems":3}`,
	`{"enum":["a\"b","é","line\nbreak","tab\t","back\\slash"]}`,
	`{"type":"number"}`,
	`{"type":"integer","exclusiveMinimum":-20,"exclusiveMaximum":-3}`,
	`{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","pattern":"^#[a-z]{1,6}$"},"maxItems":3},"score":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1}},"required":["tags","score"]}`,
}

var e2eRegexes = []string{
	`(France|England)`,
	`\d{3}-\d{4}`,
	`[a-z]+@[a-z]+\.(com|org)`,
	`(yes|no|maybe)`,
	`[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8})?`,
	`-?\d+(\.\d+)?`,
	`0x[0-9a-fA-F]{1,8}`,
	`\d{4}-\d{2}-\d{2}`,
	`(ab|cd)*e`,
	`[^\n]{1,20}`,
	`\p{Han}{1,4}`,
	`(?i)hello world`,
	`\w+(, \w+){0,3}`,
	`\(\d{3}\) \d{3}-\d{4}`,
	`(true|false)`,
	`[01]{8}`,
	`\s{0,3}[a-c]{2}\s{0,3}`,
	`#[0-9a-f]{6}`,
	`(\d{1,3}\.){3}\d{1,3}`,
	`https?://[a-z]{1,10}\.com(/[a-z]{1,8}){0,2}`,
	`.{3,6}`,
	`(é|ü|中)+!`,
}

type ebnfCase struct {
	src   string
	check func(string) error
}

func matchRe(re string) func(string) error {
	r := regexp.MustCompile(`^(?:` + re + `)$`)
	return func(s string) error {
		if !r.MatchString(s) {
			return fmt.Errorf("does not match %s", re)
		}
		return nil
	}
}

var e2eGrammars = []ebnfCase{
	{`root ::= "Hello" | "Hi" | "Hey"`, matchRe(`Hello|Hi|Hey`)},
	{`root ::= "(" root ")" root | ""`, checkBalanced},
	{`root ::= value
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( string ":" value ( "," string ":" value )* )? "}"
array ::= "[" ( value ( "," value )* )? "]"
string ::= "\"" [a-z]{0,6} "\""
number ::= "-"? ( "0" | [1-9] [0-9]{0,5} )`, func(s string) error {
		if !json.Valid([]byte(s)) {
			return errors.New("invalid JSON")
		}
		return nil
	}},
	{`root ::= expr
expr ::= term (("+" | "-") term)*
term ::= factor (("*" | "/") factor)*
factor ::= [0-9]{1,3} | "(" expr ")"`, checkArith},
	{`root ::= word ("," " "? word)*
word ::= [a-z]{1,8}`, matchRe(`[a-z]{1,8}(, ?[a-z]{1,8})*`)},
	{`root ::= line+
line ::= [a-z]{1,5} "=" [0-9]{1,4} "\n"`, matchRe(`([a-z]{1,5}=[0-9]{1,4}\n)+`)},
	{`# a CSV row of quoted fields
root ::= field ("," field)*
field ::= "\"" [^"\n]{0,5} "\""`, matchRe(`"[^"\n]{0,5}"(,"[^"\n]{0,5}")*`)},
	{`root ::= ("yes" | "no") ( " " ( "please" | "thanks" ) )?  # grouping`, matchRe(`(yes|no)( (please|thanks))?`)},
	{`root ::= "a" root "a" | "b" root "b" | "c"`, checkPalindrome},
	{`root ::= "[" (root ("," root)*)? "]"`, checkNestedLists},
	{`root ::= [a-z]{2,4} "-" [0-9]{3}`, matchRe(`[a-z]{2,4}-[0-9]{3}`)},
	{`root ::= "\"" [^"\\\n]* "\""`, matchRe(`"[^"\\\n]*"`)},
}

func checkBalanced(s string) error {
	d := 0
	for _, c := range s {
		switch c {
		case '(':
			d++
		case ')':
			d--
		default:
			return fmt.Errorf("unexpected %q", c)
		}
		if d < 0 {
			return errors.New("unbalanced")
		}
	}
	if d != 0 {
		return errors.New("unbalanced")
	}
	return nil
}

func checkPalindrome(s string) error {
	n := len(s)
	if n%2 == 0 || s[n/2] != 'c' {
		return errors.New("no centre c")
	}
	for i := 0; i < n/2; i++ {
		if s[i] != s[n-1-i] || (s[i] != 'a' && s[i] != 'b') {
			return errors.New("not a palindrome of a/b")
		}
	}
	return nil
}

func checkNestedLists(s string) error {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return err
	}
	var walk func(any) error
	walk = func(x any) error {
		a, ok := x.([]any)
		if !ok {
			return errors.New("not a list")
		}
		for _, e := range a {
			if err := walk(e); err != nil {
				return err
			}
		}
		return nil
	}
	if strings.Contains(s, " ") {
		return errors.New("unexpected space")
	}
	return walk(v)
}

// checkArith parses expr := term (± term)*, term := factor (*/ factor)*,
// factor := 1-3 digits | ( expr ).
func checkArith(s string) error {
	i := 0
	var expr, term, factor func() error
	factor = func() error {
		if i < len(s) && s[i] == '(' {
			i++
			if err := expr(); err != nil {
				return err
			}
			if i >= len(s) || s[i] != ')' {
				return errors.New("missing )")
			}
			i++
			return nil
		}
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == st || i-st > 3 {
			return fmt.Errorf("bad number at %d", st)
		}
		return nil
	}
	chain := func(next func() error, ops string) error {
		if err := next(); err != nil {
			return err
		}
		for i < len(s) && strings.IndexByte(ops, s[i]) >= 0 {
			i++
			if err := next(); err != nil {
				return err
			}
		}
		return nil
	}
	term = func() error { return chain(factor, "*/") }
	expr = func() error { return chain(term, "+-") }
	if err := expr(); err != nil {
		return err
	}
	if i != len(s) {
		return fmt.Errorf("trailing %q", s[i:])
	}
	return nil
}

// tinyLM is a loaded random-weight model with its tokenizer.
type tinyLM struct {
	m   *model.Loaded
	be  tensor.Backend
	tk  *tokenizer.Tokenizer
	v   *Vocab
	eos []int32
}

func loadTinyLM(t *testing.T) *tinyLM {
	t.Helper()
	dir := t.TempDir()
	if err := tiny.Write(dir, tiny.Shapes["tiny-qwen2"], true, false); err != nil {
		t.Fatal(err)
	}
	be := refbackend.New()
	m, err := model.Load(filepath.Join(dir, "hf"), be)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tk, err := tokenizer.Load(filepath.Join(dir, "hf"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VocabFromTokenizer(tk, m.Config().Vocab)
	if err != nil {
		t.Fatal(err)
	}
	return &tinyLM{m: m, be: be, tk: tk, v: v, eos: tk.EOS()}
}

// generate decodes under g: greedy when r is nil, else sampling from the
// softmax over allowed tokens. It returns the output ids (without EOS) and
// whether EOS ended it before maxTokens.
// Forced tokens are fed as if the model had produced them.
func (lm *tinyLM) generate(t *testing.T, g *Grammar, prompt, forced []int32, r *rand.Rand, maxTokens int) ([]int32, bool) {
	t.Helper()
	ctx := context.Background()
	kv, err := kvcache.New(lm.be, lm.m.Config().KVSpec(16, (len(prompt)+maxTokens)/16+2))
	if err != nil {
		t.Fatal(err)
	}
	run := &model.Runner{M: lm.m, KV: kv}
	defer run.Release()
	out, err := run.Prefill(ctx, &input.Prompt{Tokens: append(slices.Clone(prompt), forced...)}, false)
	if err != nil {
		t.Fatal(err)
	}
	vocab := lm.m.Config().Vocab
	logits := make([]float32, vocab)
	mask := make([]uint64, (vocab+63)/64)
	m := g.NewMatcher()
	ids := slices.Clone(forced)
	for _, tok := range forced {
		if err := m.Accept(tok); err != nil {
			t.Fatalf("forced token: %v", err)
		}
	}
	for len(ids) < maxTokens {
		if err := lm.be.ToF32(out, logits); err != nil {
			t.Fatal(err)
		}
		if err := m.FillMask(mask); err != nil {
			t.Fatalf("step %d after %q: %v", len(ids), lm.tk.Decode(ids, tokenizer.DecodeOptions{}), err)
		}
		if m.Done() {
			for _, e := range lm.eos {
				mask[e>>6] |= 1 << (e & 63)
			}
		}
		if m.Terminated() {
			for i, w := range mask {
				for _, e := range lm.eos {
					if int(e>>6) == i {
						w &^= 1 << (e & 63)
					}
				}
				if w != 0 {
					t.Fatalf("terminated matcher allows non-EOS tokens")
				}
			}
		}
		tok := pick(logits, mask, r)
		if tok < 0 {
			t.Fatalf("empty mask after %q", lm.tk.Decode(ids, tokenizer.DecodeOptions{}))
		}
		if slices.Contains(lm.eos, tok) {
			return ids, true
		}
		if err := m.Accept(tok); err != nil {
			t.Fatalf("masked token rejected: %v", err)
		}
		ids = append(ids, tok)
		if out, err = run.Step(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	return ids, false
}

// pick chooses among allowed tokens: argmax, or a softmax sample.
func pick(logits []float32, mask []uint64, r *rand.Rand) int32 {
	best := int32(-1)
	for i := range logits {
		if mask[i>>6]&(1<<(i&63)) != 0 && (best < 0 || logits[i] > logits[best]) {
			best = int32(i)
		}
	}
	if r == nil || best < 0 {
		return best
	}
	var sum float64
	p := make([]float64, len(logits))
	for i := range logits {
		if mask[i>>6]&(1<<(i&63)) != 0 {
			p[i] = math.Exp(float64(logits[i] - logits[best]))
			sum += p[i]
		}
	}
	x := r.Float64() * sum
	for i := range p {
		if x -= p[i]; x <= 0 && p[i] > 0 {
			return int32(i)
		}
	}
	return best
}

type e2eStats struct{ completed, capped int }

// runE2E generates with greedy decoding and two sampling seeds and checks
// every completed output.
func runE2E(t *testing.T, lm *tinyLM, kind Kind, src string, check func(string) error, st *e2eStats) {
	t.Helper()
	runE2EPrompt(t, lm, kind, src, "Output:", check, st)
}

func runE2EPrompt(t *testing.T, lm *tinyLM, kind Kind, src, promptText string, check func(string) error, st *e2eStats) {
	t.Helper()
	runE2EForced(t, lm, kind, src, promptText, "", check, st)
}

func runE2EForced(t *testing.T, lm *tinyLM, kind Kind, src, promptText, forcedText string, check func(string) error, st *e2eStats) (capped []string) {
	t.Helper()
	g, err := Compile(lm.v, kind, src, Options{})
	if err != nil {
		t.Fatalf("%s %q: %v", kind, src, err)
	}
	prompt := lm.tk.Encode(promptText, false)
	for mode := range 3 {
		var r *rand.Rand
		if mode > 0 {
			r = rand.New(rand.NewPCG(uint64(mode), 42))
		}
		var forced []int32
		if forcedText != "" {
			forced = lm.tk.Encode(forcedText, false)
		}
		ids, done := lm.generate(t, g, prompt, forced, r, 160)
		text := lm.tk.Decode(ids, tokenizer.DecodeOptions{})
		var raw []byte
		for _, id := range ids {
			raw = append(raw, lm.v.TokenBytes(id)...)
		}
		if utf8.Valid(raw) && string(raw) != text {
			t.Errorf("%s %q: decoded text %q differs from token bytes %q", kind, src, text, raw)
		}
		if !done {
			st.capped++
			capped = append(capped, text)
			continue
		}
		st.completed++
		if err := check(text); err != nil {
			t.Errorf("%s %q mode %d: output %q: %v", kind, src, mode, text, err)
		}
	}
	return capped
}

func TestE2ETinyModel(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: decodes with a tiny model")
	}
	lm := loadTinyLM(t)
	var js, rs, gs e2eStats
	for _, src := range e2eSchemas {
		val := compileSchema(t, src)
		runE2E(t, lm, JSONSchema, src, func(s string) error {
			if !json.Valid([]byte(s)) {
				return errors.New("invalid JSON")
			}
			return validates(t, val, s)
		}, &js)
	}
	for _, re := range e2eRegexes {
		runE2E(t, lm, Regex, re, matchRe(re), &rs)
	}
	for _, c := range e2eGrammars {
		runE2E(t, lm, EBNF, c.src, c.check, &gs)
	}
	t.Logf("json_schema: %d schemas, %d completed (all valid), %d hit the length cap", len(e2eSchemas), js.completed, js.capped)
	t.Logf("regex: %d regexes, %d completed (all match), %d hit the length cap", len(e2eRegexes), rs.completed, rs.capped)
	t.Logf("ebnf: %d grammars, %d completed (all parse), %d hit the length cap", len(e2eGrammars), gs.completed, gs.capped)
	if len(e2eSchemas) < 30 || len(e2eRegexes) < 20 || len(e2eGrammars) < 10 {
		t.Fatal("too few constraints")
	}
	if js.completed < len(e2eSchemas) || rs.completed < len(e2eRegexes) || gs.completed < len(e2eGrammars) {
		t.Errorf("too few completions to be meaningful")
	}
}

// TestE2EStructuralTag: free text around tagged JSON regions.
func TestE2EStructuralTag(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: decodes with a tiny model")
	}
	lm := loadTinyLM(t)
	spec := `{"type":"structural_tag","structures":[{"begin":"<f=get>","schema":{"type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":99}},"required":["id"]},"end":"</f>"}],"triggers":["<f="]}`
	val := compileSchema(t, `{"type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":99}},"required":["id"]}`)
	var st e2eStats
	structures := 0
	check := toolCallChecker(t, val, &structures)
	for _, p := range []string{"Call a tool:", "Weather?"} {
		runE2EPrompt(t, lm, StructuralTag, spec, p, check, &st)
	}
	// Force the trigger so that structures are exercised.
	for _, f := range []string{"<f=", "ok <f=g", "<f=get>"} {
		// Complete structures inside capped outputs must be valid too.
		for _, out := range runE2EForced(t, lm, StructuralTag, spec, "Call:", f, check, &st) {
			if i := strings.LastIndex(out, "</f>"); i >= 0 {
				if err := check(out[:i+4]); err != nil {
					t.Errorf("capped output %q: %v", out, err)
				}
			}
		}
	}
	t.Logf("structural_tag: %d completed, %d capped, %d complete structures checked", st.completed, st.capped, structures)
	if structures == 0 {
		t.Error("no structure was generated")
	}
}

// toolCallChecker checks free text in which every "<f=" starts
// "<f=get>" + a JSON value valid for val + "</f>", counting structures.
func toolCallChecker(t *testing.T, val *jsonschema.Schema, structures *int) func(string) error {
	return func(s string) error {
		for {
			i := strings.Index(s, "<f=")
			if i < 0 {
				return nil
			}
			s = s[i:]
			if !strings.HasPrefix(s, "<f=get>") {
				return fmt.Errorf("trigger not followed by a structure: %q", s)
			}
			j := strings.Index(s, "</f>")
			if j < 0 {
				return errors.New("unterminated structure")
			}
			if err := validates(t, val, s[len("<f=get>"):j]); err != nil {
				return err
			}
			*structures++
			s = s[j+4:]
		}
	}
}

// TestE2EStructuralTagFormat: the format form, reasoning then tool calls:
// sequence(tag("<think>", any_text, "</think>"), triggered_tags), and a
// tags_with_separator list.
func TestE2EStructuralTagFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: decodes with a tiny model")
	}
	lm := loadTinyLM(t)
	schema := `{"type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":99}},"required":["id"]}`
	val := compileSchema(t, schema)
	tag := `{"begin":"<f=get>","content":{"type":"json_schema","json_schema":` + schema + `},"end":"</f>"}`
	spec := stFormat(`{"type":"sequence","elements":[
		{"type":"tag","begin":"<think>","content":{"type":"any_text"},"end":"</think>"},
		{"type":"triggered_tags","triggers":["<f="],"tags":[` + tag + `]}]}`)
	var st e2eStats
	structures, thoughts := 0, 0
	tools := toolCallChecker(t, val, &structures)
	check := func(s string) error {
		if !strings.HasPrefix(s, "<think>") {
			return errors.New("no <think>")
		}
		j := strings.Index(s, "</think>")
		if j < 0 {
			return errors.New("unterminated <think>")
		}
		thoughts++
		return tools(s[j+len("</think>"):])
	}
	runE2EPrompt(t, lm, StructuralTag, spec, "Think:", check, &st)
	for _, f := range []string{"<think>", "<think>ok</think>", "<think>ok</think>x <f=", "<think></think><f=get>"} {
		for _, out := range runE2EForced(t, lm, StructuralTag, spec, "Call:", f, check, &st) {
			if i := strings.LastIndex(out, "</f>"); i >= 0 {
				if err := check(out[:i+4]); err != nil {
					t.Errorf("capped output %q: %v", out, err)
				}
			}
		}
	}
	list := stFormat(`{"type":"tags_with_separator","tags":[` + tag + `],"separator":"\n","at_least_one":true}`)
	lists := 0
	checkList := func(s string) error {
		for i, part := range strings.Split(s, "\n") {
			if !strings.HasPrefix(part, "<f=get>") || !strings.HasSuffix(part, "</f>") {
				return fmt.Errorf("item %d %q is not a tag", i, part)
			}
			if err := validates(t, val, part[len("<f=get>"):len(part)-len("</f>")]); err != nil {
				return err
			}
		}
		lists++
		return nil
	}
	runE2EPrompt(t, lm, StructuralTag, list, "List:", checkList, &st)
	runE2EForced(t, lm, StructuralTag, list, "List:", `<f=get>{"id": 1}</f>`, checkList, &st)
	t.Logf("structural_tag format: %d completed, %d capped, %d thoughts, %d structures, %d lists checked", st.completed, st.capped, thoughts, structures, lists)
	if structures == 0 || thoughts == 0 || lists == 0 {
		t.Error("too few complete outputs checked")
	}
}

// TestCheckersReject makes sure the independent checkers can fail.
func TestCheckersReject(t *testing.T) {
	for _, c := range []struct {
		f func(string) error
		s string
	}{{checkBalanced, "(()"}, {checkPalindrome, "abcb"}, {checkNestedLists, "[[],1]"}, {checkArith, "1+"}, {checkArith, "(1"}, {matchRe(`a+`), "ab"}} {
		if c.f(c.s) == nil {
			t.Errorf("checker accepted %q", c.s)
		}
	}
	if checkArith("12*(3+4)/5") != nil || checkPalindrome("abcba") != nil || checkBalanced("(())()") != nil {
		t.Error("checker rejected a valid string")
	}
}
