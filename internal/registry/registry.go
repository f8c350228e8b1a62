// Package registry is Sightline's one idiom for name → implementation
// tables (compute backends, decoder families, media processors, encoder
// families): implementations register from their package's init, callers
// look them up by name, and listings are sorted.
package registry

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps names to values of T. Safe for concurrent use.
type Registry[T any] struct {
	what string // in errors: "no <what> "x""
	mu   sync.RWMutex
	m    map[string]T
}

// New returns an empty registry; what names its entries in errors.
func New[T any](what string) *Registry[T] {
	return &Registry[T]{what: what, m: map[string]T{}}
}

// Register adds name. Registering a name twice is a programming error and
// panics (registration happens in init).
func (r *Registry[T]) Register(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("registry: %s %q registered twice", r.what, name))
	}
	r.m[name] = v
}

// Get returns name's value, or an error listing what is registered.
func (r *Registry[T]) Get(name string) (T, error) {
	r.mu.RLock()
	v, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		var zero T
		return zero, fmt.Errorf("no %s %q (have %v)", r.what, name, r.Names())
	}
	return v, nil
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Each calls f for every entry in name order until f returns false.
func (r *Registry[T]) Each(f func(name string, v T) bool) {
	for _, n := range r.Names() {
		r.mu.RLock()
		v, ok := r.m[n]
		r.mu.RUnlock()
		if ok && !f(n, v) {
			return
		}
	}
}
