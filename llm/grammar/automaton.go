package grammar

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Size limits; exceeding one is a compile error wrapping ErrInvalid.
const (
	maxNFAStates   = 400_000
	maxDFAStates   = 100_000
	maxTransitions = 1 << 23
	maxSubsetWork  = 60_000_000
	inlineLimit    = 20_000 // expanded size up to which a non-recursive rule is inlined
	sizeCap        = 1 << 40
)

// ruleDef is a named rule of a front end's grammar; rule 0 is the root.
type ruleDef struct {
	name     string
	body     *node
	noInline bool // keep as a called rule (bodies repeated many times)
}

// automaton is a recursive transition network: one DFA over bytes per
// called rule, whose states (positions, numbered globally) may also call
// other rules. Immutable once built.
type automaton struct {
	rules []ruleInfo
	pos   []posInfo
	trans []int32     // per position, ncls entries: next position or -1
	cls   [][256]byte // byte → class, per rule
	calls []call
	// follow[r]: bytes that can come right after rule r returns, in any
	// context (an over-approximation used to drop impossible returns).
	follow []byteSet
}

type ruleInfo struct {
	name     string
	start    int32 // first position (the start state)
	n        int32 // positions
	ncls     int32
	callable bool // some call edge targets it
	flat     bool // no call edges in its DFA
}

type posInfo struct {
	rule           int32
	tbase          int32
	callLo, callHi int32
	final          bool
	hasBytes       bool
	plain          bool // hasBytes, no calls, not final: closure is the identity
	trivial        bool // final with no edges: returning here pops at once
}

// call is a call edge: the callee's start position and the position to
// return to.
type call struct{ start, ret int32 }

func (a *automaton) next(p int32, b byte) int32 {
	pi := &a.pos[p]
	return a.trans[pi.tbase+int32(a.cls[pi.rule][b])]
}

func (a *automaton) callsOf(p int32) []call {
	pi := &a.pos[p]
	return a.calls[pi.callLo:pi.callHi]
}

// ---- NFA ----

type nfaByteEdge struct {
	lo, hi byte
	to     int32
}

type nfaCallEdge struct{ rule, to int32 }

type nfa struct {
	eps   [][]int32
	bytes [][]nfaByteEdge
	calls [][]nfaCallEdge
}

func (n *nfa) add() int32 {
	n.eps = append(n.eps, nil)
	n.bytes = append(n.bytes, nil)
	n.calls = append(n.calls, nil)
	return int32(len(n.eps) - 1)
}

// lowering turns rule definitions into an automaton.
type lowering struct {
	defs      []ruleDef
	inline    []bool
	called    []int // def index → called-rule index, -1 if none yet
	order     []int // called-rule index → def index
	nfaStates int   // over all rules
	n         *nfa  // the rule being built
	depth     int   // inlining depth (recursion guard)
}

// compileRules builds the automaton for defs (defs[0] is the root).
func compileRules(defs []ruleDef) (*automaton, error) {
	if len(defs) == 0 {
		return nil, fmt.Errorf("%w: empty grammar", ErrInvalid)
	}
	l := &lowering{defs: defs}
	if err := l.plan(); err != nil {
		return nil, err
	}
	l.called = make([]int, len(defs))
	for i := range l.called {
		l.called[i] = -1
	}
	l.callRule(0)
	var dfas []*dfa
	for i := 0; i < len(l.order); i++ {
		l.n = &nfa{}
		start := l.n.add()
		end, err := l.build(defs[l.order[i]].body, start)
		if err != nil {
			return nil, err
		}
		l.nfaStates += len(l.n.eps)
		if l.nfaStates > maxNFAStates {
			return nil, fmt.Errorf("%w: grammar too large (more than %d automaton states)", ErrInvalid, maxNFAStates)
		}
		d, err := determinize(l.n, start, end)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", defs[l.order[i]].name, err)
		}
		dfas = append(dfas, d)
	}
	names := make([]string, len(l.order))
	for i, di := range l.order {
		names[i] = defs[di].name
	}
	return link(dfas, names)
}

