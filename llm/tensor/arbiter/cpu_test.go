//go:build cgo

package arbiter

import (
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/cpu"
)

func init() {
	newBackend = func() tensor.Backend {
		b, err := cpu.New(tensor.Options{Threads: 2})
		if err != nil {
			panic(err)
		}
		return b
	}
}
