package imageproc

import (
	"fmt"
	"math"
)

// ErrAspect reports an image too elongated for smart_resize.
var ErrAspect = fmt.Errorf("%w: aspect ratio", ErrSize)

// SmartResize is Qwen2-VL's smart_resize as Hugging Face computes it
// (float64, Python's round-half-even): both sides become multiples of factor,
// the area is kept within [minPixels, maxPixels] and the aspect ratio nearly
// preserved. It returns (width, height).
func SmartResize(w, h, factor, minPixels, maxPixels int) (int, int, error) {
	if err := smartArgs(w, h, factor, minPixels, maxPixels); err != nil {
		return 0, 0, err
	}
	H, W, F := float64(h), float64(w), float64(factor)
	// A side under factor/2 rounds to 0 (transformers does not clamp it
	// here), which sends the image to the min_pixels branch.
	hb := int(math.RoundToEven(H/F)) * factor
	wb := int(math.RoundToEven(W/F)) * factor
	if hb*wb > maxPixels {
		beta := math.Sqrt(H * W / float64(maxPixels))
		hb = max(factor, int(math.Floor(H/beta/F))*factor)
		wb = max(factor, int(math.Floor(W/beta/F))*factor)
	} else if hb*wb < minPixels {
		beta := math.Sqrt(float64(minPixels) / (H * W))
		hb = int(math.Ceil(H*beta/F)) * factor
		wb = int(math.Ceil(W*beta/F)) * factor
	}
	// Only min_pixels 0 leaves a side at 0 (transformers would fail later).
	return max(factor, wb), max(factor, hb), nil
}

// SmartResizeLlama is llama.cpp's version of smart_resize
// (calc_size_preserved_ratio with min/max pixels): float32 arithmetic and
// rounding half away from zero. It returns (width, height).
func SmartResizeLlama(w, h, factor, minPixels, maxPixels int) (int, int, error) {
	if err := smartArgs(w, h, factor, minPixels, maxPixels); err != nil {
		return 0, 0, err
	}
	f := float32(factor)
	round := func(x float32) int { return int(math.Round(float64(x/f))) * factor }
	ceil := func(x float32) int { return int(math.Ceil(float64(x/f))) * factor }
	floor := func(x float32) int { return int(math.Floor(float64(x/f))) * factor }
	hb := max(factor, round(float32(h)))
	wb := max(factor, round(float32(w)))
	if hb*wb > maxPixels {
		beta := float32(math.Sqrt(float64(float32(h*w) / float32(maxPixels))))
		hb = max(factor, floor(float32(h)/beta))
		wb = max(factor, floor(float32(w)/beta))
	} else if hb*wb < minPixels {
		beta := float32(math.Sqrt(float64(float32(minPixels) / float32(h*w))))
		hb = ceil(float32(h) * beta)
		wb = ceil(float32(w) * beta)
	}
	return wb, hb, nil
}

func smartArgs(w, h, factor, minPixels, maxPixels int) error {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels || factor <= 0 || minPixels < 0 || maxPixels < factor*factor || minPixels > maxPixels {
		return fmt.Errorf("%w: smart resize of %dx%d (factor %d, pixels %d..%d)", ErrSize, w, h, factor, minPixels, maxPixels)
	}
	if r := float64(max(w, h)) / float64(min(w, h)); r > 200 {
		return fmt.Errorf("%w: absolute aspect ratio must be smaller than 200, got %g", ErrAspect, r)
	}
	return nil
}

// LongestEdge is Hugging Face Idefics3's resize to a longest side of maxLen
// keeping the aspect ratio (the other side truncated, then made even). It
// returns (width, height).
func LongestEdge(w, h, maxLen int) (int, int, error) {
	if w <= 0 || h <= 0 || maxLen <= 0 || int64(maxLen)*int64(maxLen) > MaxPixels {
		return 0, 0, fmt.Errorf("%w: %dx%d to longest edge %d", ErrSize, w, h, maxLen)
	}
	aspect := float64(w) / float64(h)
	if w >= h {
		w = maxLen
		h = int(float64(w) / aspect)
		if h%2 != 0 {
			h++
		}
	} else {
		h = maxLen
		w = int(float64(h) * aspect)
		if w%2 != 0 {
			w++
		}
	}
	return max(w, 1), max(h, 1), nil
}

// CeilToMultiple is Idefics3's resize_for_vision_encoder size: the longer
// side rounded up to a multiple of m, the other side scaled by the aspect
// ratio and rounded up too. It returns (width, height).
func CeilToMultiple(w, h, m int) (int, int, error) {
	if w <= 0 || h <= 0 || m <= 0 {
		return 0, 0, fmt.Errorf("%w: %dx%d to multiples of %d", ErrSize, w, h, m)
	}
	aspect := float64(w) / float64(h)
	up := func(x int) int { return (x + m - 1) / m * m }
	if w >= h {
		w = up(w)
		h = up(int(float64(w) / aspect))
	} else {
		h = up(h)
		w = up(int(float64(h) * aspect))
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPixels {
		return 0, 0, fmt.Errorf("%w: %dx%d", ErrSize, w, h)
	}
	return w, h, nil
}
