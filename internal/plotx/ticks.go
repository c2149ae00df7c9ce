package plotx

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// Ticks is a plot.Ticker: gonum's tick positions (1-2-5 decades on log
// axes) with labels from Labels.
type Ticks struct{ Log bool }

// Ticks implements plot.Ticker.
func (t Ticks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if t.Log && lo > 0 {
		ticks = logTicks(lo, hi)
	}
	if ticks == nil {
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return relabel(ticks)
}

// logTicks puts a tick at every m·10^d in range, labelling the decades
// alone when that gives two or more labels, else also 2 and 5, else every
// mantissa; nil when even that leaves fewer than two labels (a range
// inside one decade step reads better on linear ticks).
func logTicks(lo, hi float64) []plot.Tick {
	for _, labelled := range [][]bool{
		{1: true},
		{1: true, 2: true, 5: true},
		{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true},
	} {
		var ticks []plot.Tick
		n := 0
		for d := math.Floor(math.Log10(lo)); d <= math.Ceil(math.Log10(hi)); d++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow(10, d)
				if v < lo*(1-1e-12) || v > hi*(1+1e-12) {
					continue
				}
				tk := plot.Tick{Value: v}
				if m < len(labelled) && labelled[m] {
					tk.Label = "x"
					n++
				}
				ticks = append(ticks, tk)
			}
		}
		if n >= 2 {
			return ticks
		}
	}
	return nil
}

// relabel rewrites the labels of the labelled ticks with Labels.
func relabel(ticks []plot.Tick) []plot.Tick {
	var vals []float64
	for _, t := range ticks {
		if t.Label != "" {
			vals = append(vals, t.Value)
		}
	}
	labels := Labels(vals)
	i := 0
	for k := range ticks {
		if ticks[k].Label != "" {
			ticks[k].Label = labels[i]
			i++
		}
	}
	return ticks
}

// Labels formats values with the fewest digits that keep every label
// distinct and within a millionth of its value: fixed point for
// magnitudes from 0.001 to a million, else scientific ("1.4e+11", never
// "1e+11" for 1.4e11).
func Labels(vals []float64) []string {
	fixed := true
	for _, v := range vals {
		a := math.Abs(v)
		if a != 0 && (a < 1e-3 || a >= 1e6) {
			fixed = false
		}
	}
	for p := 0; p <= 16; p++ {
		out := make([]string, len(vals))
		for i, v := range vals {
			if fixed {
				out[i] = strconv.FormatFloat(v, 'f', p, 64)
			} else {
				out[i] = strconv.FormatFloat(v, 'g', p+1, 64)
			}
			if out[i] == "-0" {
				out[i] = "0"
			}
		}
		if accurate(vals, out) && distinct(out) {
			return out
		}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return out
}

func accurate(vals []float64, labels []string) bool {
	for i, v := range vals {
		got, err := strconv.ParseFloat(labels[i], 64)
		if err != nil || math.Abs(got-v) > 1e-6*math.Abs(v) {
			return false
		}
	}
	return true
}

func distinct(s []string) bool {
	seen := make(map[string]bool, len(s))
	for _, x := range s {
		if seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}