// plan decides which rules are inlined: every rule that is not recursive
// (not on a reference cycle) and whose expansion is small.
func (l *lowering) plan() error {
	n := len(l.defs)
	refs := make([][]int, n)
	bad := false
	for i, d := range l.defs {
		seen := map[*node]bool{}
		var walk func(x *node)
		walk = func(x *node) {
			if seen[x] {
				return
			}
			seen[x] = true
			if x.k == kRef {
				if x.rule < 0 || x.rule >= n {
					bad = true
					return
				}
				refs[i] = append(refs[i], x.rule)
			}
			for _, k := range x.kids {
				walk(k)
			}
		}
		walk(d.body)
	}
	if bad {
		return fmt.Errorf("%w: reference to an undefined rule", ErrInvalid)
	}
	rec := recursiveRules(refs)
	l.inline = make([]bool, n)
	size := make([]int64, n)
	state := make([]uint8, n) // 0 new, 1 visiting, 2 done
	var ruleSize func(r int) int64
	memo := map[*node]int64{}
	var nodeSize func(x *node) int64
	nodeSize = func(x *node) int64 {
		if v, ok := memo[x]; ok {
			return v
		}
		var s int64
		switch x.k {
		case kEmpty, kNone:
			s = 1
		case kBytes:
			s = int64(len(x.lit))
		case kClass:
			s = 2
		case kRunes:
			for i := 0; i+1 < len(x.runes); i += 2 {
				utf8Seqs(x.runes[i], x.runes[i+1], func(q []byteRange) { s += int64(len(q)) })
			}
		case kSeq, kAlt:
			for _, k := range x.kids {
				s += nodeSize(k)
			}
			s++
		case kRepeat:
			k := nodeSize(x.kids[0])
			c := int64(x.min)
			if x.max < 0 {
				c++
			} else {
				c = int64(x.max)
			}
			s = satMul(k+1, c) + 1
		case kRef:
			s = 1
			if !rec[x.rule] && x.rule != 0 && !l.defs[x.rule].noInline {
				s = ruleSize(x.rule)
			}
		case kFrag:
			s = int64(len(x.frag.edges))
		}
		s = min(s, sizeCap)
		memo[x] = s
		return s
	}
	ruleSize = func(r int) int64 {
		switch state[r] {
		case 1:
			return 1 // recursive reference; cannot happen for inlined rules
		case 2:
			return size[r]
		}
		state[r] = 1
		size[r] = nodeSize(l.defs[r].body)
		state[r] = 2
		return size[r]
	}
	for r := range n {
		if r != 0 && !rec[r] && !l.defs[r].noInline && ruleSize(r) <= inlineLimit {
			l.inline[r] = true
		}
	}
	return nil
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > sizeCap/b {
		return sizeCap
	}
	return a * b
}

