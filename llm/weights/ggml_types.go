package weights

import (
	"fmt"

	"github.com/sightline/sightline/llm/tensor"
)

// ggmlType describes one GGML tensor type id as stored in GGUF tensor infos.
type ggmlType struct {
	name    string
	block   uint64       // elements per block
	size    uint64       // bytes per block
	dtype   tensor.DType // invalidDType when this package refuses the data
	removed bool         // id retired from GGUF files; refused at open
}

// ggmlTypes is indexed by GGML type id (ggml.h); zero entries are unknown ids.
// Sizes follow ggml's type traits so unsupported tensors can still be bounds-checked.
var ggmlTypes = [...]ggmlType{
	0:  {name: "F32", block: 1, size: 4, dtype: tensor.F32},
	1:  {name: "F16", block: 1, size: 2, dtype: tensor.F16},
	2:  {name: "Q4_0", block: 32, size: 18, dtype: tensor.Q4_0},
	3:  {name: "Q4_1", block: 32, size: 20, dtype: tensor.Q4_1},
	6:  {name: "Q5_0", block: 32, size: 22, dtype: tensor.Q5_0},
	7:  {name: "Q5_1", block: 32, size: 24, dtype: tensor.Q5_1},
	8:  {name: "Q8_0", block: 32, size: 34, dtype: tensor.Q8_0},
	9:  {name: "Q8_1", block: 32, size: 36, dtype: invalidDType},
	10: {name: "Q2_K", block: 256, size: 84, dtype: tensor.Q2_K},
	11: {name: "Q3_K", block: 256, size: 110, dtype: tensor.Q3_K},
	12: {name: "Q4_K", block: 256, size: 144, dtype: tensor.Q4_K},
	13: {name: "Q5_K", block: 256, size: 176, dtype: tensor.Q5_K},
	14: {name: "Q6_K", block: 256, size: 210, dtype: tensor.Q6_K},
	15: {name: "Q8_K", block: 256, size: 292, dtype: invalidDType},
	16: {name: "IQ2_XXS", block: 256, size: 66, dtype: invalidDType},
	17: {name: "IQ2_XS", block: 256, size: 74, dtype: invalidDType},
	18: {name: "IQ3_XXS", block: 256, size: 98, dtype: invalidDType},
	19: {name: "IQ1_S", block: 256, size: 50, dtype: invalidDType},
	20: {name: "IQ4_NL", block: 32, size: 18, dtype: tensor.IQ4_NL},
	21: {name: "IQ3_S", block: 256, size: 110, dtype: invalidDType},
	22: {name: "IQ2_S", block: 256, size: 82, dtype: invalidDType},
	23: {name: "IQ4_XS", block: 256, size: 136, dtype: tensor.IQ4_XS},
	24: {name: "I8", block: 1, size: 1, dtype: invalidDType},
	25: {name: "I16", block: 1, size: 2, dtype: invalidDType},
	26: {name: "I32", block: 1, size: 4, dtype: invalidDType},
	27: {name: "I64", block: 1, size: 8, dtype: invalidDType},
	28: {name: "F64", block: 1, size: 8, dtype: invalidDType},
	29: {name: "IQ1_M", block: 256, size: 56, dtype: invalidDType},
	30: {name: "BF16", block: 1, size: 2, dtype: tensor.BF16},
	31: {name: "Q4_0_4_4", block: 32, size: 18, dtype: invalidDType, removed: true},
	32: {name: "Q4_0_4_8", block: 32, size: 18, dtype: invalidDType, removed: true},
	33: {name: "Q4_0_8_8", block: 32, size: 18, dtype: invalidDType, removed: true},
	34: {name: "TQ1_0", block: 256, size: 54, dtype: invalidDType},
	35: {name: "TQ2_0", block: 256, size: 66, dtype: invalidDType},
	36: {name: "IQ4_NL_4_4", block: 32, size: 18, dtype: invalidDType, removed: true},
	37: {name: "IQ4_NL_4_8", block: 32, size: 18, dtype: invalidDType, removed: true},
	38: {name: "IQ4_NL_8_8", block: 32, size: 18, dtype: invalidDType, removed: true},
	39: {name: "MXFP4", block: 32, size: 17, dtype: invalidDType},
	40: {name: "NVFP4", block: 64, size: 36, dtype: invalidDType},
	41: {name: "Q1_0", block: 128, size: 18, dtype: invalidDType},
	42: {name: "Q2_0", block: 64, size: 18, dtype: invalidDType},
}

// lookupGGMLType returns the type for id, or an error message naming it.
func lookupGGMLType(id uint32) (ggmlType, string) {
	if int64(id) >= int64(len(ggmlTypes)) || ggmlTypes[id].name == "" {
		return ggmlType{}, fmt.Sprintf("unknown ggml type %d", id)
	}
	t := ggmlTypes[id]
	if t.removed {
		return ggmlType{}, fmt.Sprintf("ggml type %d (%s) was removed from GGUF files", id, t.name)
	}
	return t, ""
}

// ggmlTypeID finds a type id by name (as in Info.Type).
func ggmlTypeID(name string) (uint32, bool) {
	for id, t := range ggmlTypes {
		if t.name == name && !t.removed {
			return uint32(id), true
		}
	}
	return 0, false
}

// GGMLTypeNames lists the GGML type names this package recognises, by id.
func GGMLTypeNames() []string {
	var out []string
	for _, t := range ggmlTypes {
		if t.name != "" && !t.removed {
			out = append(out, t.name)
		}
	}
	return out
}

// SupportedGGMLTypes lists the GGML type names whose tensors this package
// serves (the others are listed by Tensors but refused by Tensor), by id.
func SupportedGGMLTypes() []string {
	var out []string
	for _, t := range ggmlTypes {
		if t.name != "" && !t.removed && t.dtype.Valid() {
			out = append(out, t.name)
		}
	}
	return out
}
