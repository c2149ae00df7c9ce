package kvsparse

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallel runs f(0), …, f(n−1) on up to GOMAXPROCS goroutines. Each
// f(i) must write only its own results and read nothing another writes,
// so the outcome is the sequential loop's whatever the interleaving: the
// kernels' random draws stay in sequence outside it (quick-select's
// source is consumed in order between parallel parts, never inside one).
func parallel(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// parallelRange is parallel over [0, n) in pieces of grain indices:
// f(lo, hi) handles [lo, hi).
func parallelRange(n, grain int, f func(lo, hi int)) {
	grain = max(grain, 1)
	parallel((n+grain-1)/grain, func(i int) { f(i*grain, min((i+1)*grain, n)) })
}
