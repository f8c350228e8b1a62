// Package prefix is the prefix cache: a radix tree from prompt keys
// (input.Prompt.Keys: token ids, media rows with the high bit set) to the KV
// pages that hold them, so prompts sharing a prefix share pages. It is pure
// bookkeeping: it stores page ids given by the caller and never touches the
// KV pool or tensors.
//
// Keys are cached in whole pages: every node edge is a multiple of PageSize
// keys, nodes split only at page boundaries, and matches are page-aligned.
//
// # Ownership
//
// The cache holds exactly one KV-pool reference to every page stored in it.
//
//   - Insert stores keys[:n·PageSize] → pages[:n], n = min(len(pages),
//     len(keys)/PageSize). Its leading Dup pages were already cached: the
//     cache keeps its own page ids there and takes nothing from pages[:Dup].
//     It takes pages[Dup:n], returned as Taken: the caller must Retain them
//     in the pool (the cache's reference). The caller keeps its own
//     references to all of pages and releases them as usual.
//   - Evict and Reset return the pages the cache dropped: the caller must
//     Release them (the cache's reference).
//   - Match returns page ids without taking references. They stay cached
//     while the handle is locked; a caller that reads them also Retains them
//     for as long as it uses them.
//
// None follows the same rules with Dup = n and Taken empty, so one engine
// code path keeps the pool's accounting right with either cache.
//
// Example, PageSize 4 (a0… are keys, [7 3] are page ids):
//
//	request A: keys a0..a9, pages [7 3 9] (page 9 holds a8 a9, partial)
//	  Insert(keysA, [7 3 9])   n=2, Dup 0, Taken [7 3]   → kv.Retain([7 3])
//	  A finishes                                       → kv.Release([7 3 9])
//	  root ── a0..a7 [7 3]
//
//	request B: keys a0..a3 b4..b11
//	  h := Match(keysB, 11)    h.Len()=4, h.Pages()=[7] → Lock(h); kv.Retain([7])
//	  root ── a0..a3 [7] ── a4..a7 [3]    (Match split the node: only [7] is pinned)
//	  B allocates [5 8] for b4..b11
//	  Insert(keysB, [7 5 8])   Dup 1, Taken [5 8]         → kv.Retain([5 8])
//	  root ── a0..a3 [7] ─┬─ a4..a7  [3]
//	                      └─ b4..b11 [5 8]
//	  B finishes               Unlock(h)                 → kv.Release([7 5 8])
//
//	Evict(4)                 least recently used unlocked leaf: a4..a7
//	                         freed [3]                   → kv.Release([3])
//
// A Cache is not safe for concurrent use: the engine goroutine owns it.
package prefix

import "errors"

var (
	// ErrPageSize reports a page size below 1.
	ErrPageSize = errors.New("prefix: page size must be at least 1")
	// ErrPage reports a page id that is negative, listed twice, or already
	// cached elsewhere: a bug in the caller's page accounting.
	ErrPage = errors.New("prefix: bad page id")
	// ErrHandle reports a handle from another cache.
	ErrHandle = errors.New("prefix: handle belongs to another cache")
	// ErrStale reports a handle whose path was evicted (it was not locked).
	ErrStale = errors.New("prefix: handle's path was evicted")
	// ErrNotLocked reports an Unlock without a matching Lock.
	ErrNotLocked = errors.New("prefix: unlock of a handle that is not locked")
	// ErrCorrupt reports a broken invariant found by Check.
	ErrCorrupt = errors.New("prefix: invariant violated")
)

// Cache maps page-aligned key prefixes to KV pages. See the package doc for
// who holds which page references.
type Cache interface {
	// PageSize is the number of keys per page.
	PageSize() int
	// Match returns the longest cached prefix of keys that is a whole number
	// of pages and at most maxTokens long (the engine passes len(keys)-1 so
	// that at least one token is computed). It changes no content: besides
	// LRU time it may split the node where the match ends, so that a Lock
	// pins exactly the matched pages.
	// A miss returns the zero Handle.
	Match(keys []uint32, maxTokens int) Handle
	// Insert stores keys[:n·PageSize] → pages[:n], n = min(len(pages),
	// len(keys)/PageSize). Like Match, it may split the node where the path
	// ends. On error nothing changed.
	Insert(keys []uint32, pages []int32) (Inserted, error)
	// Lock pins h's path, and nothing more, against eviction (Match and
	// Insert split the node where a handle ends). Locks count: each Lock
	// needs one Unlock. Locking or unlocking the zero Handle does nothing.
	Lock(h Handle) error
	// Unlock undoes one Lock of h.
	Unlock(h Handle) error
	// Evict drops least recently used unlocked leaves until at least tokens
	// keys' worth of pages were dropped or nothing unlocked is left, and
	// returns the dropped page ids (the caller releases them).
	Evict(tokens int) (freed []int32)
	// Reset drops every unlocked node and returns the dropped pages. Locked
	// paths stay cached and their handles stay valid; once unlocked they are
	// ordinary evictable entries.
	Reset() (freed []int32)
	// Size is the number of cached keys (pages × PageSize) that are
	// evictable (unlocked) and locked.
	Size() (evictable, locked int)
	// Check verifies the structure's invariants (for tests and /debug).
	Check() error
}

// Handle is a matched or inserted path: Len keys held in Pages. A handle
// is valid until its path is evicted; lock it to prevent that. The zero
// Handle is the empty match.
type Handle struct {
	r     *Radix
	n     *node // last node of the path (Match and Insert end paths at node boundaries)
	pages []int32
	ps    int
}

// Len is the number of matched keys, a multiple of the page size.
func (h Handle) Len() int { return len(h.pages) * h.ps }

// Pages are the path's page ids in order. The slice belongs to the handle;
// do not modify it. The ids are only safe to use while the handle is locked
// or the caller holds pool references to them.
func (h Handle) Pages() []int32 { return h.pages }

// Inserted reports what Insert did.
type Inserted struct {
	// Dup is the number of leading pages that were already cached: the
	// cache kept its own ids for them and took nothing from pages[:Dup].
	Dup int
	// Taken are the pages the cache now holds a reference to, equal to
	// pages[Dup:n]: the caller must Retain them in the KV pool. It aliases
	// Handle.Pages().
	Taken []int32
	// Handle is the whole inserted path (n pages; the first Dup are the
	// cache's own ids, which may differ from pages[:Dup]).
	Handle Handle
}
