package rtl

// ShadowScheduleCycles is the cycle count of the shadow-weight
// (weight_buffers = 2) array, rtl/src/sa_ctrl_db.v with sa_pe WB = 2, for
// folds with t[g] stream steps each in mapping order on an R×C array, in
// the convention of CosimResult.RTLCycles (the cycle index, from the first
// preload cycle, in which the last output leaves). It is the contract the
// RTL meets exactly and the simulator's model implements (docs/rtl.md):
//
//	P_0 = 0
//	P_g = max(P_{g−1} + R, S_{g−2} + t_{g−2} + C − 2)   (second term for g ≥ 2)
//	S_g = max(P_g + R, S_{g−1} + t_{g−1})                (second term for g ≥ 1)
//	cycles = S_{F−1} + t_{F−1} + R + C − 2
//
// P_g is fold g's first preload cycle: the one weight port carries one
// fold at a time, and bank g%2 is rewritten at the edge ending cycle
// P_g + R − 1, which must not come before PE(R−1,C−1) has multiplied fold
// g−2's last step (cycle S_{g−2} + t_{g−2} + R + C − 3). S_g is its first
// stream cycle: after its commit edge, and one fold streams at a time.
// One fold costs 2R + C + t − 2, as with one weight register. Empty t is 0.
func ShadowScheduleCycles(r, c int, t []int) int64 {
	if len(t) == 0 {
		return 0
	}
	R, C := int64(r), int64(c)
	p := make([]int64, len(t))
	s := make([]int64, len(t))
	for g := range t {
		if g > 0 {
			p[g] = p[g-1] + R
			s[g] = s[g-1] + int64(t[g-1])
		}
		if g > 1 {
			p[g] = max(p[g], s[g-2]+int64(t[g-2])+C-2)
		}
		s[g] = max(s[g], p[g]+R)
	}
	last := len(t) - 1
	return s[last] + int64(t[last]) + R + C - 2
}