// recursiveRules marks the rules on a reference cycle (Tarjan's SCCs).
func recursiveRules(refs [][]int) []bool {
	n := len(refs)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	rec := make([]bool, n)
	var stack []int
	next := 0
	type item struct{ v, i int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		// Iterative Tarjan.
		work := []item{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(work) > 0 {
			top := &work[len(work)-1]
			v := top.v
			if top.i < len(refs[v]) {
				w := refs[v][top.i]
				top.i++
				if w == v {
					rec[v] = true
				}
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					work = append(work, item{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			work = work[:len(work)-1]
			if len(work) > 0 {
				u := work[len(work)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				if len(comp) > 1 {
					for _, w := range comp {
						rec[w] = true
					}
				}
			}
		}
	}
	return rec
}

func (l *lowering) callRule(d int) int32 {
	if l.called[d] < 0 {
		l.called[d] = len(l.order)
		l.order = append(l.order, d)
	}
	return int32(l.called[d])
}

// build adds x to the NFA from state in and returns its end state.
func (l *lowering) build(x *node, in int32) (int32, error) {
	n := l.n
	if len(n.eps)+l.nfaStates > maxNFAStates {
		return 0, fmt.Errorf("%w: grammar too large (more than %d automaton states)", ErrInvalid, maxNFAStates)
	}
	switch x.k {
	case kEmpty:
		return in, nil
	case kNone:
		return n.add(), nil // unreachable end
	case kBytes:
		cur := in
		for _, b := range x.lit {
			nx := n.add()
			n.bytes[cur] = append(n.bytes[cur], nfaByteEdge{b, b, nx})
			cur = nx
		}
		return cur, nil
	case kClass:
		out := n.add()
		for lo := 0; lo < 256; {
			if !x.set.has(byte(lo)) {
				lo++
				continue
			}
			hi := lo
			for hi+1 < 256 && x.set.has(byte(hi+1)) {
				hi++
			}
			n.bytes[in] = append(n.bytes[in], nfaByteEdge{byte(lo), byte(hi), out})
			lo = hi + 1
		}
		return out, nil
	case kRunes:
		out := n.add()
		for i := 0; i+1 < len(x.runes); i += 2 {
			utf8Seqs(x.runes[i], x.runes[i+1], func(q []byteRange) {
				cur := in
				for j, r := range q {
					nx := out
					if j < len(q)-1 {
						nx = n.add()
					}
					n.bytes[cur] = append(n.bytes[cur], nfaByteEdge{r.lo, r.hi, nx})
					cur = nx
				}
			})
		}
		return out, nil
	case kSeq:
		cur := in
		for _, k := range x.kids {
			var err error
			if cur, err = l.build(k, cur); err != nil {
				return 0, err
			}
		}
		return cur, nil
	case kAlt:
		out := n.add()
		for _, k := range x.kids {
			s := n.add()
			n.eps[in] = append(n.eps[in], s)
			e, err := l.build(k, s)
			if err != nil {
				return 0, err
			}
			n.eps[e] = append(n.eps[e], out)
		}
		return out, nil
	case kRepeat:
		return l.buildRepeat(x, in)
	case kRef:
		if l.called == nil || x.rule < 0 || x.rule >= len(l.defs) {
			return 0, fmt.Errorf("%w: internal: unexpected rule reference", ErrInvalid)
		}
		if l.inline[x.rule] {
			l.depth++
			defer func() { l.depth-- }()
			if l.depth > 10_000 {
				return 0, fmt.Errorf("%w: rule nesting too deep", ErrInvalid)
			}
			s := n.add()
			n.eps[in] = append(n.eps[in], s)
			return l.build(l.defs[x.rule].body, s)
		}
		r := l.callRule(x.rule)
		out := n.add()
		n.calls[in] = append(n.calls[in], nfaCallEdge{r, out})
		return out, nil
	case kFrag:
		base := int32(len(n.eps))
		for range x.frag.edges {
			n.add()
		}
		n.eps[in] = append(n.eps[in], base)
		out := n.add()
		for i, es := range x.frag.edges {
			for _, e := range es {
				n.bytes[base+int32(i)] = append(n.bytes[base+int32(i)], nfaByteEdge{e.lo, e.hi, base + e.to})
			}
			if x.frag.final[i] {
				n.eps[base+int32(i)] = append(n.eps[base+int32(i)], out)
			}
		}
		return out, nil
	}
	panic("grammar: internal error: unknown IR node")
}

func (l *lowering) buildRepeat(x *node, in int32) (int32, error) {
	n := l.n
	sub := x.kids[0]
	cur := in
	for range x.min {
		// Each copy starts in a fresh state so that loops of later copies
		// cannot leak into earlier ones.
		s := n.add()
		n.eps[cur] = append(n.eps[cur], s)
		var err error
		if cur, err = l.build(sub, s); err != nil {
			return 0, err
		}
	}
	if x.max < 0 {
		loop := n.add()
		n.eps[cur] = append(n.eps[cur], loop)
		s := n.add()
		n.eps[loop] = append(n.eps[loop], s)
		e, err := l.build(sub, s)
		if err != nil {
			return 0, err
		}
		n.eps[e] = append(n.eps[e], loop)
		return loop, nil
	}
	out := n.add()
	n.eps[cur] = append(n.eps[cur], out)
	for range x.max - x.min {
		s := n.add()
		n.eps[cur] = append(n.eps[cur], s)
		var err error
		if cur, err = l.build(sub, s); err != nil {
			return 0, err
		}
		n.eps[cur] = append(n.eps[cur], out)
	}
	return out, nil
}

// ---- DFA ----

type dfa struct {
	cls   [256]byte
	ncls  int
	trans [][]int32 // per state, per class: next state or -1
	calls [][]nfaCallEdge
	final []bool
}

func determinize(n *nfa, start, end int32) (*dfa, error) {
	d := &dfa{}
	// Byte classes: boundaries of every edge range.
	var cut [257]bool
	cut[0] = true
	for _, es := range n.bytes {
		for _, e := range es {
			cut[e.lo] = true
			cut[int(e.hi)+1] = true
		}
	}
	c := -1
	for b := range 256 {
		if cut[b] {
			c++
		}
		d.cls[b] = byte(c)
	}
	d.ncls = c + 1

	mark := make([]uint32, len(n.eps))
	gen := uint32(0)
	var stack []int32
	closure := func(set []int32) []int32 {
		gen++
		stack = stack[:0]
		var out []int32
		for _, s := range set {
			if mark[s] != gen {
				mark[s] = gen
				stack = append(stack, s)
			}
		}
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			out = append(out, s)
			for _, t := range n.eps[s] {
				if mark[t] != gen {
					mark[t] = gen
					stack = append(stack, t)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	var kb []byte
	key := func(set []int32) string {
		kb = kb[:0]
		for _, s := range set {
			kb = binary.LittleEndian.AppendUint32(kb, uint32(s))
		}
		return string(kb)
	}
	index := map[string]int32{}
	var sets [][]int32
	addState := func(set []int32) (int32, error) {
		k := key(set)
		if id, ok := index[k]; ok {
			return id, nil
		}
		if len(sets) >= maxDFAStates || (len(sets)+1)*d.ncls > maxTransitions {
			return 0, fmt.Errorf("%w: automaton exceeds %d states", ErrInvalid, maxDFAStates)
		}
		id := int32(len(sets))
		index[k] = id
		sets = append(sets, set)
		return id, nil
	}
	if _, err := addState(closure([]int32{start})); err != nil {
		return nil, err
	}
	buckets := make([][]int32, d.ncls)
	work := 0
	for i := 0; i < len(sets); i++ {
		set := sets[i]
		for c := range buckets {
			buckets[c] = buckets[c][:0]
		}
		var calls []nfaCallEdge
		final := false
		for _, s := range set {
			if s == end {
				final = true
			}
			for _, e := range n.bytes[s] {
				for c := d.cls[e.lo]; ; c++ {
					buckets[c] = append(buckets[c], e.to)
					work++
					if c == d.cls[e.hi] {
						break
					}
				}
			}
			calls = append(calls, n.calls[s]...)
		}
		work += len(set)
		if work > maxSubsetWork {
			return nil, fmt.Errorf("%w: automaton construction too expensive", ErrInvalid)
		}
		row := make([]int32, d.ncls)
		for c := range row {
			row[c] = -1
			if len(buckets[c]) == 0 {
				continue
			}
			// Equal buckets are common (ranges): reuse the previous target.
			if c > 0 && slices.Equal(buckets[c], buckets[c-1]) && row[c-1] >= 0 {
				row[c] = row[c-1]
				continue
			}
			id, err := addState(closure(buckets[c]))
			if err != nil {
				return nil, err
			}
			row[c] = id
		}
		// Group call edges by callee.
		slices.SortFunc(calls, func(a, b nfaCallEdge) int { return int(a.rule - b.rule) })
		var dc []nfaCallEdge
		for j := 0; j < len(calls); {
			k := j
			var tos []int32
			for k < len(calls) && calls[k].rule == calls[j].rule {
				tos = append(tos, calls[k].to)
				k++
			}
			id, err := addState(closure(tos))
			if err != nil {
				return nil, err
			}
			dc = append(dc, nfaCallEdge{calls[j].rule, id})
			j = k
		}
		d.trans = append(d.trans, row)
		d.calls = append(d.calls, dc)
		d.final = append(d.final, final)
	}
	return d, nil
}

// link trims the rule DFAs (unproductive rules, dead and unreachable
// states), rejects left recursion, and numbers every state globally.
func link(dfas []*dfa, names []string) (*automaton, error) {
	nr := len(dfas)
	// Productive rules: a path from start to a final state using bytes and
	// calls of productive rules.
	prod := make([]bool, nr)
	for changed := true; changed; {
		changed = false
		for r, d := range dfas {
			if prod[r] {
				continue
			}
			if coReach(d, prod)[0] {
				prod[r], changed = true, true
			}
		}
	}
	if !prod[0] {
		return nil, fmt.Errorf("%w: the grammar matches no string", ErrInvalid)
	}
	// Keep live states: reachable from start and co-reachable to a final.
	keep := make([][]int32, nr) // old state → new index or -1
	for r, d := range dfas {
		if !prod[r] {
			continue
		}
		co := coReach(d, prod)
		fw := forward(d, prod, co)
		k := make([]int32, len(d.trans))
		n := int32(0)
		for s := range k {
			k[s] = -1
			if co[s] && fw[s] {
				k[s] = n
				n++
			}
		}
		keep[r] = k
	}
	// Rules reachable from the root.
	used := make([]bool, nr)
	used[0] = true
	queue := []int{0}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for s, cs := range dfas[r].calls {
			if keep[r][s] < 0 {
				continue
			}
			for _, c := range cs {
				if prod[c.rule] && keep[r][c.to] >= 0 && !used[c.rule] {
					used[c.rule] = true
					queue = append(queue, int(c.rule))
				}
			}
		}
	}
	a := &automaton{}
	ruleIdx := make([]int32, nr)
	var total int32
	for r := range nr {
		ruleIdx[r] = -1
		if !used[r] {
			continue
		}
		ruleIdx[r] = int32(len(a.rules))
		n := int32(0)
		for _, v := range keep[r] {
			if v >= 0 {
				n++
			}
		}
		a.rules = append(a.rules, ruleInfo{name: names[r], start: total, n: n, ncls: int32(dfas[r].ncls), flat: true})
		a.cls = append(a.cls, dfas[r].cls)
		total += n
	}
	a.pos = make([]posInfo, total)
	for r := range nr {
		ri := ruleIdx[r]
		if ri < 0 {
			continue
		}
		d := dfas[r]
		info := &a.rules[ri]
		for s, ns := range keep[r] {
			if ns < 0 {
				continue
			}
			p := info.start + ns
			pi := &a.pos[p]
			pi.rule = ri
			pi.final = d.final[s]
			pi.tbase = int32(len(a.trans))
			for _, t := range d.trans[s] {
				g := int32(-1)
				if t >= 0 && keep[r][t] >= 0 {
					g = info.start + keep[r][t]
					pi.hasBytes = true
				}
				a.trans = append(a.trans, g)
			}
			pi.callLo = int32(len(a.calls))
			for _, c := range d.calls[s] {
				if !prod[c.rule] || keep[r][c.to] < 0 {
					continue
				}
				callee := ruleIdx[c.rule]
				a.calls = append(a.calls, call{start: a.rules[callee].start, ret: info.start + keep[r][c.to]})
				a.rules[callee].callable = true
				info.flat = false
			}
			pi.callHi = int32(len(a.calls))
			pi.plain = pi.hasBytes && pi.callLo == pi.callHi && !pi.final
			pi.trivial = pi.final && !pi.hasBytes && pi.callLo == pi.callHi
		}
	}
	if err := a.checkLeftRecursion(); err != nil {
		return nil, err
	}
	a.computeFollow()
	return a, nil
}

// computeFollow fills a.follow by fixpoint over FIRST sets of positions.
func (a *automaton) computeFollow() {
	nr := len(a.rules)
	np := len(a.pos)
	nullable := make([]bool, nr)
	for changed := true; changed; {
		changed = false
		for r := range nr {
			if !nullable[r] {
				for _, p := range a.zeroReach(int32(r), nullable) {
					if a.pos[p].final {
						nullable[r], changed = true, true
						break
					}
				}
			}
		}
	}
	// canEnd[p]: p reaches a final state of its rule without bytes.
	canEnd := make([]bool, np)
	for p := range np {
		canEnd[p] = a.pos[p].final
	}
	for changed := true; changed; {
		changed = false
		for p := range np {
			if canEnd[p] {
				continue
			}
			for _, c := range a.callsOf(int32(p)) {
				if nullable[a.pos[c.start].rule] && canEnd[c.ret] {
					canEnd[p], changed = true, true
					break
				}
			}
		}
	}
	first := make([]byteSet, np)
	for p := range np {
		pi := &a.pos[p]
		cls := &a.cls[pi.rule]
		for b := range 256 {
			if a.trans[pi.tbase+int32(cls[b])] >= 0 {
				first[p].add(byte(b))
			}
		}
	}
	union := func(dst *byteSet, src byteSet) bool {
		ch := false
		for i := range dst {
			if n := dst[i] | src[i]; n != dst[i] {
				dst[i], ch = n, true
			}
		}
		return ch
	}
	for changed := true; changed; {
		changed = false
		for p := range np {
			for _, c := range a.callsOf(int32(p)) {
				if union(&first[p], first[c.start]) {
					changed = true
				}
				if nullable[a.pos[c.start].rule] && union(&first[p], first[c.ret]) {
					changed = true
				}
			}
		}
	}
	a.follow = make([]byteSet, nr)
	for changed := true; changed; {
		changed = false
		for p := range np {
			caller := a.pos[p].rule
			for _, c := range a.callsOf(int32(p)) {
				callee := a.pos[c.start].rule
				if union(&a.follow[callee], first[c.ret]) {
					changed = true
				}
				if canEnd[c.ret] && union(&a.follow[callee], a.follow[caller]) {
					changed = true
				}
			}
		}
	}
}

// coReach marks the states of d from which a final state is reachable
// (through bytes, or calls of rules marked in prod).
func coReach(d *dfa, prod []bool) []bool {
	n := len(d.trans)
	// Reverse edges in CSR form.
	cnt := make([]int32, n+1)
	each := func(f func(from, to int32)) {
		for s := range n {
			for _, t := range d.trans[s] {
				if t >= 0 {
					f(int32(s), t)
				}
			}
			for _, c := range d.calls[s] {
				if prod[c.rule] {
					f(int32(s), c.to)
				}
			}
		}
	}
	each(func(_, to int32) { cnt[to+1]++ })
	for i := range n {
		cnt[i+1] += cnt[i]
	}
	rev := make([]int32, cnt[n])
	fill := slices.Clone(cnt[:n])
	each(func(from, to int32) { rev[fill[to]] = from; fill[to]++ })
	co := make([]bool, n)
	var stack []int32
	for s := range n {
		if d.final[s] {
			co[s] = true
			stack = append(stack, int32(s))
		}
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range rev[cnt[t]:cnt[t+1]] {
			if !co[s] {
				co[s] = true
				stack = append(stack, s)
			}
		}
	}
	return co
}

// forward marks states reachable from the start through live states.
func forward(d *dfa, prod []bool, live []bool) []bool {
	fw := make([]bool, len(d.trans))
	if !live[0] {
		return fw
	}
	fw[0] = true
	stack := []int32{0}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		visit := func(t int32) {
			if t >= 0 && live[t] && !fw[t] {
				fw[t] = true
				stack = append(stack, t)
			}
		}
		for _, t := range d.trans[s] {
			visit(t)
		}
		for _, c := range d.calls[s] {
			if prod[c.rule] {
				visit(c.to)
			}
		}
	}
	return fw
}

// checkLeftRecursion rejects a rule that can call itself (directly or
// through other rules) without consuming a byte: the pushdown closure
// would not terminate.
func (a *automaton) checkLeftRecursion() error {
	nr := len(a.rules)
	// Nullable rules: start reaches final through nullable calls only.
	nullable := make([]bool, nr)
	for changed := true; changed; {
		changed = false
		for r := range nr {
			if nullable[r] {
				continue
			}
			for _, p := range a.zeroReach(int32(r), nullable) {
				if a.pos[p].final {
					nullable[r], changed = true, true
					break
				}
			}
		}
	}
	// Edges r → callee for calls made before consuming a byte.
	edges := make([][]int, nr)
	for r := range nr {
		for _, p := range a.zeroReach(int32(r), nullable) {
			for _, c := range a.callsOf(p) {
				edges[r] = append(edges[r], int(a.pos[c.start].rule))
			}
		}
	}
	rec := recursiveRules(edges)
	for r := range nr {
		if rec[r] {
			return fmt.Errorf("%w: left recursion through rule %q", ErrInvalid, a.rules[r].name)
		}
	}
	return nil
}

// zeroReach lists the positions of rule r reachable from its start without
// consuming bytes (through calls of nullable rules).
func (a *automaton) zeroReach(r int32, nullable []bool) []int32 {
	start := a.rules[r].start
	seen := map[int32]bool{start: true}
	out := []int32{start}
	for i := 0; i < len(out); i++ {
		for _, c := range a.callsOf(out[i]) {
			if nullable[a.pos[c.start].rule] && !seen[c.ret] {
				seen[c.ret] = true
				out = append(out, c.ret)
			}
		}
	}
	return out
}
