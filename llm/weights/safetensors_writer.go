package weights

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// WriteSafetensors writes tensors (any safetensors dtype name in Type, or
// DType F32/F16/BF16) and optional __metadata__ to path. Output is
// deterministic: tensors sorted by name and packed in that order, JSON keys
// sorted, header padded with spaces to a multiple of 8 bytes.
func WriteSafetensors(path string, tensors []TensorData, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	_, err = WriteSafetensorsTo(bw, tensors, metadata)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("weights: write %s: %w", path, err)
	}
	return nil
}

// WriteSafetensorsTo is WriteSafetensors to an io.Writer.
func WriteSafetensorsTo(w io.Writer, tensors []TensorData, metadata map[string]string) (int64, error) {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b TensorData) int { return strings.Compare(a.Name, b.Name) })
	header := map[string]any{}
	if metadata != nil {
		header[stMetadataKey] = metadata
	}
	var off uint64
	for i, t := range sorted {
		if t.Name == stMetadataKey {
			return 0, fmt.Errorf("weights: safetensors tensor may not be named %q", t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return 0, fmt.Errorf("weights: safetensors tensor %q given twice", t.Name)
		}
		typ := t.typeName()
		dt, ok := stDTypes[typ]
		if !ok {
			return 0, fmt.Errorf("weights: safetensors tensor %q: unknown dtype %q", t.Name, typ)
		}
		n, ok := numElements(t.Shape)
		if !ok {
			return 0, fmt.Errorf("weights: safetensors tensor %q: bad shape %v", t.Name, t.Shape)
		}
		nbits := uint64(n) * dt.bits
		if nbits%8 != 0 || nbits/8 != uint64(len(t.Data)) {
			return 0, fmt.Errorf("weights: safetensors tensor %q: %s shape %v needs %d bits, got %d bytes", t.Name, typ, t.Shape, nbits, len(t.Data))
		}
		shape := append([]int{}, t.Shape...) // [] not null for scalars
		header[t.Name] = stJSONOut{DType: typ, Shape: shape, DataOffsets: [2]uint64{off, off + uint64(len(t.Data))}}
		off += uint64(len(t.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return 0, fmt.Errorf("weights: safetensors header: %w", err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	buf = append(buf, js...)
	nw, err := w.Write(buf)
	total := int64(nw)
	for _, t := range sorted {
		if err != nil {
			break
		}
		nw, err = w.Write(t.Data)
		total += int64(nw)
	}
	return total, err
}

type stJSONOut struct {
	DType       string    `json:"dtype"`
	Shape       []int     `json:"shape"`
	DataOffsets [2]uint64 `json:"data_offsets"`
}
