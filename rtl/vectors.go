package rtl

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/sparsesim/sparsesim/workloads/attention"
	"github.com/sparsesim/sparsesim/workloads/nm"
)

// Expected outputs come from the Go reference kernels (nm.Prune,
// nm.SparseGEMM, attention.Partition, attention.Recombine), so the RTL is
// checked bit for bit against the same code the simulator's functional
// models use.

// word packs fields (most significant first) into 64-bit limbs, least
// significant limb first.
type word struct {
	limbs []uint64
	bits  int
}

func (w *word) push(v uint64, width int) {
	// Shift the whole word left by width and or v in.
	for i := 0; i < width; i += 32 {
		n := min(32, width-i)
		w.shl(n)
		chunk := (v >> (width - i - n)) & (1<<n - 1)
		w.limbs[0] |= chunk
	}
}

func (w *word) shl(n int) {
	w.bits += n
	need := (w.bits + 63) / 64
	for len(w.limbs) < need {
		w.limbs = append(w.limbs, 0)
	}
	for i := len(w.limbs) - 1; i >= 0; i-- {
		hi := w.limbs[i] << n
		if i > 0 {
			hi |= w.limbs[i-1] >> (64 - n)
		}
		w.limbs[i] = hi
	}
}

func (w *word) hex(width int) string {
	digits := (width + 3) / 4
	var b strings.Builder
	for i := len(w.limbs) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "%016x", w.limbs[i])
	}
	s := b.String()
	if len(s) < digits {
		s = strings.Repeat("0", digits-len(s)) + s
	}
	return s[len(s)-digits:]
}

func mask(v int64, bits int) uint64 { return uint64(v) & (1<<bits - 1) }

// signedOf draws a W-bit signed value with corner cases: extremes, zero.
func signedOf(r *rand.Rand, w int, corner bool) int64 {
	lo, hi := -(int64(1) << (w - 1)), int64(1)<<(w-1)-1
	if corner {
		return []int64{lo, hi, 0, -1, 1}[r.Intn(5)]
	}
	return lo + r.Int63n(hi-lo+1)
}

