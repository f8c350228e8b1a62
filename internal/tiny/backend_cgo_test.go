//go:build cgo

package tiny_test

import (
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/cpu"
)

func init() {
	fastBackend = func() (tensor.Backend, error) { return cpu.New(tensor.Options{Threads: 2}) }
}
