package kvsparse

import "github.com/sparsesim/sparsesim/internal/par"

// parallel runs f(0), …, f(n−1) on every core (internal/par). Each f(i)
// must write only its own results and read nothing another writes: the
// kernels' random draws stay in sequence outside it (quick-select's source
// is consumed in order between parallel parts, never inside one).
func parallel(n int, f func(i int)) { par.For(n, f) }

// parallelRange is parallel over [0, n) in pieces of grain indices:
// f(lo, hi) handles [lo, hi).
func parallelRange(n, grain int, f func(lo, hi int)) {
	grain = max(grain, 1)
	parallel((n+grain-1)/grain, func(i int) { f(i*grain, min((i+1)*grain, n)) })
}
