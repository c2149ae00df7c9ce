package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Axis is one swept config field and its values (as --set strings).
type Axis struct {
	Key    string
	Values []string
}

// ParseAxis reads "key=v1,v2,..." where an item may be a range
// "lo:hi:xF" (multiply by F) or "lo:hi:+S" (add S), both inclusive of hi
// when reached.
func ParseAxis(spec string) (Axis, error) {
	key, vals, ok := strings.Cut(spec, "=")
	if !ok || key == "" || vals == "" {
		return Axis{}, usererr.New("--grid %s: expected key=v1,v2,... or key=lo:hi:x2 / key=lo:hi:+4", spec)
	}
	a := Axis{Key: key}
	for _, item := range strings.Split(vals, ",") {
		item = strings.TrimSpace(item)
		if strings.Count(item, ":") == 2 && isRange(item) {
			r, err := expandRange(item)
			if err != nil {
				return Axis{}, usererr.New("--grid %s: %v", spec, err)
			}
			a.Values = append(a.Values, r...)
			continue
		}
		if item == "" {
			return Axis{}, usererr.New("--grid %s: empty value", spec)
		}
		a.Values = append(a.Values, item)
	}
	return a, nil
}

// isRange tells "8:128:x2" from an N:M pattern such as "2:4" (two fields).
func isRange(s string) bool {
	p := strings.Split(s, ":")
	return len(p) == 3 && (strings.HasPrefix(p[2], "x") || strings.HasPrefix(p[2], "+"))
}

func expandRange(s string) ([]string, error) {
	p := strings.Split(s, ":")
	lo, err1 := strconv.ParseFloat(p[0], 64)
	hi, err2 := strconv.ParseFloat(p[1], 64)
	step, err3 := strconv.ParseFloat(p[2][1:], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("range %q: expected numbers lo:hi:xF or lo:hi:+S", s)
	}
	mul := p[2][0] == 'x'
	if hi < lo || (mul && (step <= 1 || lo <= 0)) || (!mul && step <= 0) {
		return nil, fmt.Errorf("range %q does not advance from %g to %g", s, lo, hi)
	}
	var out []string
	for v := lo; v <= hi*(1+1e-12); {
		out = append(out, strconv.FormatFloat(v, 'g', -1, 64))
		if mul {
			v *= step
		} else {
			v += step
		}
		if len(out) > 100000 {
			return nil, fmt.Errorf("range %q has more than 100000 values", s)
		}
	}
	return out, nil
}

// Point is one assignment of every axis.
type Point struct {
	Index  int
	Params []Param
}

// Param is one axis value.
type Param struct{ Key, Value string }

// Sets are the point's --set overrides.
func (p Point) Sets() []string {
	s := make([]string, len(p.Params))
	for i, kv := range p.Params {
		s[i] = kv.Key + "=" + kv.Value
	}
	return s
}

// Grid is the sweep's points, enumerated on demand: point i is computed
// from its index, so a 10,000- or 1,000,000-point grid costs the axes'
// values in memory, not one Point per grid entry.
type Grid struct {
	axes []Axis
	zip  bool
	n    int
}

// MaxPoints is the largest grid a sweep accepts.
const MaxPoints = 1_000_000

// NewGrid checks the axes: the cartesian product in axis order (last axis
// fastest), or with zip the i-th value of every axis together.
func NewGrid(axes []Axis, zip bool) (Grid, error) {
	seen := map[string]bool{}
	for _, a := range axes {
		if seen[a.Key] {
			return Grid{}, usererr.New("--grid %s given twice", a.Key)
		}
		seen[a.Key] = true
	}
	g := Grid{axes: axes, zip: zip, n: 1}
	if len(axes) == 0 {
		return g, nil
	}
	if zip {
		g.n = len(axes[0].Values)
		for _, a := range axes {
			if len(a.Values) != g.n {
				return Grid{}, usererr.New("--zip needs axes of equal length: %s has %d values, %s has %d", axes[0].Key, g.n, a.Key, len(a.Values))
			}
		}
		return g, nil
	}
	for _, a := range axes {
		g.n *= len(a.Values)
		if g.n > MaxPoints {
			return Grid{}, usererr.New("grid has more than %d points (the sweep limit); split it into several sweeps", MaxPoints)
		}
	}
	return g, nil
}

// Len is the number of points.
func (g Grid) Len() int { return g.n }

// At returns point i (0 ≤ i < Len).
func (g Grid) At(i int) Point {
	p := Point{Index: i, Params: make([]Param, len(g.axes))}
	if g.zip {
		for j, a := range g.axes {
			p.Params[j] = Param{a.Key, a.Values[i]}
		}
		return p
	}
	rem := i
	for j := len(g.axes) - 1; j >= 0; j-- {
		n := len(g.axes[j].Values)
		p.Params[j] = Param{g.axes[j].Key, g.axes[j].Values[rem%n]}
		rem /= n
	}
	return p
}

// Points enumerates the whole grid (small grids and tests; sweeps use
// Grid.At).
func Points(axes []Axis, zip bool) ([]Point, error) {
	g, err := NewGrid(axes, zip)
	if err != nil {
		return nil, err
	}
	pts := make([]Point, g.Len())
	for i := range pts {
		pts[i] = g.At(i)
	}
	return pts, nil
}

// Shard is "i/n": this process runs the points that hash to i of n.
type Shard struct{ I, N int }

// ParseShard reads "i/n" with 0 ≤ i < n.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{0, 1}, nil
	}
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.I, &sh.N); err != nil || fmt.Sprintf("%d/%d", sh.I, sh.N) != s || sh.N < 1 || sh.I < 0 || sh.I >= sh.N {
		return Shard{}, usererr.New("--shard %s: expected i/n with 0 ≤ i < n, e.g. 0/4", s)
	}
	return sh, nil
}

// Has reports whether the shard runs point index i: shard ⌊n·frac(i/φ)⌋
// (the golden-ratio Weyl sequence, in 64-bit fixed point). Plain i mod n
// would hand each shard one slice of the trailing axes whenever their sizes
// are multiples of n (every point of the slow dataflow to one shard, say);
// i/φ spreads every such slice evenly over the shards (a low-discrepancy
// sequence, so more evenly than a hash would), and is the same on every
// machine.
func (s Shard) Has(i int) bool {
	if s.N == 1 {
		return true
	}
	frac := uint64(i) * 0x9e3779b97f4a7c15 // 2⁶⁴/φ: i/φ mod 1, in units of 2⁻⁶⁴
	return int((frac>>32)*uint64(s.N)>>32) == s.I
}

// Count is how many of points 0..n-1 the shard runs.
func (s Shard) Count(n int) int {
	c := 0
	for i := 0; i < n; i++ {
		if s.Has(i) {
			c++
		}
	}
	return c
}
