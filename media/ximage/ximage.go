// Package ximage registers the WebP, BMP and TIFF decoders of
// golang.org/x/image with the standard image package, which package media
// decodes through. Lossy WebP colours are converted by package media like
// libwebp (BT.601 limited range, fancy upsampling), not by x/image's YCbCr.
//
// Import it for its side effect:
//
//	import _ "github.com/sightline/sightline/media/ximage"
package ximage

import (
	_ "golang.org/x/image/bmp"  // registers "bmp"
	_ "golang.org/x/image/tiff" // registers "tiff"
	_ "golang.org/x/image/webp" // registers "webp"
)
