//go:build cgo

package launch

import _ "github.com/sightline/sightline/llm/tensor/cpu" // registers the "cpu" backend
