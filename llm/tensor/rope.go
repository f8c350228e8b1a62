package tensor

import "math"

// InvFreq returns the inverse frequency of rotary pair i (0 ≤ i < Dims/2).
func (p *RoPE) InvFreq(i int) float64 {
	if p.Freqs != nil {
		return float64(p.Freqs[i])
	}
	if p.Mode == RoPEVision {
		s, l := p.section(i)
		return math.Pow(float64(p.Base), -float64(l)/float64(p.Sections[s]))
	}
	return math.Pow(float64(p.Base), -2*float64(i)/float64(p.Dims))
}

// section returns the position stream of pair i and its index within it.
func (p *RoPE) section(i int) (s, local int) {
	if p.Mode != RoPEMulti && p.Mode != RoPEVision {
		return 0, i
	}
	start := 0
	for s, n := range p.Sections {
		if i < start+n {
			return s, i - start
		}
		start += n
	}
	return len(p.Sections) - 1, i - start
}

// Angles fills cos and sin, each [T, Dims/2], with the rotation of every pair
// of every token; pos is as for Ops.RoPE. Angles are computed in float64 so
// that every backend rotates by the same float32 cos/sin values.
func (p *RoPE) Angles(pos []int32, T int, cos, sin []float32) {
	half := p.Dims / 2
	for i := 0; i < half; i++ {
		f := p.InvFreq(i)
		s, _ := p.section(i)
		for t := 0; t < T; t++ {
			a := float64(pos[s*T+t]) * f
			cos[t*half+i] = float32(math.Cos(a))
			sin[t*half+i] = float32(math.Sin(a))
		}
	}
}

// Pairs returns the indices (within a head) of the two elements of rotary pair i.
func (p *RoPE) Pairs(i int) (int, int) {
	if p.Mode == RoPENorm {
		return 2 * i, 2*i + 1
	}
	return i, i + p.Dims/2
}
