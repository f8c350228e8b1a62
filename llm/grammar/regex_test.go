package grammar

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"testing"
)

var regexTable = []struct {
	re     string
	accept []string
	reject []string
}{
	{`(France|England)`, []string{"France", "England"}, []string{"", "Franc", "Englandd", "france"}},
	{`[a-z]+@[a-z]+\.com`, []string{"a@b.com", "joe@example.com"}, []string{"@b.com", "a@b.co", "A@b.com"}},
	{`\d{3}-\d{4}`, []string{"555-1234"}, []string{"5551234", "55-1234", "555-12345"}},
	{`^abc$`, []string{"abc"}, []string{"ab", "abcc"}},
	{`(?i)hello`, []string{"hello", "HeLLo", "HELLO"}, []string{"hell", "helo"}},
	{`\p{Han}+`, []string{"中文", "字"}, []string{"", "a", "中a"}},
	{`[^a-z]{2}`, []string{"AB", "1é", "中文"}, []string{"aB", "A", "ABC"}},
	{`.{2,3}`, []string{"ab", "abc", "é中"}, []string{"a", "abcd", "a\n"}},
	{`(ab)*c?`, []string{"", "ab", "abab", "c", "ababc"}, []string{"a", "abc c", "ba"}},
	{`x{0}y`, []string{"y"}, []string{"xy"}},
	{`(a|ab)(c|bcd)`, []string{"ac", "abcd", "abc"}, []string{"ab", "abd"}},
	{`[\x{1F600}-\x{1F64F}]`, []string{"😀", "🙏"}, []string{"☺", ""}},
	{`-?(0|[1-9][0-9]*)(\.[0-9]+)?`, []string{"0", "-12", "3.14"}, []string{"01", "-", "1."}},
	{`\s*yes\s*`, []string{"yes", " yes\n", "\tyes"}, []string{"no", "ye s"}},
	{`[[:alpha:]]+`, []string{"abcXYZ"}, []string{"ab1"}},
	{`a+?b`, []string{"ab", "aaab"}, []string{"b"}},
	{`(?s).`, []string{"\n", "a"}, []string{"ab"}},
	{`\x{FFFD}|\x{10FFFF}`, []string{"\uFFFD", "\U0010FFFF"}, []string{"\uFFFE"}},
}

func TestRegexTable(t *testing.T) {
	v := byteVocab(t)
	for _, c := range regexTable {
		g := mustCompile(t, v, Regex, c.re, Options{})
		for _, s := range c.accept {
			if !fullMatch(g, s) {
				t.Errorf("%q: should accept %q", c.re, s)
			}
		}
		for _, s := range c.reject {
			if fullMatch(g, s) {
				t.Errorf("%q: should reject %q", c.re, s)
			}
		}
	}
}

func TestRegexInvalid(t *testing.T) {
	v := byteVocab(t)
	for _, re := range []string{`(`, `a**`, `\b`, `a^b`, `a$b`, `[z-a]`, `x{1001}`, `(?P<n`, `[^\x00-\x{10FFFF}]`, `(a{100}){100}{100}`} {
		_, err := Compile(v, Regex, re, Options{})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: error %v, want ErrInvalid", re, err)
		}
	}
}

// TestRegexDifferential compares full matches with Go's regexp on random
// strings over a small alphabet.
func TestRegexDifferential(t *testing.T) {
	v := byteVocab(t)
	res := []string{`(a|b)*abb`, `a{2,4}b?`, `[ab]+c[^a]`, `(ab|ba)+|c`, `(a*b*)*c`, `é?[aé]{1,2}`, `.a.`, `(?i)aB`, `[^abc]*`, `(a|aa)+$`}
	alpha := []string{"a", "b", "c", "é", "A", "B", "\n", "x"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, re := range res {
		g := mustCompile(t, v, Regex, re, Options{})
		want := regexp.MustCompile(`^(?:` + re + `)$`)
		for range 3000 {
			s := ""
			for n := r.IntN(7); n > 0; n-- {
				s += alpha[r.IntN(len(alpha))]
			}
			if got := fullMatch(g, s); got != want.MatchString(s) {
				t.Fatalf("%q on %q: got %v, regexp says %v", re, s, got, !got)
			}
		}
	}
}
