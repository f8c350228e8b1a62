package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers GIF
	_ "image/jpeg"
	_ "image/png"
)

// DecodeImage decodes an encoded image (any format registered with the image
// package) to RGB8 the way Pillow's Image.open(...).convert("RGB") does:
// alpha is dropped (not composited), grey is replicated, palettes are looked
// up, CMYK uses Pillow's cmyk2rgb, 16-bit samples keep their high byte, and
// JPEG is decoded by media/jpeg exactly as Pillow's libjpeg-turbo decodes it.
// GIF yields its first frame. Byte and pixel limits are checked from the header before decoding.
// It returns the image and the codec name ("png", "jpeg", ...).
func DecodeImage(b []byte, lim Limits) (*RGB, string, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: %d bytes exceeds %d", ErrTooLarge, len(b), lim.MaxBytes)
	}
	if isJPEG(b) {
		rgb, err := decodeJPEG(b, lim)
		return rgb, "jpeg", err
	}
	var (
		cfg    image.Config
		format string
		err    error
	)
	if perr := guard(func() { cfg, format, err = image.DecodeConfig(bytes.NewReader(b)) }); perr != nil {
		return nil, "", perr
	}
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", fmt.Errorf("%w: not a recognised image format (%s)", ErrUnsupported, sniffHint(b))
		}
		if w, h, ok := webpCanvas(b); ok && format == "webp" && w*h > lim.MaxPixels {
			// x/image/webp calls a canvas over 2^31 pixels malformed.
			return nil, format, tooManyPixels(w, h, lim)
		}
		return nil, format, fmt.Errorf("%w: %s header: %v", ErrDecode, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("%w: %s image has size %dx%d", ErrDecode, format, cfg.Width, cfg.Height)
	}
	if w, h := int64(cfg.Width), int64(cfg.Height); w*h > lim.MaxPixels {
		return nil, format, tooManyPixels(w, h, lim)
	}
	var img image.Image
	if perr := guard(func() { img, _, err = image.Decode(bytes.NewReader(b)) }); perr != nil {
		return nil, format, perr
	}
	if err != nil {
		return nil, format, fmt.Errorf("%w: %s: %v", ErrDecode, format, err)
	}
	r := img.Bounds()
	if int64(r.Dx())*int64(r.Dy()) > lim.MaxPixels || r.Dx() <= 0 || r.Dy() <= 0 {
		return nil, format, fmt.Errorf("%w: %s decoded to %v", ErrDecode, format, r)
	}
	if m, ok := img.(*image.Paletted); ok && format == "gif" {
		restoreGIFTransparent(m, b)
	}
	if format == "gif" && r != image.Rect(0, 0, cfg.Width, cfg.Height) {
		return placeOnCanvas(img, cfg.Width, cfg.Height), format, nil
	}
	return toRGB(img, format), format, nil
}

func tooManyPixels(w, h int64, lim Limits) error {
	return fmt.Errorf("%w: %dx%d image has %d pixels, more than %d", ErrTooLarge, w, h, w*h, lim.MaxPixels)
}

// webpCanvas reads the canvas size of an extended (VP8X) WebP header:
//
//	"RIFF" size(4) "WEBP" "VP8X" len(4) flags(4) width-1(3) height-1(3), little-endian
func webpCanvas(b []byte) (w, h int64, ok bool) {
	if len(b) < 30 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WEBPVP8X" {
		return 0, 0, false
	}
	u24 := func(p []byte) int64 { return int64(p[0]) | int64(p[1])<<8 | int64(p[2])<<16 }
	return u24(b[24:]) + 1, u24(b[27:]) + 1, true
}

// guard runs f, turning a panic inside a (third-party) decoder into ErrDecode.
func guard(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: decoder panicked: %v", ErrDecode, p)
		}
	}()
	f()
	return nil
}

