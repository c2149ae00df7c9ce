package nm

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// DenseGEMM is Y = X·W through gonum's BLAS (float64, all cores).
func DenseGEMM(x, w Matrix[float64]) Matrix[float64] {
	y := NewMatrix[float64](x.Rows, w.Cols)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas64.General{Rows: x.Rows, Cols: x.Cols, Stride: x.Cols, Data: x.Data},
		blas64.General{Rows: w.Rows, Cols: w.Cols, Stride: w.Cols, Data: w.Data},
		0, blas64.General{Rows: y.Rows, Cols: y.Cols, Stride: y.Cols, Data: y.Data})
	return y
}

// DenseGEMMRef is the textbook triple loop, for integer types (exact) and
// as the reference of references.
func DenseGEMMRef[T Number](x, w Matrix[T]) Matrix[T] {
	y := NewMatrix[T](x.Rows, w.Cols)
	for i := 0; i < x.Rows; i++ {
		for k := 0; k < x.Cols; k++ {
			a := x.Data[i*x.Cols+k]
			if a == 0 {
				continue
			}
			row := w.Data[k*w.Cols : (k+1)*w.Cols]
			out := y.Data[i*y.Cols : (i+1)*y.Cols]
			for j, b := range row {
				out[j] += a * b
			}
		}
	}
	return y
}

// SparseGEMM is Y = X·W with W given compressed. It never decompresses:
// each kept weight (k, v) of output column n adds v·X[:, k] to Y[:, n],
// selecting the activation column by the stored index exactly as the N:M
// PE's M:1 multiplexer does. Work is split over output columns and all
// cores; rows are blocked so the activation slice stays in cache.
func SparseGEMM[T Number](x Matrix[T], w Compressed[T]) Matrix[T] {
	xt := x.T() // K × rows: the activation "column" k is a contiguous row
	yt := NewMatrix[T](w.Cols, x.Rows)
	if xf, ok := any(xt.Data).([]float64); ok {
		// float64 goes through gonum's assembly axpy; the type switch
		// happens once here, not per call.
		sparseColumns(any(w).(Compressed[float64]), xf, any(yt.Data).([]float64), x.Rows, floats.AddScaled)
	} else {
		sparseColumns(w, xt.Data, yt.Data, x.Rows, func(dst []T, a T, s []T) {
			for i, v := range s {
				dst[i] += a * v
			}
		})
	}
	return yt.T()
}

// sparseColumns computes yt[n, :] = Σ over kept (k, v) of column n of
// v·xt[k, :], blocking the rows so the activation rows a column selects
// stay in cache.
func sparseColumns[T Number](w Compressed[T], xt, yt []T, rows int, axpy func(dst []T, a T, s []T)) {
	const block = 256
	per := w.Groups * w.P.N
	ParallelFor(w.Cols, func(n int) {
		out := yt[n*rows : (n+1)*rows]
		vals, idx := w.Values[n*per:(n+1)*per], w.Index[n*per:(n+1)*per]
		for r0 := 0; r0 < rows; r0 += block {
			r1 := min(r0+block, rows)
			dst := out[r0:r1]
			for s, v := range vals {
				if v == 0 {
					continue
				}
				k := (s/w.P.N)*w.P.M + int(idx[s])
				axpy(dst, v, xt[k*rows+r0:k*rows+r1])
			}
		}
	})
}

// ParallelFor runs f(0..n-1) over GOMAXPROCS workers in contiguous chunks:
// the kernels' one way of using every core.
func ParallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}()
	}
	wg.Wait()
}
