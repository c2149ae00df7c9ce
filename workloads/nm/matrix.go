package nm

import (
	"math/rand"
)

// Number is what the kernels compute on: integers are exact, floats are
// compared within a tolerance derived from their precision.
type Number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~float32 | ~float64
}

// Matrix is a dense row-major matrix.
type Matrix[T Number] struct {
	Rows, Cols int
	Data       []T
}

// NewMatrix allocates a zero matrix.
func NewMatrix[T Number](rows, cols int) Matrix[T] {
	return Matrix[T]{Rows: rows, Cols: cols, Data: make([]T, rows*cols)}
}

// At returns element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.Cols+j] }

// Set writes element (i, j).
func (m Matrix[T]) Set(i, j int, v T) { m.Data[i*m.Cols+j] = v }

// T returns the transpose as a new matrix, in cache-sized tiles over all
// cores (a naive transpose of a large matrix misses cache on every write).
func (m Matrix[T]) T() Matrix[T] {
	t := NewMatrix[T](m.Cols, m.Rows)
	const tile = 32
	tilesI := (m.Rows + tile - 1) / tile
	ParallelFor(tilesI, func(ti int) {
		i0, i1 := ti*tile, min(ti*tile+tile, m.Rows)
		for j0 := 0; j0 < m.Cols; j0 += tile {
			j1 := min(j0+tile, m.Cols)
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					t.Data[j*m.Rows+i] = m.Data[i*m.Cols+j]
				}
			}
		}
	})
	return t
}

// Random fills a matrix from a seeded source: floats uniform in [-1, 1),
// integers uniform in [-lim, lim].
func Random[T Number](rows, cols int, seed int64, lim int) Matrix[T] {
	r := rand.New(rand.NewSource(seed))
	m := NewMatrix[T](rows, cols)
	var probe T
	_, isFloat := any(probe).(float64)
	_, isF32 := any(probe).(float32)
	for i := range m.Data {
		if isFloat || isF32 {
			m.Data[i] = T(2*r.Float64() - 1)
		} else {
			m.Data[i] = T(r.Intn(2*lim+1) - lim)
		}
	}
	return m
}

func abs[T Number](v T) T {
	if v < 0 {
		return -v
	}
	return v
}
