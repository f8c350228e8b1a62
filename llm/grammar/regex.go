package grammar

import (
	"fmt"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// maxRegexLen bounds the source of a regex (Go's parser has its own limits
// on repetition counts and nesting).
const maxRegexLen = 1 << 16

// regexRules compiles a regex that must match the whole output.
func regexRules(src string) ([]ruleDef, error) {
	n, err := regexNode(src)
	if err != nil {
		return nil, err
	}
	return []ruleDef{{name: "root", body: n}}, nil
}

// regexNode parses src with Go's regexp/syntax (Perl flags: Unicode classes,
// `.` excludes \n) into IR. Anchors are allowed only at the ends, where
// they are implied; word boundaries are not supported.
func regexNode(src string) (*node, error) {
	if len(src) > maxRegexLen {
		return nil, fmt.Errorf("%w: regex longer than %d bytes", ErrInvalid, maxRegexLen)
	}
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("%w: regex: %v", ErrInvalid, err)
	}
	n, err := fromSyntax(re, true, true)
	if err != nil {
		return nil, fmt.Errorf("%w: regex %q: %v", ErrInvalid, src, err)
	}
	return n, nil
}

// fromSyntax converts re; atStart/atEnd say whether nothing can precede or
// follow it in the whole match (where anchors are no-ops).
func fromSyntax(re *syntax.Regexp, atStart, atEnd bool) (*node, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		return nothing, nil
	case syntax.OpEmptyMatch:
		return empty, nil
	case syntax.OpLiteral:
		var kids []*node
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				kids = append(kids, runeClass(foldRanges(r)...))
				continue
			}
			if !utf8.ValidRune(r) {
				return nil, fmt.Errorf("invalid code point %U", r)
			}
			kids = append(kids, lit(string(r)))
		}
		return seq(kids...), nil
	case syntax.OpCharClass:
		return runeClass(re.Rune...), nil
	case syntax.OpAnyCharNotNL:
		return runeClass(0, '\n'-1, '\n'+1, utf8.MaxRune), nil
	case syntax.OpAnyChar:
		return anyChar(), nil
	case syntax.OpBeginLine, syntax.OpBeginText:
		if atStart {
			return empty, nil
		}
		return nil, fmt.Errorf("a start anchor is only supported at the start of the pattern")
	case syntax.OpEndLine, syntax.OpEndText:
		if atEnd {
			return empty, nil
		}
		return nil, fmt.Errorf("an end anchor is only supported at the end of the pattern")
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return nil, fmt.Errorf("word boundaries (\\b, \\B) are not supported")
	case syntax.OpCapture:
		return fromSyntax(re.Sub[0], atStart, atEnd)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sub, err := fromSyntax(re.Sub[0], false, false)
		if err != nil {
			return nil, err
		}
		switch re.Op {
		case syntax.OpStar:
			return star(sub), nil
		case syntax.OpPlus:
			return plus(sub), nil
		case syntax.OpQuest:
			return opt(sub), nil
		}
		return repeat(sub, re.Min, re.Max), nil
	case syntax.OpConcat:
		kids := make([]*node, len(re.Sub))
		for i, s := range re.Sub {
			// Anchors stay legal next to empty-width neighbours only at the
			// outer ends.
			st := atStart && i == 0
			en := atEnd && i == len(re.Sub)-1
			if atStart && !st && allAnchors(re.Sub[:i], true) {
				st = true
			}
			if atEnd && !en && allAnchors(re.Sub[i+1:], false) {
				en = true
			}
			k, err := fromSyntax(s, st, en)
			if err != nil {
				return nil, err
			}
			kids[i] = k
		}
		return seq(kids...), nil
	case syntax.OpAlternate:
		kids := make([]*node, len(re.Sub))
		for i, s := range re.Sub {
			k, err := fromSyntax(s, atStart, atEnd)
			if err != nil {
				return nil, err
			}
			kids[i] = k
		}
		return alt(kids...), nil
	}
	return nil, fmt.Errorf("unsupported regex operator %v", re.Op)
}

// allAnchors reports whether every regex in rs is a start (or end) anchor.
func allAnchors(rs []*syntax.Regexp, start bool) bool {
	for _, r := range rs {
		switch {
		case start && (r.Op == syntax.OpBeginLine || r.Op == syntax.OpBeginText):
		case !start && (r.Op == syntax.OpEndLine || r.Op == syntax.OpEndText):
		default:
			return false
		}
	}
	return true
}

// foldRanges is r and every rune it case-folds to.
func foldRanges(r rune) []rune {
	out := []rune{r, r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f, f)
	}
	return out
}
