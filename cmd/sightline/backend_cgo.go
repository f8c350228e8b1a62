//go:build cgo

package main

import _ "github.com/sightline/sightline/llm/tensor/cpu" // registers the "cpu" backend
