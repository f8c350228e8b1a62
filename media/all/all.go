// Package all registers every codec of package media: WebP, BMP and TIFF
// images (media/ximage) and WAV, FLAC, Ogg Vorbis and MP3 audio.
//
//	import _ "github.com/sightline/sightline/media/all"
package all

import (
	_ "github.com/sightline/sightline/media/flac"
	_ "github.com/sightline/sightline/media/mp3"
	_ "github.com/sightline/sightline/media/ogg"
	_ "github.com/sightline/sightline/media/wav"
	_ "github.com/sightline/sightline/media/ximage"
)
