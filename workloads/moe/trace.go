package moe

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sparsesim/sparsesim/internal/usererr"
)

// TraceMagic opens a routing trace's header line.
const TraceMagic = "moe-trace"

// MaxTraceTokens bounds the token lines a trace may hold (each is kept in
// memory as k small integers).
const MaxTraceTokens = 1 << 24

// Trace is a routing trace: for each MoE layer, the experts of its tokens
// in order. The format (docs/ffn-moe.md):
//
//	moe-trace v1 experts=8 k=2
//	# layer  experts, highest gate first
//	0 3,7
//	* 1,4
//
// Lines with layer * serve every layer that has no lines of its own.
type Trace struct {
	Path       string
	Experts, K int
	// layers[l] is layer l's tokens, k experts each, flat; all holds the
	// * lines in their own list when no layer-specific line exists.
	layers map[int][]int
	all    []int
	// maxLayer is the highest layer a line names (-1: only *).
	maxLayer int
}

// ReadTrace parses a trace file strictly: every problem is one error
// naming the file, the line and the field.
func ReadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usererr.New("moe.trace %s: %v", path, err)
	}
	defer f.Close()
	return ParseTrace(path, f)
}

// ParseTrace reads a trace from r; path names it in errors.
func ParseTrace(path string, r io.Reader) (*Trace, error) {
	t := &Trace{Path: path, layers: map[int][]int{}, maxLayer: -1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line, tokens := 0, 0
	header := false
	bad := func(field, format string, a ...any) error {
		return usererr.New("%s:%d: field %s: %s", path, line, field, fmt.Sprintf(format, a...))
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if i := bytes.IndexFunc(b, func(r rune) bool { return r == 0 || (r < 0x20 && r != '\t' && r != '\r') }); i >= 0 {
			return nil, usererr.New("%s:%d: binary byte 0x%02x at column %d: not a routing trace", path, line, b[i], i+1)
		}
		s := strings.TrimSpace(string(b))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.Fields(s)
		if !header {
			if err := t.parseHeader(fields, bad); err != nil {
				return nil, err
			}
			header = true
			continue
		}
		if len(fields) != 2 {
			return nil, usererr.New("%s:%d: %d fields, want 2 (layer and experts, e.g. \"0 3,7\")", path, line, len(fields))
		}
		layer := -1
		if fields[0] != "*" {
			v, err := strconv.Atoi(fields[0])
			if err != nil || v < 0 || v > 1<<20 {
				return nil, bad("layer", "want a layer index from 0 or *, got %q", fields[0])
			}
			layer = v
		}
		parts := strings.Split(fields[1], ",")
		if len(parts) != t.K {
			return nil, bad("experts", "%d experts listed, the header says k=%d", len(parts), t.K)
		}
		row := make([]int, 0, t.K)
		for _, p := range parts {
			e, err := strconv.Atoi(p)
			if err != nil || e < 0 || e >= t.Experts {
				return nil, bad("experts", "%q is not an expert from 0 to %d", p, t.Experts-1)
			}
			if containsInt(row, e) {
				return nil, bad("experts", "expert %d listed twice", e)
			}
			row = append(row, e)
		}
		if layer >= 0 {
			t.layers[layer] = append(t.layers[layer], row...)
			t.maxLayer = max(t.maxLayer, layer)
		} else {
			t.all = append(t.all, row...)
		}
		if tokens++; tokens > MaxTraceTokens {
			return nil, usererr.New("%s:%d: more than %d token lines (the trace limit)", path, line, MaxTraceTokens)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usererr.New("%s:%d: %v", path, line+1, err)
	}
	if !header {
		return nil, usererr.New("%s:1: field header: empty trace (want \"%s v1 experts=E k=K\" and token lines)", path, TraceMagic)
	}
	if tokens == 0 {
		return nil, usererr.New("%s:%d: no token lines after the header", path, line)
	}
	return t, nil
}

func (t *Trace) parseHeader(f []string, bad func(field, format string, a ...any) error) error {
	if len(f) != 4 || f[0] != TraceMagic {
		return bad("header", "want \"%s v1 experts=E k=K\", got %q", TraceMagic, strings.Join(f, " "))
	}
	if f[1] != "v1" {
		return bad("version", "unknown version %q (this sparsesim reads v1)", f[1])
	}
	num := func(s, name string) (int, error) {
		v, ok := strings.CutPrefix(s, name+"=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 1 || n > 1<<16 {
			return 0, bad(name, "want %s=N with N from 1 to 65536, got %q", name, s)
		}
		return n, nil
	}
	var err error
	if t.Experts, err = num(f[2], "experts"); err != nil {
		return err
	}
	if t.K, err = num(f[3], "k"); err != nil {
		return err
	}
	if t.K > t.Experts {
		return bad("k", "k=%d is more than experts=%d", t.K, t.Experts)
	}
	return nil
}

// Check refuses a trace that does not fit the model: other expert or top-k
// counts, a layer past the model's, or a layer with no tokens.
func (t *Trace) Check(experts, k, layers int) error {
	if t.Experts != experts || t.K != k {
		return usererr.New("%s:1: field experts/k: the trace routes experts=%d k=%d, the model has %d experts top-%d", t.Path, t.Experts, t.K, experts, k)
	}
	if t.maxLayer >= layers {
		return usererr.New("%s: field layer: the trace names layer %d, the model has %d layers (0 to %d)", t.Path, t.maxLayer, layers, layers-1)
	}
	if len(t.all) == 0 {
		for l := 0; l < layers; l++ {
			if len(t.layers[l]) == 0 {
				return usererr.New("%s: field layer: no tokens for layer %d (give every layer lines, or use * lines)", t.Path, l)
			}
		}
	}
	return nil
}

// Tokens is how many tokens the trace holds for layer.
func (t *Trace) Tokens(layer int) int {
	if v := t.layers[layer]; len(v) > 0 {
		return len(v) / t.K
	}
	return len(t.all) / t.K
}

// Token is the experts of layer's i-th token, wrapping around the layer's
// tokens. A layer without its own lines uses the * lines.
func (t *Trace) Token(layer, i int) []int {
	v := t.layers[layer]
	if len(v) == 0 {
		v = t.all
	}
	n := len(v) / t.K
	i %= n
	return v[i*t.K : (i+1)*t.K]
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
