package kvsparse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// npy is a little-endian float array read from a NumPy .npy file.
type npy struct {
	shape []int
	data  []float32
}

var (
	npyDescr = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyOrder = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// readNpy reads a C-order float32 ('<f4') or float16 ('<f2') array.
func readNpy(path string) (*npy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(r, magic); err != nil || string(magic[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy file")
	}
	var hlen int
	switch magic[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, err
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, err
		}
		hlen = int(n)
	default:
		return nil, fmt.Errorf(".npy version %d is not supported", magic[6])
	}
	if hlen > 1<<16 {
		return nil, fmt.Errorf("a %d-byte .npy header is too long", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	h := string(hdr)
	d, o, s := npyDescr.FindStringSubmatch(h), npyOrder.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if d == nil || o == nil || s == nil {
		return nil, fmt.Errorf("the .npy header lacks descr, fortran_order or shape")
	}
	if o[1] == "True" {
		return nil, fmt.Errorf("a Fortran-order array; save it in C order")
	}
	a := &npy{}
	n := 1
	for _, x := range strings.Split(s[1], ",") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("shape (%s)", s[1])
		}
		a.shape = append(a.shape, v)
		if n > 0 && v > (1<<31)/n {
			return nil, fmt.Errorf("shape (%s): more than 2^31 elements", s[1])
		}
		n *= v
	}
	a.data = make([]float32, n)
	switch d[1] {
	case "<f4":
		if err := binary.Read(r, binary.LittleEndian, a.data); err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
	case "<f2":
		half := make([]uint16, n)
		if err := binary.Read(r, binary.LittleEndian, half); err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
		for i, x := range half {
			a.data[i] = halfToFloat(x)
		}
	default:
		return nil, fmt.Errorf("dtype %s is not supported (use float32 '<f4' or float16 '<f2')", d[1])
	}
	for _, x := range a.data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("holds NaN or infinite values")
		}
	}
	return a, nil
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		return float32(math.Ldexp(float64(man), -24)) * (1 - 2*float32(h>>15))
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// LoadHead reads one attention head's dumps from dir: k.npy and v.npy of
// shape (tokens, head_dim) — keys after RoPE — and q.npy of shape
// (tokens, group, head_dim): the queries of the group's heads at every
// position. Every sampled (layer, head) then uses this head.
func LoadHead(dir string, D, g, need int) (*Head, error) {
	load := func(name string, dims ...int) (*npy, error) {
		return loadArray(filepath.Join(dir, name), need, "the model", dims...)
	}
	k, err := load("k.npy", 0, D)
	if err != nil {
		return nil, err
	}
	v, err := load("v.npy", k.shape[0], D)
	if err != nil {
		return nil, err
	}
	q, err := load("q.npy", k.shape[0], g, D)
	if err != nil {
		return nil, err
	}
	return &Head{D: D, L: k.shape[0], K: k.data, V: v.data, q: q.data, g: g}, nil
}

// HeadDumpDir is where kv_sparsity.data keeps model layer layer's KV head
// head when it holds a dump per sampled point: DIR/layer<L>_head<H>.
func HeadDumpDir(dir string, layer, head int) string {
	return filepath.Join(dir, fmt.Sprintf("layer%d_head%d", layer, head))
}

// OneHeadDump reports whether dir holds one head's dump (dir/k.npy, used
// for every sampled point) rather than one per sampled point.
func OneHeadDump(dir string) (bool, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return false, usererr.New("kv_sparsity.data: %v", err)
	}
	if !st.IsDir() {
		return false, usererr.New("kv_sparsity.data: %s is not a directory", dir)
	}
	_, err = os.Stat(filepath.Join(dir, "k.npy"))
	return err == nil, nil
}

// CheckHeadDumps refuses, before any kernel runs, a per-point dump
// directory that lacks a sampled (layer, head).
func CheckHeadDumps(dir string, layers, heads []int) error {
	for _, l := range layers {
		for _, h := range heads {
			d := HeadDumpDir(dir, l, h)
			if _, err := os.Stat(filepath.Join(d, "k.npy")); err != nil {
				return usererr.New("kv_sparsity.data: %s: neither k.npy (one head for every sampled point) nor %s/k.npy (sampled layers %v, KV heads %v: one directory layer<L>_head<H> each)",
					dir, d, layers, heads)
			}
		}
	}
	return nil
}

// IndexDumpDir is where kv_sparsity.data keeps model layer layer's
// indexer dump: DIR/index with one head's dump (OneHeadDump), else
// DIR/layer<L>_index.
func IndexDumpDir(dir string, layer int, one bool) string {
	if one {
		return filepath.Join(dir, "index")
	}
	return filepath.Join(dir, fmt.Sprintf("layer%d_index", layer))
}

// LoadIndexer reads a trained indexer's dumps of one layer from dir:
// k.npy, the index keys, of shape (tokens, index_dim); q.npy, the index
// queries, of shape (tokens, index_heads, index_dim); and optionally
// w.npy, the per-head weights, of shape (tokens, index_heads) (absent: all
// 1). Shapes must match kv_sparsity.index_dim and index_heads; with
// index_bits 8 the values are rounded to e4m3 as the indexer computes.
// headDim is the model's, the scores' 1/√head_dim scale.
func LoadIndexer(dir string, p Params, headDim, need int) (*Indexer, error) {
	needs := fmt.Sprintf("kv_sparsity (index_dim %d, index_heads %d)", p.IndexDim, p.IndexHeads)
	load := func(name string, dims ...int) (*npy, error) {
		a, err := loadArray(filepath.Join(dir, name), need, needs, dims...)
		if err == nil && p.IndexBits == 8 {
			for i, x := range a.data {
				a.data[i] = FP8(x)
			}
		}
		return a, err
	}
	k, err := load("k.npy", 0, p.IndexDim)
	if err != nil {
		return nil, err
	}
	q, err := load("q.npy", k.shape[0], p.IndexHeads, p.IndexDim)
	if err != nil {
		return nil, err
	}
	ix := &Indexer{Dim: p.IndexDim, keys: k.data, dq: q.data, dHeads: p.IndexHeads, norm: math.Sqrt(float64(headDim))}
	if _, err := os.Stat(filepath.Join(dir, "w.npy")); err == nil {
		w, err := load("w.npy", k.shape[0], p.IndexHeads)
		if err != nil {
			return nil, err
		}
		ix.dw = w.data
	}
	return ix, nil
}

// loadArray reads the float array at path, refusing it unless it has
// len(dims) dimensions, dims[i] where dims[i] > 0 (what names who needs
// them), and at least need rows.
func loadArray(path string, need int, what string, dims ...int) (*npy, error) {
	a, err := readNpy(path)
	if err != nil {
		return nil, usererr.New("kv_sparsity.data: %s: %v", path, err)
	}
	if len(a.shape) != len(dims) {
		return nil, usererr.New("kv_sparsity.data: %s: shape %v, want %d dimensions", path, a.shape, len(dims))
	}
	for i, want := range dims {
		if want > 0 && a.shape[i] != want {
			return nil, usererr.New("kv_sparsity.data: %s: shape %v: dimension %d is %d, %s needs %d", path, a.shape, i, a.shape[i], what, want)
		}
	}
	if a.shape[0] < need {
		return nil, usererr.New("kv_sparsity.data: %s: %d tokens, the run needs %d (prompt + decode steps)", path, a.shape[0], need)
	}
	return a, nil
}
