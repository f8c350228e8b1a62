package media

import (
	"errors"
	"fmt"

	"github.com/sightline/sightline/media/jpeg"
)

// JPEG goes through media/jpeg, which reproduces libjpeg-turbo's default
// decompression bit for bit (islow IDCT, fancy chroma upsampling, the
// jdcolor.c tables), so the pixels equal Pillow's. What Pillow's
// convert("RGB") adds is done here: grey is replicated, and CMYK, which
// Pillow reads as Adobe-inverted ("CMYK;I") whatever the file says, goes
// through its cmyk2rgb.

// isJPEG reports whether b starts with an SOI marker (the magic
// image/jpeg registers).
func isJPEG(b []byte) bool {
	return len(b) >= 2 && b[0] == 0xFF && b[1] == 0xD8
}

// decodeJPEG decodes b within lim. Errors wrap the media sentinels and the
// media/jpeg ones.
func decodeJPEG(b []byte, lim Limits) (*RGB, error) {
	var (
		cfg jpeg.Config
		img *jpeg.Image
		err error
	)
	if perr := guard(func() { cfg, err = jpeg.DecodeConfig(b) }); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, jpegErr("jpeg header: ", err)
	}
	if w, h := int64(cfg.Width), int64(cfg.Height); w*h > lim.MaxPixels {
		return nil, tooManyPixels(w, h, lim)
	}
	if perr := guard(func() { img, err = jpeg.Decode(b, &jpeg.Options{MaxPixels: lim.MaxPixels}) }); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, jpegErr("", err)
	}
	out := &RGB{W: img.Width, H: img.Height}
	switch img.Channels {
	case 3:
		out.Pix = img.Pix
	case 1:
		out.Pix = make([]uint8, 3*len(img.Pix))
		for i, v := range img.Pix {
			out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
		}
	case 4:
		out.Pix = make([]uint8, 3*img.Width*img.Height)
		for i := range img.Width * img.Height {
			p := img.Pix[4*i : 4*i+4]
			cmykToRGB(out.Pix[3*i:3*i+3], 255-p[0], 255-p[1], 255-p[2], 255-p[3])
		}
	default:
		return nil, fmt.Errorf("%w: jpeg: %d channels", ErrDecode, img.Channels)
	}
	return out, nil
}

// jpegErr maps a media/jpeg error to the media sentinels.
func jpegErr(prefix string, err error) error {
	sentinel := ErrDecode
	switch {
	case errors.Is(err, jpeg.ErrTooLarge):
		sentinel = ErrTooLarge
	case errors.Is(err, jpeg.ErrUnsupported):
		sentinel = ErrUnsupported
	}
	return fmt.Errorf("%w: %s%w", sentinel, prefix, err)
}

// cmykToRGB is Pillow's cmyk2rgb (Convert.c): with nk = 255 - k,
// each channel is nk - c·nk/255, the product rounded as MULDIV255 does.
func cmykToRGB(dst []uint8, c, m, y, k uint8) {
	nk := 255 - int32(k)
	mul := func(a int32) uint8 {
		t := a*nk + 128
		return clamp8(nk - ((t>>8)+t)>>8)
	}
	dst[0], dst[1], dst[2] = mul(int32(c)), mul(int32(m)), mul(int32(y))
}

func clamp8(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}
