package grammar

// The pushdown simulation. A configuration is a set of stacks; each stack
// is a frame (a byte-ready position and its parent) whose parent chain lives
// in an arena of interned continuation frames, so equal stacks have equal
// frames and sets of stacks deduplicate exactly.

const (
	parentRoot   int32 = -1 // popping it completes the output
	parentBottom int32 = -2 // popping it leaves a position being precomputed
	maxFrontier        = 1024
)

// frame is a stack: the top position and the arena index of the rest.
type frame struct{ pos, parent int32 }

// arena interns continuation frames. Parents precede children.
type arena struct {
	nodes []frame
	index map[frame]int32
}

func newArena() *arena { return &arena{index: map[frame]int32{}} }

func (a *arena) intern(f frame) int32 {
	if i, ok := a.index[f]; ok {
		return i
	}
	i := int32(len(a.nodes))
	a.nodes = append(a.nodes, f)
	a.index[f] = i
	return i
}

// rollback forgets the nodes created after len(nodes) was m.
func (a *arena) rollback(m int) {
	for _, f := range a.nodes[m:] {
		delete(a.index, f)
	}
	a.nodes = a.nodes[:m]
}

// sim advances configurations by one byte.
type sim struct {
	a        *automaton
	ar       *arena
	out      []frame
	seen     []frame
	seenMap  map[frame]struct{}
	popped   bool // a step popped parentBottom
	complete bool // a step popped parentRoot
	overflow bool // more than maxFrontier stacks
}

func (s *sim) reset(out []frame) {
	s.out = out[:0]
	s.seen = s.seen[:0]
	if len(s.seenMap) > 0 {
		clear(s.seenMap)
	}
	s.popped, s.complete, s.overflow = false, false, false
}

// visit reports whether f is new in this step, recording it.
func (s *sim) visit(f frame) bool {
	if s.seenMap != nil && len(s.seenMap) > 0 {
		if _, ok := s.seenMap[f]; ok {
			return false
		}
		s.seenMap[f] = struct{}{}
		return true
	}
	for _, g := range s.seen {
		if g == f {
			return false
		}
	}
	if len(s.seen) < 16 {
		s.seen = append(s.seen, f)
		return true
	}
	if s.seenMap == nil {
		s.seenMap = map[frame]struct{}{}
	}
	for _, g := range s.seen {
		s.seenMap[g] = struct{}{}
	}
	s.seenMap[f] = struct{}{}
	return true
}

// closure adds the byte-ready stacks reachable from f without consuming
// bytes: f itself, calls (push), and returns (pop).
func (s *sim) closure(f frame) {
	a := s.a
	for {
		if !s.visit(f) {
			return
		}
		pi := &a.pos[f.pos]
		if pi.hasBytes {
			if len(s.out) >= maxFrontier {
				s.overflow = true
				return
			}
			s.out = append(s.out, f)
		}
		for _, c := range a.calls[pi.callLo:pi.callHi] {
			parent := f.parent
			if !a.pos[c.ret].trivial { // a trivial return would pop at once: tail call
				parent = s.ar.intern(frame{c.ret, f.parent})
			}
			s.closure(frame{c.start, parent})
		}
		if !pi.final {
			return
		}
		switch f.parent {
		case parentRoot:
			s.complete = true
			return
		case parentBottom:
			s.popped = true
			return
		}
		f = s.ar.nodes[f.parent]
	}
}

// start is the closure of a single frame.
func (s *sim) start(f frame, out []frame) []frame {
	s.reset(out)
	s.closure(f)
	return s.out
}

// step consumes byte b from the configuration in, writing the next
// configuration to out (reused) and returning it. s.popped, s.complete and
// s.overflow describe the step.
func (s *sim) step(in []frame, b byte, out []frame) []frame {
	s.reset(out)
	a := s.a
	if len(in) == 1 {
		f := in[0]
		t := a.next(f.pos, b)
		if t < 0 {
			return s.out
		}
		if a.pos[t].plain {
			s.out = append(s.out, frame{t, f.parent})
			return s.out
		}
		s.closure(frame{t, f.parent})
		return s.out
	}
	for _, f := range in {
		if t := a.next(f.pos, b); t >= 0 {
			s.closure(frame{t, f.parent})
		}
	}
	return s.out
}
