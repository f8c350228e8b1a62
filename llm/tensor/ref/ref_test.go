package ref

import (
	"testing"

	"github.com/sightline/sightline/llm/tensor/tensortest"
)

func TestShapeErrors(t *testing.T) { tensortest.ShapeErrors(t, New()) }

func FuzzOps(f *testing.F) { tensortest.Fuzz(f, New()) }
