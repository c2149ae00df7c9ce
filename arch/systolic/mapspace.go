package systolic

import (
	"slices"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/mapping"
)

// mapspace lists the candidate schedules: for search best every loop order
// with every candidate time tile; for the fixed searches their one order.
func mapspace(cfg *configs.Config, arr mapping.Array, layer string, prob mapping.Problem, dfs []dataflow.Dataflow) ([]*mapping.Schedule, error) {
	var out []*mapping.Schedule
	if cfg.Mapping.Search == configs.MappingFixed {
		if df := cfg.Mapping.LayerMappingOf(layer).Dataflow; df != "" {
			d, _ := dataflow.Lookup(df)
			dfs = []dataflow.Dataflow{d}
		}
	}
	for _, df := range dfs {
		p := prob
		switch cfg.Mapping.Search {
		case configs.MappingSCALESim:
			p.Order = mapping.OrderSCALESim
		case configs.MappingRowMajor:
			p.Order = mapping.OrderRowMajor
		case configs.MappingFixed:
			lm := cfg.Mapping.LayerMappingOf(layer)
			o, err := mapping.ParseOrder(lm.Order)
			if err != nil {
				return nil, err
			}
			p.Order, p.TimeTile = o, lm.TimeTile
		}
		whole, err := mapping.New(df, arr, p)
		if err != nil {
			return nil, err
		}
		if cfg.Mapping.Search != configs.MappingBest {
			out = append(out, whole)
			continue
		}
		// A layer too large to simulate is ranked analytically only: it
		// also tries the tiles that hold an operand's whole other
		// dimension (timeTiles), which the analytic cost ranks well and the
		// simulator would otherwise have to find among more guesses.
		large := int64(prob.M)*int64(prob.N)*int64(prob.K)*int64(prob.Groups) > maxSimulatedMACs
		for _, o := range mapping.Orders() {
			for _, tile := range timeTiles(whole, large) {
				q := p
				q.Order, q.TimeTile = o, tile
				s, err := mapping.New(df, arr, q)
				if err != nil {
					return nil, err
				}
				if tile < s.Extent(df.TimeDim) && o[2] == mapping.LoopTime {
					continue // tiling the innermost loop only refills the array more often
				}
				if slices.ContainsFunc(out, func(x *mapping.Schedule) bool {
					return x.DF.Name == s.DF.Name && x.P.Order == s.P.Order && x.TimeTile == s.TimeTile
				}) {
					continue // a tile New evened out or refused (packed groups stream whole)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// timeTiles are the time tile lengths worth trying: the whole streamed
// extent, and for each buffer whose tile grows with the streamed
// dimension the longest tile it keeps whole, a half and a quarter of it
// (room for the other operands' reuse), and two and four times it (fewer
// array refills for some spilling); and the extent cut in n equal tiles
// extent (n = 2…8). Each also evened out: n tiles of ⌈T/n⌉, so the last is not short.
// For a large layer (ranked analytically only) also the longest tile an
// operand keeps with its whole other dimension, and half of it.
func timeTiles(s *mapping.Schedule, large bool) []int {
	df, arr := s.DF, s.Arr
	t := s.Extent(df.TimeDim)
	tiles := []int{0}
	// Bytes a streamed step adds to an operand's tile: one fold's width
	// (perStep), or the operand's whole other dimension (perStepAll: the
	// tile kept across every fold of that dimension, e.g. a long GEMM's
	// input held across the column folds).
	perStep := map[dataflow.Operand]int64{}
	perStepAll := map[dataflow.Operand]int64{}
	for _, o := range dataflow.Operands {
		if !o.Indexes(df.TimeDim) {
			continue
		}
		width := int64(arr.WordBytes)
		if o == dataflow.Ofmap && arr.PsumBytes > 0 {
			width = int64(arr.PsumBytes)
		}
		across, other := arr.Rows, df.RowDim
		if o.Indexes(df.ColDim) {
			across, other = arr.Cols, df.ColDim
		}
		perStep[o] = int64(across) * width
		perStepAll[o] = int64(s.Extent(other)) * width
	}
	add := func(x int) {
		if x < 1 || x >= t {
			return
		}
		// x itself, and n tiles of equal length (the last not left short).
		n := (t + x - 1) / x
		for _, y := range []int{x, (t + n - 1) / n} {
			if !slices.Contains(tiles, y) {
				tiles = append(tiles, y)
			}
		}
	}
	for _, o := range dataflow.Operands {
		ps, ok := perStep[o]
		if !ok || ps <= 0 {
			continue
		}
		fit := int(arr.KeepBytes[o] / ps)
		if fit == 0 {
			fit = int(arr.SlotBytes[o] / ps)
		}
		for _, x := range []int{fit, fit / 2, fit / 4, fit * 2, fit * 4} {
			add(x)
		}
		if all := perStepAll[o]; large && all > ps {
			whole := int(arr.KeepBytes[o] / all)
			add(whole)
			add(whole / 2)
		}
	}
	for n := 2; n <= 8; n++ {
		add((t + n - 1) / n)
	}
	return tiles
}
