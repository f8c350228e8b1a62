package media

import (
	"image"
	"image/color"
)

// gifFirstPalette returns the colour table that applies to the first frame
// of a GIF (its local table, else the global one), as stored in the file.
// image/gif blanks the transparent entry to (0,0,0,0); Pillow's convert("RGB")
// keeps its stored colour, so DecodeImage restores it from here.
//
//	header(6) screen(7) [global table] { 0x21 ext sub-blocks | 0x2C image(10) [local table] }
func gifFirstPalette(b []byte) [][3]uint8 {
	if len(b) < 13 {
		return nil
	}
	table := func(p, flags int) ([][3]uint8, int) {
		if flags&0x80 == 0 {
			return nil, p
		}
		n := 2 << (flags & 7)
		if p+3*n > len(b) {
			return nil, -1
		}
		t := make([][3]uint8, n)
		for i := range t {
			t[i] = [3]uint8{b[p+3*i], b[p+3*i+1], b[p+3*i+2]}
		}
		return t, p + 3*n
	}
	global, p := table(13, int(b[10]))
	for p >= 0 && p < len(b) {
		switch b[p] {
		case 0x21: // extension: label, then sub-blocks until a zero length
			p += 2
			for p < len(b) && b[p] != 0 {
				p += int(b[p]) + 1
			}
			p++
		case 0x2C:
			if p+10 > len(b) {
				return global
			}
			if local, _ := table(p+10, int(b[p+9])); local != nil {
				return local
			}
			return global
		default:
			return global
		}
	}
	return global
}

// restoreGIFTransparent puts the stored colour back into palette entries
// that image/gif blanked for transparency.
func restoreGIFTransparent(m *image.Paletted, b []byte) {
	stored := gifFirstPalette(b)
	pal := append(color.Palette(nil), m.Palette...)
	for i, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 && i < len(stored) {
			s := stored[i]
			pal[i] = color.RGBA{s[0], s[1], s[2], 0xff}
		}
	}
	m.Palette = pal
}