// sniffHint names what the first bytes look like, for error messages.
func sniffHint(b []byte) string {
	n := min(len(b), 8)
	printable := true
	for _, c := range b[:n] {
		if c < 0x20 || c > 0x7e {
			printable = false
		}
	}
	if printable {
		return fmt.Sprintf("starts with %q", b[:n])
	}
	return fmt.Sprintf("starts with % x", b[:n])
}

// placeOnCanvas draws a GIF frame that does not cover the logical screen
// onto a canvas of the screen size filled, as Pillow does, with palette
// index 0.
func placeOnCanvas(img image.Image, w, h int) *RGB {
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	if m, ok := img.(*image.Paletted); ok && len(m.Palette) > 0 {
		c := color.NRGBAModel.Convert(m.Palette[0]).(color.NRGBA)
		for i := 0; i < len(out.Pix); i += 3 {
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
		}
	}
	src := toRGB(img, "gif")
	r := img.Bounds().Intersect(image.Rect(0, 0, w, h))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sx, sy := x-img.Bounds().Min.X, y-img.Bounds().Min.Y
			copy(out.Pix[(y*w+x)*3:(y*w+x)*3+3], src.Pix[(sy*src.W+sx)*3:])
		}
	}
	return out
}

// toRGB converts any decoded image to RGB8 (see DecodeImage).
func toRGB(img image.Image, format string) *RGB {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		if r.Min == (image.Point{}) && format == "webp" {
			return webpToRGB(m)
		}
	case *image.NYCbCrA:
		if r.Min == (image.Point{}) && format == "webp" {
			return webpToRGB(&m.YCbCr)
		}
	}
	out := &RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	p := out.Pix
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:w]
			for x, v := range row {
				i := (y*w + x) * 3
				p[i], p[i+1], p[i+2] = v, v, v
			}
		}
	case *image.Gray16:
		// Pillow opens 16-bit grey as mode "I" and clips to 0..255 on
		// convert("RGB") (it does not scale).
		for y := range h {
			for x := range w {
				o := m.PixOffset(r.Min.X+x, r.Min.Y+y)
				v := uint16(m.Pix[o])<<8 | uint16(m.Pix[o+1])
				c := uint8(min(v, 255))
				i := (y*w + x) * 3
				p[i], p[i+1], p[i+2] = c, c, c
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				copy(p[(y*w+x)*3:(y*w+x)*3+3], row[4*x:4*x+3])
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				i := (y*w + x) * 3
				p[i], p[i+1], p[i+2] = unpremul(row[4*x], row[4*x+3]), unpremul(row[4*x+1], row[4*x+3]), unpremul(row[4*x+2], row[4*x+3])
			}
		}
	case *image.NRGBA64:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:8*w]
			for x := range w {
				i := (y*w + x) * 3
				p[i], p[i+1], p[i+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.RGBA64:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:8*w]
			for x := range w {
				i := (y*w + x) * 3
				a := row[8*x+6]
				p[i], p[i+1], p[i+2] = unpremul(row[8*x], a), unpremul(row[8*x+2], a), unpremul(row[8*x+4], a)
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:w]
			for x, v := range row {
				copy(p[(y*w+x)*3:], pal[v][:])
			}
		}
	case *image.CMYK:
		for y := range h {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):][:4*w]
			for x := range w {
				i := (y*w + x) * 3
				cmykToRGB(p[i:i+3], row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
			}
		}
	default:
		for y := range h {
			for x := range w {
				n := color.NRGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA)
				i := (y*w + x) * 3
				p[i], p[i+1], p[i+2] = n.R, n.G, n.B
			}
		}
	}
	return out
}

// unpremul undoes premultiplied alpha like Pillow's RGBa→RGBA (255·c/a, truncated).
func unpremul(c, a uint8) uint8 {
	switch a {
	case 255:
		return c
	case 0:
		return 0
	}
	return uint8(min(255*int(c)/int(a), 255))
}
