package grammar

import "fmt"

// Operations on regular (reference-free) IR, realised as explicit automata.

const maxProductStates = 50_000

// regularDFA compiles a reference-free expression to a DFA.
func regularDFA(x *node) (*dfa, error) {
	l := &lowering{defs: []ruleDef{{name: "regular", body: x}}, inline: []bool{false}}
	l.n = &nfa{}
	start := l.n.add()
	end, err := l.build(x, start)
	if err != nil {
		return nil, err
	}
	if len(l.order) > 0 {
		return nil, fmt.Errorf("%w: internal: reference inside a regular expression", ErrInvalid)
	}
	return determinize(l.n, start, end)
}

// intersect is the language of both a and b (reference-free).
func intersect(a, b *node) (*node, error) {
	da, err := regularDFA(a)
	if err != nil {
		return nil, err
	}
	db, err := regularDFA(b)
	if err != nil {
		return nil, err
	}
	type pair struct{ x, y int32 }
	index := map[pair]int32{{0, 0}: 0}
	pairs := []pair{{0, 0}}
	var next [][256]int32
	for i := 0; i < len(pairs); i++ {
		p := pairs[i]
		var row [256]int32
		for c := range 256 {
			row[c] = -1
			tx := da.trans[p.x][da.cls[c]]
			ty := db.trans[p.y][db.cls[c]]
			if tx < 0 || ty < 0 {
				continue
			}
			q := pair{tx, ty}
			id, ok := index[q]
			if !ok {
				if len(pairs) >= maxProductStates {
					return nil, fmt.Errorf("%w: intersection of constraints too large", ErrInvalid)
				}
				id = int32(len(pairs))
				index[q] = id
				pairs = append(pairs, q)
			}
			row[c] = id
		}
		next = append(next, row)
	}
	final := make([]bool, len(pairs))
	for i, p := range pairs {
		final[i] = da.final[p.x] && db.final[p.y]
	}
	return fragNode(next, final), nil
}

// notIn accepts every byte string except the given ones.
func notIn(names []string) *node {
	next := [][256]int32{{}}
	final := []bool{true}
	for _, s := range names {
		cur := int32(0)
		for i := 0; i < len(s); i++ {
			c := s[i]
			if next[cur][c] == 0 {
				next = append(next, [256]int32{})
				final = append(final, true)
				next[cur][c] = int32(len(next) - 1)
			}
			cur = next[cur][c]
		}
		final[cur] = false
	}
	// 0 in a row means "no child": route to the free state.
	free := int32(len(next))
	for s := range next {
		for c := range 256 {
			if next[s][c] == 0 {
				next[s][c] = free
			}
		}
	}
	var all [256]int32
	for c := range all {
		all[c] = free
	}
	next = append(next, all)
	final = append(final, true)
	return fragNode(next, final)
}

// fragNode trims a table automaton (start 0) to its live states and wraps it.
func fragNode(next [][256]int32, final []bool) *node {
	n := len(next)
	rev := make([][]int32, n)
	for s := range n {
		for _, t := range next[s] {
			if t >= 0 {
				rev[t] = append(rev[t], int32(s))
			}
		}
	}
	live := make([]bool, n)
	var stack []int32
	for s := range n {
		if final[s] {
			live[s] = true
			stack = append(stack, int32(s))
		}
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range rev[t] {
			if !live[s] {
				live[s] = true
				stack = append(stack, s)
			}
		}
	}
	if !live[0] {
		return nothing
	}
	f := &frag{edges: make([][]fragEdge, n), final: final}
	for s := range n {
		if !live[s] {
			continue
		}
		for lo := 0; lo < 256; {
			t := next[s][lo]
			hi := lo
			for hi+1 < 256 && next[s][hi+1] == t {
				hi++
			}
			if t >= 0 && live[t] {
				f.edges[s] = append(f.edges[s], fragEdge{byte(lo), byte(hi), t})
			}
			lo = hi + 1
		}
	}
	return &node{k: kFrag, frag: f}
}
