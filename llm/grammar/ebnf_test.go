package grammar

import (
	"errors"
	"strings"
	"testing"
)

var ebnfTable = []struct {
	g      string
	accept []string
	reject []string
}{
	{`root ::= "Hello" | "Hi" | "Hey"`, []string{"Hello", "Hi", "Hey"}, []string{"H", "Hellos", "hey"}},
	{`# comment line
root ::= greeting " " name   # trailing comment
greeting ::= "hi" | "yo"
name ::= [A-Z] [a-z]*`, []string{"hi Bob", "yo X"}, []string{"hi bob", "hi  Bob", "hey Bob"}},
	{`root ::= "(" root ")" root | ""`, []string{"", "()", "(())()", "((()))"}, []string{"(", ")(", "(()"}},
	{`root ::= value
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ws ( string ws ":" ws value ( ws "," ws string ws ":" ws value )* )? ws "}"
array ::= "[" ws ( value ( ws "," ws value )* )? ws "]"
string ::= "\"" ( [^"\\] | "\\" ["\\/bfnrt] )* "\""
number ::= "-"? [0-9]+ ("." [0-9]+)?
ws ::= [ \t\n]*`, []string{`{"a": [1, 2.5, "x"], "b": {"c": null}}`, `[]`, `"\n"`}, []string{`{"a" 1}`, `[1,]`, `"`}},
	{`root ::= [^\n]+ "\n"`, []string{"abc\n", "é\n"}, []string{"\n", "abc", "a\nb\n"}},
	{`root ::= ("ab"){2,3} "c"?`, []string{"abab", "ababab", "ababc"}, []string{"ab", "abababab"}},
	{`root ::= x{2} y{1,} z{0,2}
x ::= "x"
y ::= "y"
z ::= "z"`, []string{"xxy", "xxyyyzz"}, []string{"xy", "xxyzzz"}},
	{`root ::= "\x41\u00e9\U0001F600\t\"\\" [\x30-\x39] .`, []string{"Aé😀\t\"\\5中"}, []string{"Aé😀\t\"\\a中"}},
	{`root ::= item ("," item)*
item ::= [a-z]+ | "[" root "]"`, []string{"a,b", "[a,[b]],c"}, []string{"a,", "[a", ""}},
	{`root ::= a b
a ::= "x" | ""
b ::= "y" | ""`, []string{"", "x", "y", "xy"}, []string{"yx", "xx"}},
	{`root ::=
  "multi"
  | "line"
other ::= "unused"`, []string{"multi", "line"}, []string{"unused"}},
	{`root ::= [-a] [a-] [\]]`, []string{"-a]", "aa]", "a-]"}, []string{"b-]"}},
}

func TestEBNFTable(t *testing.T) {
	v := byteVocab(t)
	for _, c := range ebnfTable {
		g := mustCompile(t, v, EBNF, c.g, Options{})
		for _, s := range c.accept {
			if !fullMatch(g, s) {
				t.Errorf("%q: should accept %q", c.g, s)
			}
		}
		for _, s := range c.reject {
			if fullMatch(g, s) {
				t.Errorf("%q: should reject %q", c.g, s)
			}
		}
	}
}

func TestEBNFInvalid(t *testing.T) {
	v := byteVocab(t)
	for _, c := range []struct{ g, want string }{
		{`root ::= "abc`, "unterminated string"},
		{`root ::= foo`, `undefined rule "foo"`},
		{`foo ::= "a"`, "no rule named root"},
		{`root ::= "a"` + "\n" + `root ::= "b"`, "defined twice"},
		{`root ::= (a`, "line 1"},
		{`root ::= [b-a]`, "bad character range"},
		{`root ::= root "a" | "b"`, "left recursion"},
		{`root ::= x
x ::= y "a"
y ::= x | ""`, "left recursion"},
		{`root ::= "a"{3,1}`, "max below min"},
		{`root ::= "\q"`, "unknown escape"},
		{`root ::= x
x ::= "a" x`, "matches no string"},
		{`root ::= [^\x00-\U0010FFFF]`, "matches no string"},
		{`::= "a"`, "expected a rule name"},
		{`root ::= "a" )`, "unbalanced"},
		{`root ::= ("a"{100}){100}{100}`, "too large"},
	} {
		_, err := Compile(v, EBNF, c.g, Options{})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want ErrInvalid containing %q", c.g, err, c.want)
		}
	}
}
