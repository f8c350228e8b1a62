package prefix

import "fmt"

// Check verifies the tree: page-aligned edges stored under their first page,
// parent links, no page id twice and the owned set equal to the stored pages,
// lock == held + Σ children's lock with held ≥ 0, a parent used no earlier
// than its children, Size equal to the node sizes by lock state, and the
// heap holding exactly the unlocked leaves in heap order.
func (r *Radix) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	root := r.root
	if root.parent != nil || len(root.keys) != 0 || len(root.pages) != 0 || root.lock != 0 ||
		root.held != 0 || root.heapIdx != -1 || root.dead {
		return bad("root holds keys, pages, locks or a heap slot")
	}
	seen := make(map[int32]struct{}, len(r.owned))
	var evictable, locked, inHeap int
	stack := []*node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var childLocks int32
		for k, c := range n.children {
			if c.parent != n || c.key != k {
				return bad("node %d is filed under the wrong parent or key", c.id)
			}
			childLocks += c.lock
			stack = append(stack, c)
		}
		if n == root {
			continue
		}
		if n.dead {
			return bad("evicted node %d is still in the tree", n.id)
		}
		if len(n.keys) == 0 || len(n.keys)%r.ps != 0 || len(n.pages) != len(n.keys)/r.ps {
			return bad("node %d has %d keys and %d pages (page size %d)", n.id, len(n.keys), len(n.pages), r.ps)
		}
		if n.key != string(r.pageKey(n.keys[:r.ps])) {
			return bad("node %d's map key is not its first page", n.id)
		}
		for _, p := range n.pages {
			if _, dup := seen[p]; dup {
				return bad("page %d is stored twice", p)
			}
			if _, ok := r.owned[p]; !ok || p < 0 {
				return bad("page %d of node %d is not in the owned set", p, n.id)
			}
			seen[p] = struct{}{}
		}
		if n.held < 0 || n.lock != n.held+childLocks {
			return bad("node %d: lock %d, held %d, children's locks %d", n.id, n.lock, n.held, childLocks)
		}
		if n.parent != root && n.parent.time < n.time {
			return bad("node %d was used after its parent", n.id)
		}
		if n.lock == 0 {
			evictable += len(n.keys)
		} else {
			locked += len(n.keys)
		}
		leaf := len(n.children) == 0 && n.lock == 0
		if leaf != (n.heapIdx >= 0) {
			return bad("node %d: unlocked leaf %v but heap slot %d", n.id, leaf, n.heapIdx)
		}
		if leaf {
			inHeap++
			if n.heapIdx >= len(r.leaves) || r.leaves[n.heapIdx] != n {
				return bad("node %d's heap slot %d holds another node", n.id, n.heapIdx)
			}
		}
	}
	if len(seen) != len(r.owned) {
		return bad("%d pages owned but %d stored", len(r.owned), len(seen))
	}
	if evictable != r.evictable || locked != r.locked {
		return bad("size (%d, %d) but nodes hold (%d, %d)", r.evictable, r.locked, evictable, locked)
	}
	if inHeap != len(r.leaves) {
		return bad("heap holds %d nodes, tree has %d unlocked leaves", len(r.leaves), inHeap)
	}
	for i := 1; i < len(r.leaves); i++ {
		if r.leaves.Less(i, (i-1)/2) {
			return bad("heap order broken at %d", i)
		}
	}
	return nil
}
