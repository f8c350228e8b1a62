package whisper

// Real-length rule of Qwen2-Audio (HF _get_feat_extract_output_lengths):
//
//	L mel frames ─conv k3 s2─▶ L_enc = (L−1)//2+1 ─avg-pool 2─▶ (L_enc−2)//2+1 tokens
//	1 s: 100 → 50 → 25;  30 s: 3000 → 1500 → 750
//
// (// is floor division, as in Python.)

// MelFrames is L = ⌈samples/hop⌉, the real mel frames of a clip.
func MelFrames(samples, hop int) int {
	if samples <= 0 || hop <= 0 {
		return 0
	}
	return (samples + hop - 1) / hop
}

// EncoderFrames is L_enc = (L−1)//2+1, the encoder positions after the stride-2 conv.
func EncoderFrames(melFrames int) int { return max(0, floorDiv(melFrames-1, 2)+1) }

// Tokens is the number of audio tokens for L real mel frames: (L_enc−2)//2+1,
// 0 when the clip is too short to give any (L < 3).
func Tokens(melFrames int) int { return max(0, floorDiv(EncoderFrames(melFrames)-2, 2)+1) }

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
