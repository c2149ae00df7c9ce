// Package par runs independent loop iterations on every core. It knows
// nothing of the simulator: callers promise that iteration i writes only
// its own results, so the outcome is the sequential loop's whatever the
// interleaving (determinism stays the caller's invariant).
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For runs f(0), …, f(n−1) on up to GOMAXPROCS goroutines (in turn when
// there is one core or one iteration).
func For(n int, f func(i int)) {
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
