//go:build cgo

package vit_test

import (
	"github.com/sightline/sightline/llm/tensor"
	"github.com/sightline/sightline/llm/tensor/cpu"
)

func init() {
	backendsUnderTest = append(backendsUnderTest, func() (tensor.Backend, error) {
		return cpu.New(tensor.Options{Threads: 2})
	})
}
