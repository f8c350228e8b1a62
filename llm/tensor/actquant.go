package tensor

import "math"

// ActBlock is the block length of activation quantisation.
const ActBlock = 32

// QuantizeAct quantises activations for MatMul with a block-quantised weight:
// each block of 32 values of x (len(x) a multiple of 32) becomes int8 codes
// q and a scale d[b] = max|x|/127 (float32), with q = x·(1/d) (float32
// product, 0 when d is 0) rounded to nearest, ties to even, and clamped to
// ±127 (NaN gives 127). Every backend quantises exactly so; the quantised
// MatMul is then Σ_b d[b]·Σ_j q_j·w_j over the weights' dequantised values.
func QuantizeAct(x []float32, q []int8, d []float32) {
	for b := 0; b < len(x)/ActBlock; b++ {
		blk := x[b*ActBlock : (b+1)*ActBlock]
		var amax float32
		for _, v := range blk {
			if a := abs32(v); a > amax {
				amax = a
			}
		}
		s := amax / 127
		var inv float32
		if s != 0 {
			inv = 1 / s
		}
		d[b] = s
		for j, v := range blk {
			p := v * inv
			switch {
			case !(p < 127):
				q[b*ActBlock+j] = 127
			case p < -127:
				q[b*ActBlock+j] = -127
			default:
				q[b*ActBlock+j] = int8(math.RoundToEven(float64(p)))
			}
		}
	}
}
