package jpeg

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// segment appends marker m with payload p (length field included).
func segment(buf *bytes.Buffer, m byte, p []byte) {
	buf.Write([]byte{0xFF, m, byte((len(p) + 2) >> 8), byte(len(p) + 2)})
	buf.Write(p)
}

// scanBomb builds a w×h grey progressive JPEG with n AC refinement scans,
// each a handful of bytes: EOB runs of 2^14 + 16383 blocks, coded with a
// one-symbol Huffman table ("0" → EOB14), cover the whole image.
func scanBomb(w, h, n int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, mSOI})
	q := make([]byte, 65)
	for i := 1; i < 65; i++ {
		q[i] = 1
	}
	segment(&b, mDQT, q)
	segment(&b, mSOF2, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0})
	dht := make([]byte, 1+16+1)
	dht[0] = 0x10 // AC table 0
	dht[1] = 1    // one code of length 1
	dht[17] = 0xE0
	segment(&b, mDHT, dht)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	runs := (blocks + 32766) / 32767
	// Each run: code "0" then 14 ones (16384 + 16383 = 32767 blocks).
	var bits []byte
	var acc, nacc uint
	for range runs {
		for i := range 15 {
			acc = acc<<1 | min(uint(i), 1)
			nacc++
			if nacc == 8 {
				bits = append(bits, byte(acc))
				if acc == 0xFF {
					bits = append(bits, 0)
				}
				acc, nacc = 0, 0
			}
		}
	}
	if nacc > 0 {
		acc = acc<<(8-nacc) | (1<<(8-nacc) - 1)
		bits = append(bits, byte(acc))
		if acc == 0xFF {
			bits = append(bits, 0)
		}
	}
	for range n {
		segment(&b, mSOS, []byte{1, 1, 0x00, 1, 63, 0x10})
		b.Write(bits)
	}
	b.Write([]byte{0xFF, mEOI})
	return b.Bytes()
}

func TestScanLimit(t *testing.T) {
	bomb := scanBomb(64, 64, DefaultMaxScans+1)
	_, err := Decode(bomb, nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("%d scans: %v, want ErrTooLarge", DefaultMaxScans+1, err)
	}
	img, err := Decode(bomb, &Options{MaxScans: DefaultMaxScans + 1})
	if err != nil {
		t.Fatalf("with a higher limit: %v", err)
	}
	for _, v := range img.Pix {
		if v != 128 {
			t.Fatalf("all-zero coefficients decode to %d, want 128", v)
		}
	}
	if _, err := Decode(scanBomb(64, 64, 3), &Options{MaxScans: 2}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxScans 2: %v", err)
	}
}

// The worst a scan bomb can do within the limits: the largest image the
// limit allows and DefaultMaxScans scans that each visit every block.
func TestScanBombTime(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	bomb := scanBomb(4096, 4096, DefaultMaxScans)
	start := time.Now()
	_, err := Decode(bomb, nil)
	el := time.Since(start)
	t.Logf("%d bytes, %d scans over 4096x4096: %v in %v", len(bomb), DefaultMaxScans, err, el)
	if err != nil {
		t.Fatal(err)
	}
	// About half a second of CPU; the bound leaves room for a loaded machine.
	if el > 30*time.Second {
		t.Errorf("scan bomb took %v", el)
	}
}
