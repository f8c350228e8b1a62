package tokenizer

import (
	"errors"
	"strings"
)

// ErrInvalidPrefix reports that a stream step produced text that does not
// extend what was already emitted (tokenizers' DecodeStreamError). The stream
// recovers by restarting its window at the offending token.
var ErrInvalidPrefix = errors.New("tokenizer: stream decode produced an invalid prefix")

// maxPending is how many ids may wait for text before the window slides
// anyway; valid text never needs more than a few.
const maxPending = 64

// StreamDecoder turns ids into text incrementally with the algorithm of the
// tokenizers crate's DecodeStream: a chunk is emitted only when the decoded
// window grows and does not end in U+FFFD, so no partial UTF-8 sequence (or
// half-built character) is ever returned. A StreamDecoder serves one stream
// and is not safe for concurrent use.
type StreamDecoder struct {
	t         Decoder
	o         DecodeOptions
	ids       []int32
	prefix    string
	prefixIdx int
	err       error
}

// Decoder decodes ids to text; *Tokenizer and hf.Tokenizer implement it.
type Decoder interface {
	Decode(ids []int32, o DecodeOptions) string
}

// NewStreamDecoder starts an incremental decode.
func (t *Tokenizer) NewStreamDecoder(o DecodeOptions) *StreamDecoder {
	return &StreamDecoder{t: t, o: o}
}

// NewStreamDecoderFor streams with any Decoder (e.g. the cgo-backed hf one).
func NewStreamDecoderFor(d Decoder, o DecodeOptions) *StreamDecoder {
	return &StreamDecoder{t: d, o: o}
}

// Prime feeds context ids (the end of the prompt) without emitting text, so
// that the first ids added decode as they would inside the whole sequence:
// SentencePiece keeps the space before a continuation's first word, and a
// character split across the prompt boundary is completed.
func (d *StreamDecoder) Prime(ids []int32) {
	d.ids = append(d.ids[:0], ids...)
	d.prefix, d.prefixIdx = d.t.Decode(d.ids, d.o), len(d.ids)
}

// Add feeds one id and returns the new text, "" when there is none yet.
func (d *StreamDecoder) Add(id int32) string {
	if d.prefix == "" && len(d.ids) > 0 {
		if p := d.t.Decode(d.ids, d.o); !strings.HasSuffix(p, "\uFFFD") {
			d.prefix, d.prefixIdx = p, len(d.ids)
		}
	}
	d.ids = append(d.ids, id)
	d.trim()
	s := d.t.Decode(d.ids, d.o)
	if len(s) <= len(d.prefix) || strings.HasSuffix(s, "\uFFFD") {
		// Bound the window (and the quadratic re-decoding) when many ids
		// produce no text or only invalid bytes.
		if len(d.ids)-d.prefixIdx > maxPending && strings.HasPrefix(s, d.prefix) {
			return d.emit(s, d.prefix)
		}
		return ""
	}
	if !strings.HasPrefix(s, d.prefix) {
		d.err = ErrInvalidPrefix
		d.ids = append(d.ids[:0], id)
		d.prefix, d.prefixIdx = "", 0
		s = d.t.Decode(d.ids, d.o)
		if s == "" || strings.HasSuffix(s, "\uFFFD") {
			return ""
		}
		d.prefix, d.prefixIdx = "", 0
		return d.emit(s, "")
	}
	return d.emit(s, d.prefix)
}

// trim bounds the window: ids that are already part of the prefix are
// dropped (as an emission would) once the window exceeds 2*maxPending ids.
func (d *StreamDecoder) trim() {
	if len(d.ids) <= 2*maxPending {
		return
	}
	k := min(d.prefixIdx, len(d.ids)-maxPending)
	if k <= 0 {
		return
	}
	d.ids = append(d.ids[:0], d.ids[k:]...)
	d.prefixIdx -= k
	d.prefix = d.t.Decode(d.ids[:d.prefixIdx], d.o)
}

// emit returns s minus prefix and slides the window (drops the ids before
// prefixIdx; the rest becomes the new prefix).
func (d *StreamDecoder) emit(s, prefix string) string {
	out := s[len(prefix):]
	n := len(d.ids) - d.prefixIdx
	d.ids = append(d.ids[:0], d.ids[d.prefixIdx:]...)
	d.prefix = d.t.Decode(d.ids, d.o)
	d.prefixIdx = n
	return out
}

// Flush returns the text still held back (e.g. a trailing incomplete
// character, as U+FFFD) so that all chunks concatenate to the full decode,
// and resets the decoder.
func (d *StreamDecoder) Flush() string {
	s := d.t.Decode(d.ids, d.o)
	out := ""
	if strings.HasPrefix(s, d.prefix) {
		out = s[len(d.prefix):]
	}
	d.ids, d.prefix, d.prefixIdx = d.ids[:0], "", 0
	return out
}

// Err returns ErrInvalidPrefix if the stream had to recover from one.
func (d *StreamDecoder) Err() error { return d.err }
