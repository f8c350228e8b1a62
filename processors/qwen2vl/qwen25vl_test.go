package qwen2vl

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/media"
	"github.com/sightline/sightline/processors"
	"github.com/sightline/sightline/processors/imageproc"
)

// qwen25VLDir writes the preprocessor_config.json and the parts of
// config.json the processor reads as Qwen2.5-VL-3B-Instruct ships them:
// the vision_config's hidden_size is the tower's width (1280), the text
// width (2048) is the top-level hidden_size and out_hidden_size.
func qwen25VLDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"config.json": `{"architectures":["Qwen2_5_VLForConditionalGeneration"],"model_type":"qwen2_5_vl","hidden_size":2048,
			"rope_scaling":{"type":"mrope","mrope_section":[16,24,24]},
			"vision_config":{"depth":32,"hidden_act":"silu","hidden_size":1280,"intermediate_size":3420,"num_heads":16,"in_chans":3,
			"out_hidden_size":2048,"patch_size":14,"spatial_merge_size":2,"spatial_patch_size":14,"window_size":112,
			"fullatt_block_indexes":[7,15,23,31],"tokens_per_second":2,"temporal_patch_size":2}}`,
		"preprocessor_config.json": `{"min_pixels":3136,"max_pixels":12845056,"patch_size":14,"temporal_patch_size":2,"merge_size":2,
			"image_mean":[0.48145466,0.4578275,0.40821073],"image_std":[0.26862954,0.26130258,0.27577711],
			"image_processor_type":"Qwen2VLImageProcessor","processor_class":"Qwen2_5_VLProcessor"}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hfSmartResize is transformers' smart_resize (Qwen2VLImageProcessor, used
// by Qwen2.5-VL too), written from its Python: round() is half-to-even, a
// side may round to 0, only the max_pixels branch clamps to factor.
// It returns (height, width) like the Python.
func hfSmartResize(height, width, factor, minPixels, maxPixels int) (int, int) {
	pyRound := func(x float64) int { return int(math.RoundToEven(x)) }
	hBar := pyRound(float64(height)/float64(factor)) * factor
	wBar := pyRound(float64(width)/float64(factor)) * factor
	if hBar*wBar > maxPixels {
		beta := math.Sqrt(float64(height*width) / float64(maxPixels))
		hBar = max(factor, int(math.Floor(float64(height)/beta/float64(factor)))*factor)
		wBar = max(factor, int(math.Floor(float64(width)/beta/float64(factor)))*factor)
	} else if hBar*wBar < minPixels {
		beta := math.Sqrt(float64(minPixels) / float64(height*width))
		hBar = int(math.Ceil(float64(height)*beta/float64(factor))) * factor
		wBar = int(math.Ceil(float64(width)*beta/float64(factor))) * factor
	}
	return hBar, wBar
}

// TestQwen25VLProcessor reads a Qwen2.5-VL checkpoint's processor files
// (Qwen2VLImageProcessor's settings, text width from the top level) and
// checks, for images of many sizes and aspect ratios, the resized size,
// the patch grid, the image token count (grid_h/2 · grid_w/2), the token
// run in the prompt and the positions the image advances (max of the
// merged sides), against transformers' formulas.
func TestQwen25VLProcessor(t *testing.T) {
	v := vocab{"<|vision_start|>": 1, "<|vision_end|>": 2, "<|image_pad|>": 3}
	pr, err := processors.New("qwen2vl", processors.Spec{Dir: qwen25VLDir(t), Vocab: v})
	if err != nil {
		t.Fatal(err)
	}
	p := pr.(*Processor)
	c := p.Config()
	if c.Patch != 14 || c.Merge != 2 || c.Temporal != 2 || c.MinPixels != 3136 || c.MaxPixels != 12845056 ||
		c.Hidden != 2048 || c.Filter != imageproc.Bicubic || c.Llama || c.Mean != [3]float32{0.48145466, 0.4578275, 0.40821073} {
		t.Fatalf("config %+v", c)
	}
	sizes := [][2]int{ // (w, h)
		{28, 28}, {56, 56}, {112, 112}, {224, 168}, {280, 196}, {640, 480}, {480, 640}, {1024, 768}, {1280, 720},
		{1920, 1080}, {1080, 1920}, {3840, 2160}, {4000, 3000}, {7000, 5000}, {333, 777}, {1000, 1}, {2000, 12},
		{12, 2000}, {13, 13}, {14, 14}, {15, 15}, {41, 42}, {42, 41}, {70, 98}, {98, 70}, {126, 154}, {500, 3},
		{5600, 28}, {28, 5600}, {2800, 2800}, {3584, 3584}, {3585, 3583}, {100, 20000}, {1, 1}, {2, 3}, {199, 1},
	}
	ctx := context.Background()
	for _, s := range sizes {
		w, h := s[0], s[1]
		if float64(max(w, h))/float64(min(w, h)) > 200 {
			continue
		}
		wantH, wantW := hfSmartResize(h, w, 28, 3136, 12845056)
		gotW, gotH, err := p.Size(w, h, media.Hints{})
		if err != nil || gotW != wantW || gotH != wantH {
			t.Errorf("%d×%d: resized to %d×%d (%v), transformers %d×%d", w, h, gotW, gotH, err, wantW, wantH)
			continue
		}
		if wantW*wantH > 1<<21 { // the pixels of the largest ones are not worth the test time
			continue
		}
		pix := make([]uint8, w*h*3)
		for i := range pix {
			pix[i] = uint8(i * 31)
		}
		it := media.Item{Modality: media.Image, Format: media.Raw, RGB: &media.RGB{W: w, H: h, Pix: pix}, Hash: uint64(w<<20 | h)}
		got, err := p.Prepare(ctx, []int32{9, M, 9}, []media.Item{it})
		if err != nil {
			t.Errorf("%d×%d: %v", w, h, err)
			continue
		}
		gh, gw := wantH/14, wantW/14
		n := gh / 2 * gw / 2
		sp := got.Spans[0]
		if f := sp.Features; f.Grid != [3]int{1, gh, gw} || f.Shape[0] != gh*gw || f.Shape[1] != 3*2*14*14 {
			t.Errorf("%d×%d: grid %v shape %v, want (1, %d, %d)", w, h, f.Grid, f.Shape, gh, gw)
		}
		if sp.Len != n || sp.NPos != max(gh/2, gw/2) || len(got.Tokens) != n+4 || got.Tokens[1] != 1 || got.Tokens[n+2] != 2 {
			t.Errorf("%d×%d: span %d tokens advancing %d, prompt of %d; want %d and %d", w, h, sp.Len, sp.NPos, len(got.Tokens), n, max(gh/2, gw/2))
		}
		if next := int(int32(len(got.Tokens)) + got.PosDelta); next != 2+max(gh/2, gw/2)+2 {
			t.Errorf("%d×%d: next position %d", w, h, next)
		}
	}
}
