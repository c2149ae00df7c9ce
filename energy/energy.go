package energy

import (
	"fmt"
	"math"
)

// nodes are Stillmaker & Baas's energy scaling factors from 45 nm at equal
// Vdd (as Accelergy uses them); 40 and 28 nm are log-log interpolations
// between their neighbours.
var nodes = []struct {
	nm     float64
	factor float64
}{{45, 1}, {32, 0.66}, {20, 0.22}, {16, 0.17}, {7, 0.094}}

// Nodes lists the technology nodes Scale accepts.
var Nodes = []int{45, 40, 32, 28, 20, 16, 7}

// Scale is the factor from 45 nm to nm (log-log interpolation between the
// published nodes; outside 7–45 nm is an error).
func Scale(nm float64) (float64, error) {
	for i := 0; i+1 < len(nodes); i++ {
		a, b := nodes[i], nodes[i+1]
		if nm <= a.nm && nm >= b.nm {
			t := math.Log(a.nm/nm) / math.Log(a.nm/b.nm)
			return a.factor * math.Pow(b.factor/a.factor, t), nil
		}
	}
	return 0, fmt.Errorf("technology %g nm is outside 7–45 nm", nm)
}