func genNMPE(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error) {
	r := rand.New(rand.NewSource(seed))
	N, M, W, IW, ACC := p["N"], p["M"], p["W"], p["IW"], p["ACC"]
	pat := nm.Pattern{N: N, M: M}
	var acc int64
	for i := 0; i < n; i++ {
		kind := r.Intn(10) // 0 all-zero weights, 1 extremes, 2 ties, else random
		act := nm.NewMatrix[int64](1, M)
		wts := nm.NewMatrix[int64](M, 1)
		for j := 0; j < M; j++ {
			act.Data[j] = signedOf(r, W, kind == 1)
			switch kind {
			case 0:
			case 2:
				wts.Data[j] = []int64{3, -3}[r.Intn(2)]
			default:
				wts.Data[j] = signedOf(r, W, kind == 1)
			}
		}
		pruned, keep := nm.Prune(wts, pat, true)
		clear := i%8 == 0 || r.Intn(16) == 0
		// The kept slots in index order, as the compressed format lists them.
		vals, idx := make([]int64, 0, N), make([]int64, 0, N)
		for j := 0; j < M; j++ {
			if keep[j] {
				vals, idx = append(vals, pruned.Data[j]), append(idx, int64(j))
			}
		}
		c := nm.Compressed[int64]{K: M, Cols: 1, P: pat, Groups: 1, Values: make([]int64, N), Index: make([]uint8, N)}
		for s := range vals {
			c.Values[s], c.Index[s] = vals[s], uint8(idx[s])
		}
		dot := nm.SparseGEMM(act, c).Data[0]
		if clear {
			acc = 0
		}
		acc += dot
		var w word
		w.push(b2u(clear), 1)
		for j := M - 1; j >= 0; j-- {
			w.push(mask(act.Data[j], W), W)
		}
		for s := N - 1; s >= 0; s-- {
			w.push(mask(vals[s], W), W)
		}
		for s := N - 1; s >= 0; s-- {
			w.push(uint64(idx[s]), IW)
		}
		var e word
		e.push(mask(acc, min(ACC, 64)), ACC)
		in, exp = append(in, w.limbs), append(exp, e.limbs)
	}
	return in, exp, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func genMaskGen(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error) {
	r := rand.New(rand.NewSource(seed))
	N, M, W, IW := p["N"], p["M"], p["W"], p["IW"]
	for i := 0; i < n; i++ {
		kind := r.Intn(10)
		g := nm.NewMatrix[int64](1, M)
		for j := range g.Data {
			switch kind {
			case 0: // all zero
			case 1:
				g.Data[j] = signedOf(r, W, true)
			case 2: // ties of equal magnitude and opposite signs
				g.Data[j] = []int64{5, -5, 5, 7}[r.Intn(4)]
			default:
				g.Data[j] = signedOf(r, W, false)
			}
		}
		pruned, keep := nm.Prune(g, nm.Pattern{N: N, M: M}, false)
		var w word
		for j := M - 1; j >= 0; j-- {
			w.push(mask(g.Data[j], W), W)
		}
		var vals, idx []int64
		var m uint64
		for j := 0; j < M; j++ {
			if keep[j] {
				m |= 1 << j
				vals, idx = append(vals, pruned.Data[j]), append(idx, int64(j))
			}
		}
		if len(vals) != N {
			return nil, nil, fmt.Errorf("nm.Prune kept %d of a group, want %d", len(vals), N)
		}
		var e word
		e.push(m, M)
		for s := N - 1; s >= 0; s-- {
			e.push(mask(vals[s], W), W)
		}
		for s := N - 1; s >= 0; s-- {
			e.push(uint64(idx[s]), IW)
		}
		in, exp = append(in, w.limbs), append(exp, e.limbs)
	}
	return in, exp, nil
}

func genTopK(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error) {
	r := rand.New(rand.NewSource(seed))
	C, W, CW := p["C"], p["W"], p["CW"]
	lim := int64(1) << W
	for i := 0; i < n; i++ {
		data := make([]int64, C)
		valid := make([]bool, C)
		last := C
		if r.Intn(8) == 0 {
			last = r.Intn(C + 1) // a partial last beat
		}
		small := r.Intn(4) == 0 // many ties
		for j := range data {
			if small {
				data[j] = r.Int63n(4)
			} else {
				data[j] = r.Int63n(lim)
			}
			valid[j] = j < last
		}
		pivot := r.Int63n(lim)
		if r.Intn(2) == 0 {
			pivot = data[r.Intn(C)]
		}
		if r.Intn(50) == 0 {
			pivot = []int64{0, lim - 1}[r.Intn(2)]
		}
		var cand []int64
		for j := 0; j < last; j++ {
			cand = append(cand, data[j])
		}
		hi, lo, eq := attention.Partition(cand, pivot)
		var w word
		var lv uint64
		for j := 0; j < C; j++ {
			if valid[j] {
				lv |= 1 << j
			}
		}
		w.push(lv, C)
		w.push(uint64(pivot), W)
		for j := C - 1; j >= 0; j-- {
			w.push(uint64(data[j]), W)
		}
		var e word
		e.push(uint64(len(hi)), CW)
		e.push(uint64(len(lo)), CW)
		e.push(uint64(eq), CW)
		for _, side := range [][]int64{hi, lo} {
			for j := C - 1; j >= 0; j-- {
				v := int64(0)
				if j < len(side) {
					v = side[j]
				}
				e.push(uint64(v), W)
			}
		}
		in, exp = append(in, w.limbs), append(exp, e.limbs)
	}
	return in, exp, nil
}

func genPQuant(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error) {
	r := rand.New(rand.NewSource(seed))
	B, L, P := p["B"], p["L"], p["P"]
	q := attention.Quantizer{Bits: B, LSB: L}
	for i := 0; i < n; i++ {
		code := int32(signedOf(r, B, r.Intn(10) == 0))
		msb, lsb := q.MSBOnly(code), attention.LSBs(code, L)
		full := attention.Recombine(msb, lsb, L)
		maxp, tau := r.Int63n(1<<P), r.Int63n(1<<P)
		if r.Intn(10) == 0 {
			tau = maxp // the boundary: not below τ
		}
		var w word
		w.push(mask(int64(msb), B), B)
		w.push(uint64(lsb), L)
		w.push(uint64(maxp), P)
		w.push(uint64(tau), P)
		var e word
		e.push(mask(int64(full), B), B)
		e.push(b2u(maxp < tau), 1)
		in, exp = append(in, w.limbs), append(exp, e.limbs)
	}
	return in, exp, nil
}

func genSysPE(p map[string]int, n int, seed int64) (in, exp [][]uint64, err error) {
	r := rand.New(rand.NewSource(seed))
	W, ACC := p["W"], p["ACC"]
	var weight int64 // the RTL's weight register starts at 0
	for i := 0; i < n; i++ {
		load := i == 0 || r.Intn(10) == 0
		wIn := signedOf(r, W, r.Intn(10) == 0)
		act := signedOf(r, W, r.Intn(10) == 0)
		psum := r.Int63n(1<<min(ACC, 62)) - (1 << (min(ACC, 62) - 1))
		// One multiply-accumulate through the same kernel the simulator
		// uses for dense GEMMs: [act]·[weight] + psum.
		prod := nm.DenseGEMMRef(nm.Matrix[int64]{Rows: 1, Cols: 1, Data: []int64{act}},
			nm.Matrix[int64]{Rows: 1, Cols: 1, Data: []int64{weight}}).Data[0]
		out := psum + prod
		if load {
			weight = wIn
		}
		var w word
		w.push(b2u(load), 1)
		w.push(mask(wIn, W), W)
		w.push(mask(act, W), W)
		w.push(mask(psum, min(ACC, 64)), ACC)
		var e word
		e.push(mask(act, W), W)
		e.push(mask(out, min(ACC, 64)), ACC)
		in, exp = append(in, w.limbs), append(exp, e.limbs)
	}
	return in, exp, nil
}

// Vectors writes in.hex and exp.hex (one packed word per line) for a unit.
func Vectors(u *Unit, p map[string]int, n int, seed int64, dir string) error {
	in, exp, err := u.gen(p, n, seed)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	inW, outW := u.widths(p)
	write := func(name string, rows [][]uint64, width int) error {
		var b strings.Builder
		for _, limbs := range rows {
			b.WriteString((&word{limbs: limbs}).hex(width))
			b.WriteByte('\n')
		}
		return os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644)
	}
	if err := write("in.hex", in, inW); err != nil {
		return err
	}
	return write("exp.hex", exp, outW)
}

func (u *Unit) widths(p map[string]int) (in, out int) {
	for _, f := range u.In {
		in += width(f.Width, p)
	}
	for _, f := range u.Out {
		out += width(f.Width, p)
	}
	return in, out
}
