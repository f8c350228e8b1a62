// Package jpeg decodes JPEG images the way libjpeg-turbo's default
// decompression does, as Pillow drives it (Image.open(...).convert("RGB")),
// bit for bit: the "islow" integer IDCT of jidctint.c with its range
// limiting, "fancy" (triangular) chroma upsampling of jdsample.c, the
// fixed-point colour conversion of jdcolor.c, interblock smoothing of
// progressive images whose later scans are missing (jdcoefct.c), and
// libjpeg's tolerance of corrupt entropy data: a bad Huffman code decodes as
// zero, a segment cut short by a marker is zero-filled, and restart markers
// resynchronise. Valid files decode exactly as with libjpeg-turbo's SIMD
// code too; only corrupt data whose coefficients overflow 16 bits can
// differ, where the SIMD IDCTs saturate and this package, like
// libjpeg-turbo's C code, does not.
//
// Supported: sequential (SOF0, SOF1) and progressive (SOF2) Huffman-coded
// 8-bit JPEG with 1 (grey), 3 (YCbCr or RGB) or 4 (CMYK or YCCK)
// components, any sampling factors 1..4 whose ratios to the largest are
// integers (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 4:1:0, ...), restart
// intervals, and files without Huffman tables (the standard tables are used,
// as libjpeg does for motion-JPEG frames). Not supported: arithmetic coding,
// 12-bit and lossless JPEG, hierarchical frames, and 2 or more than 4
// components (Pillow cannot open those either).
//
// Errors wrap ErrFormat, ErrUnsupported, ErrTruncated or ErrTooLarge. Data
// that ends inside a scan, or before the EOI marker of a progressive or
// multi-scan image, is truncated, as it is for Pillow unless
// ImageFile.LOAD_TRUNCATED_IMAGES is set (libjpeg reads ahead and so needs
// the marker after a scan). Once the scan of a single-scan image is
// complete, running out of data in the markers after it is not an error (a
// second scan is), as with Pillow.
package jpeg

import (
	"errors"
	"fmt"
)

var (
	// ErrFormat: the data is not a valid JPEG stream.
	ErrFormat = errors.New("jpeg: invalid data")
	// ErrUnsupported: a valid JPEG feature this decoder does not implement.
	ErrUnsupported = errors.New("jpeg: unsupported")
	// ErrTruncated: the data ends before the image is complete.
	ErrTruncated = errors.New("jpeg: truncated data")
	// ErrTooLarge: the image exceeds Options.MaxPixels or Options.MaxScans.
	ErrTooLarge = errors.New("jpeg: too large")
)

// DefaultMaxScans bounds the number of scans (SOS markers) in one image.
// Each scan may revisit every block, so a small file with many tiny
// progressive scans (a "scan bomb") would otherwise cost time in proportion
// to scans × image size. Encoders write about 10 scans (libjpeg's default
// progression) and rarely more than 100.
const DefaultMaxScans = 1000

// DefaultMaxPixels bounds Width×Height when Options.MaxPixels is zero.
const DefaultMaxPixels = 1 << 26

// maxDimension is libjpeg's JPEG_MAX_DIMENSION.
const maxDimension = 65500

// Options bound the work of a decode. Zero fields take the defaults.
type Options struct {
	MaxPixels int64 // largest Width×Height accepted (DefaultMaxPixels)
	MaxScans  int   // most scans accepted (DefaultMaxScans)
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxPixels <= 0 {
		r.MaxPixels = DefaultMaxPixels
	}
	if r.MaxScans <= 0 {
		r.MaxScans = DefaultMaxScans
	}
	return r
}

// ColorSpace is the colour space of the components stored in the file,
// decided like libjpeg's default_decompress_parms: JFIF, then the Adobe
// APP14 transform flag, then the component ids.
type ColorSpace uint8

const (
	Gray ColorSpace = iota + 1
	YCbCr
	RGB
	CMYK
	YCCK
)

func (c ColorSpace) String() string {
	switch c {
	case Gray:
		return "gray"
	case YCbCr:
		return "YCbCr"
	case RGB:
		return "RGB"
	case CMYK:
		return "CMYK"
	case YCCK:
		return "YCCK"
	}
	return fmt.Sprintf("ColorSpace(%d)", uint8(c))
}

// Config is what the frame header (SOF) says.
type Config struct {
	Width, Height int
	Components    int  // 1, 3 or 4
	Progressive   bool // SOF2
}

// Image is the decoder output in the colour space Pillow asks libjpeg for:
// grey for 1 component (Channels 1), RGB for 3 (Channels 3) and CMYK for 4
// (Channels 4, the stored values: Adobe files hold inverted CMYK, which
// Pillow reads as "CMYK;I").
type Image struct {
	Width, Height int
	Channels      int
	Pix           []uint8    // row-major, Channels bytes per pixel
	ColorSpace    ColorSpace // of the file's components
}

// DecodeConfig reads the markers up to the frame header.
func DecodeConfig(b []byte) (Config, error) {
	d := &decoder{b: b}
	if err := d.readHeaders(true); err != nil {
		return Config{}, err
	}
	return Config{Width: d.width, Height: d.height, Components: len(d.comps), Progressive: d.progressive}, nil
}

// Decode decodes a whole JPEG image. opts may be nil.
func Decode(b []byte, opts *Options) (*Image, error) {
	d := &decoder{b: b, opts: opts.withDefaults()}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.output()
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func truncated(where string) error {
	return fmt.Errorf("%w (%s)", ErrTruncated, where)
}
