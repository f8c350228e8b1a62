package weights

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/sightline/sightline/llm/tensor"
)

// validTensorFile is a small GGUF with metadata of several kinds and two tensors.
func validTensorFile(t *testing.T) ([]byte, int) {
	w := NewGGUFWriter()
	w.Set("general.architecture", "llama")
	w.Set("tokenizer.ggml.tokens", []string{"a", "bb", "ccc"})
	w.Set("nested", Array{Elem: TypeArray, V: []Array{{Elem: TypeFloat32, V: []float32{1}}}})
	w.AddTensor(mustEncode(t, "blk.0.attn_q.weight", tensor.Q8_0, []int{2, 32}, ramp(64, 0.1)))
	w.AddTensor(mustEncode(t, "norm", tensor.F32, []int{5}, ramp(5, 1)))
	b := w.Bytes()
	g, err := parseGGUF("valid.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for _, gt := range g.tensors {
		end = max(end, int(gt.end))
	}
	return b, end
}

func TestGGUFTruncated(t *testing.T) {
	b, end := validTensorFile(t)
	for n := 0; n < end; n++ {
		if _, err := parseGGUF("cut.gguf", b[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes parsed without error", n, end)
		} else {
			wantErr(t, err, ErrFormat, "cut.gguf")
		}
	}
	if _, err := parseGGUF("cut.gguf", b[:end]); err != nil {
		t.Errorf("file cut after the last tensor's data (only padding lost): %v", err)
	}
}

func TestGGUFHostile(t *testing.T) {
	const huge = uint64(1) << 62
	nested := newGB(3, 0, 1).str("deep").u32(uint32(TypeArray))
	for range maxArrayDepth + 1 {
		nested.u32(uint32(TypeArray)).u64(1)
	}
	nested.u32(uint32(TypeUint8)).u64(0)

	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"not a GGUF file"}},
		{"magic", []byte("GGML\x03\x00\x00\x00"), []string{"not a GGUF file", "GGML"}},
		{"v1", newGB(1, 0, 0).b, []string{"v1 is not supported"}},
		{"big-endian", newGB(0x03000000, 0, 0).b, []string{"big-endian"}},
		{"v7", newGB(7, 0, 0).b, []string{"unsupported GGUF version 7"}},
		{"no counts", []byte("GGUF\x03\x00\x00\x00\x01"), []string{"tensor count", "truncated"}},
		{"huge tensor count", newGB(3, huge, 0).b, []string{"4611686018427387904 tensors"}},
		{"huge kv count", newGB(3, 0, math.MaxUint64).b, []string{"18446744073709551615 metadata entries"}},
		{"counts beyond file", newGB(3, 2, 2).raw(make([]byte, 60)).b, []string{"more than the 60 bytes left"}},
		{"huge key length", newGB(3, 0, 1).u64(huge).raw(make([]byte, 16)).b, []string{"metadata key #0", "string length 4611686018427387904"}},
		{"huge string value", newGB(3, 0, 1).str("k").u32(uint32(TypeString)).u64(huge).b, []string{`metadata "k"`, "string length"}},
		{"huge array", newGB(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint64)).u64(huge).b, []string{"array of 4611686018427387904 uint64"}},
		{"huge string array", newGB(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 40).u64(0).b, []string{"array of 1099511627776 string"}},
		{"string array element past end", newGB(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(2).u64(1).raw([]byte("a")).u64(1 << 30).b, []string{"string length 1073741824"}},
		{"unknown value type", newGB(3, 0, 1).str("k").u32(13).raw(make([]byte, 8)).b, []string{"unknown value type 13"}},
		{"unknown array type", newGB(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(99).u64(0).b, []string{"unknown array element type 99"}},
		{"nested too deep", nested.b, []string{"nested deeper than 8"}},
		{"bool byte", newGB(3, 0, 1).str("k").u32(uint32(TypeBool)).u8(2).raw(make([]byte, 12)).b, []string{"bool byte 2"}},
		{"duplicate key", newGB(3, 0, 2).kvStr("k", "a").kvStr("k", "b").b, []string{`duplicate metadata key "k"`}},
		{"alignment zero", newGB(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(0).raw(make([]byte, 16)).b, []string{"general.alignment 0"}},
		{"alignment not pow2", newGB(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(48).raw(make([]byte, 16)).b, []string{"not a power of two"}},
		{"alignment string", newGB(3, 0, 1).kvStr("general.alignment", "32").raw(make([]byte, 16)).b, []string{"general.alignment 32 (string)"}},
		{"five dims", newGB(3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).b, []string{`tensor "t": 5 dimensions`}},
		{"unknown ggml type", newGB(3, 1, 0).tensor("t", 99, 0, 4).pad().raw(make([]byte, 32)).b, []string{`tensor "t": unknown ggml type 99`}},
		{"removed ggml type", newGB(3, 1, 0).tensor("t", 31, 0, 32).pad().raw(make([]byte, 32)).b, []string{"Q4_0_4_4", "removed"}},
		{"partial block", newGB(3, 1, 0).tensor("t", 8, 0, 33).pad().raw(make([]byte, 64)).b, []string{"33 elements is not a whole number of 32-element Q8_0 blocks"}},
		{"dims overflow", newGB(3, 1, 0).tensor("t", 0, 0, huge, huge).pad().b, []string{`tensor "t": shape`, "overflows"}},
		{"dim too large", newGB(3, 1, 0).tensor("t", 0, 0, math.MaxUint64).pad().b, []string{"too large"}},
		{"bytes beyond file", newGB(3, 1, 0).tensor("t", 0, 0, 1<<40).pad().b, []string{"larger than the file"}},
		{"offset past EOF", newGB(3, 1, 0).tensor("blk.0.attn_q.weight", 0, 1<<40, 4).pad().raw(make([]byte, 16)).b,
			[]string{`tensor "blk.0.attn_q.weight": data offset 1099511627776`, "beyond end of file"}},
		{"data past EOF", newGB(3, 1, 0).tensor("blk.0.attn_q.weight", 0, 0, 8).pad().raw(make([]byte, 16)).b,
			[]string{`hostile.gguf: tensor "blk.0.attn_q.weight": data [96, 128) beyond end of file (size 112)`}},
		{"no data section", newGB(3, 1, 0).tensor("t", 0, 0, 1).b, []string{"data section at offset 64 is beyond end of file (size 57)"}},
		{"misaligned", newGB(3, 1, 0).tensor("t", 0, 4, 1).pad().raw(make([]byte, 32)).b, []string{"data offset 4 is not a multiple of the alignment 32"}},
		{"overlap", newGB(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 8).pad().raw(make([]byte, 128)).b, []string{`tensors "a" [96, 160) and "b" [128, 160) overlap`}},
		{"duplicate tensor", newGB(3, 2, 0).tensor("a", 0, 0, 1).tensor("a", 0, 32, 1).pad().raw(make([]byte, 64)).b, []string{`duplicate tensor "a"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := parseGGUF("hostile.gguf", c.data)
			if err == nil {
				t.Fatalf("parsed without error: %d tensors", len(g.tensors))
			}
			wantErr(t, err, ErrFormat, append([]string{"weights: hostile.gguf: "}, c.want...)...)
		})
	}
}

// TestGGUFHostileOK checks edge cases that are valid.
func TestGGUFHostileOK(t *testing.T) {
	// zero-size tensors may share an offset; a zero dim allows huge others
	b := newGB(3, 3, 0).tensor("e1", 0, 0, 0).tensor("e2", 0, 0, 0, 1<<40).tensor("x", 0, 0, 2).pad().raw(make([]byte, 32)).b
	g, err := parseGGUF("ok.gguf", b)
	if err != nil {
		t.Fatal(err)
	}
	info, data, err := g.Tensor("e2")
	if err != nil || len(data) != 0 || info.NumElements() != 0 {
		t.Errorf("e2: %v %d bytes %+v", err, len(data), info)
	}
	// no tensors: the data section may lie beyond the end
	if _, err := parseGGUF("ok.gguf", newGB(3, 0, 1).kvStr("general.architecture", "x").b); err != nil {
		t.Error(err)
	}
}

func TestSafetensorsHostile(t *testing.T) {
	st := func(header string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return append(append(b, header...), make([]byte, data)...)
	}
	hugeHdr := binary.LittleEndian.AppendUint64(nil, 1<<40)
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"short", []byte{1, 2, 3}, []string{"too short"}},
		{"huge header", hugeHdr, []string{"header length 1099511627776 exceeds the 100000000-byte limit"}},
		{"header past EOF", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), []string{"header length 100 exceeds the 2 bytes after it"}},
		{"not object", st(`["x"]`, 0), []string{"not a JSON object"}},
		{"empty header", st(``, 0), []string{"not a JSON object"}},
		{"bad json", st(`{"a": {"dtype": "F32",`, 0), []string{"bad header"}},
		{"trailing", st(`{} {}`, 0), []string{"trailing data"}},
		{"unknown dtype", st(`{"a":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}`, 4), []string{`tensor "a": unknown dtype "F12"`}},
		{"negative dim", st(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), []string{`tensor "a": bad header entry`}},
		{"missing shape", st(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4), []string{"missing shape"}},
		{"offsets count", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), []string{"data_offsets must hold 2 numbers"}},
		{"offsets past EOF", st(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, 16), []string{"data_offsets [8, 24) beyond end of file: the data section is 16 bytes"}},
		{"offsets huge", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551611,18446744073709551615]}}`, 8), []string{"beyond end of file"}},
		{"reversed", st(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 8), []string{"reversed"}},
		{"size mismatch", st(`{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}`, 8), []string{"hold 8 bytes, but F16 shape [3] needs 6"}},
		{"shape overflow", st(`{"a":{"dtype":"F32","shape":[1099511627776,1099511627776,1099511627776],"data_offsets":[0,4]}}`, 4), []string{"overflows"}},
		{"shape too big", st(`{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]}}`, 4), []string{"larger than the 4-byte data section"}},
		{"odd bits", st(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, 2), []string{"not a whole number of bytes"}},
		{"overlap", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), []string{`tensors "a" [`, `and "b"`, "overlap"}},
		{"duplicate", st(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), []string{`duplicate header entry "a"`}},
		{"metadata not strings", st(`{"__metadata__":{"n":1}}`, 0), []string{"__metadata__ is not a map of strings"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, entries, err := parseSafetensors("hostile.safetensors", c.data)
			if err == nil {
				t.Fatalf("parsed without error: %d tensors", len(entries))
			}
			wantErr(t, err, ErrFormat, append([]string{"weights: hostile.safetensors: "}, c.want...)...)
		})
	}
}

func TestSafetensorsTruncated(t *testing.T) {
	var buf sliceWriter
	_, err := WriteSafetensorsTo(&buf, []TensorData{
		mustEncode(t, "a", tensor.F32, []int{2, 3}, ramp(6, 1)),
		mustEncode(t, "b", tensor.BF16, []int{3}, ramp(3, 1)),
	}, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(buf); n++ {
		_, _, err := parseSafetensors("cut.safetensors", buf[:n])
		if err == nil {
			t.Fatalf("prefix of %d/%d bytes parsed without error", n, len(buf))
		}
		if !strings.Contains(err.Error(), "cut.safetensors") {
			t.Errorf("error does not name the file: %v", err)
		}
	}
}
