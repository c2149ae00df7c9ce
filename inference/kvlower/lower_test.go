package kvlower

import (
	"strings"

	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/inference/ops"
	"github.com/sparsesim/sparsesim/memory"
	"github.com/sparsesim/sparsesim/workloads/kvsparse"
	"github.com/sparsesim/sparsesim/workloads/llm"
)

// TestHeadRowsSameRequests: a per-head gather read as (token, head) rows
// (rowsOf, headRows) touches the same addresses as each head's channel
// slice of the token rows, so it has the same elements and the same
// DRAM requests — checked against the channel-slice region built here,
// for request-aligned head slices (bf16, 128 channels) and unaligned ones
// (4-bit, 64 and 24 channels against 64-byte requests), two sequences.
func TestHeadRowsSameRequests(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range []struct{ hd, bits int }{{128, 16}, {64, 4}, {24, 4}, {64, 16}} {
		const kv, seq, stride = 4, 2, 3000
		lw := &layerAttn{kv: kv, seq: seq}
		tokens := make([][]int32, kv)
		for h := range tokens {
			seen := map[int32]bool{}
			for len(tokens[h]) < 700 {
				// runs and singletons
				t0 := int32(rng.Intn(stride - 8))
				for i := int32(0); i < int32(1+rng.Intn(6)); i++ {
					if !seen[t0+i] {
						seen[t0+i] = true
						tokens[h] = append(tokens[h], t0+i)
					}
				}
			}
			slices.Sort(tokens[h])
		}
		var segs []memory.Seg
		for h, tk := range tokens {
			var pix []memory.Span
			for b := 0; b < seq; b++ {
				pix = append(pix, spans(tk, int64(b*stride))...)
			}
			segs = append(segs, memory.Seg{C: memory.Span{Lo: int64(h * c.hd), Hi: int64((h + 1) * c.hd)}, Pix: pix})
		}
		perSlice := memory.NewRegion(segs)
		T := memory.Tensor{Name: "k", Pixels: seq * stride, Channels: int64(kv * c.hd), ElemBits: c.bits}
		rows := lw.rowsOf(tokens, c.hd, stride)
		_, want := T.Runs(perSlice, 64)
		_, got := headRows(T, kv).Runs(rows, 64)
		if got != want || rows.Elems() != perSlice.Elems() {
			t.Errorf("head %d ch × %d bits: (token, head) rows %d requests, %d elements; channel slices %d, %d",
				c.hd, c.bits, got, rows.Elems(), want, perSlice.Elems())
		}
	}
}

// TestAppendAttentionIsAFreshLowering: the step templates a lowering copies
// layer by layer (AppendAttention) give, for every layer and step, the
// operators a fresh lowering of that layer gives — names, regions and
// all — and every gather's measured cost is what Tensor.Runs and
// Region.Elems give for its rows, for every method.
func TestAppendAttentionIsAFreshLowering(t *testing.T) {
	m, _ := llm.Lookup("llama-3.2-1b")
	const prompt, steps = 1000, 24
	for _, method := range []string{"evict", "quest", "double_sparsity", "dsa", "hisa", "mustafar"} {
		// Only the keys the method reads: the others are refused.
		sets := []string{"kv_sparsity.method=" + method, "buffers.filter_kb=64"}
		for _, s := range []string{"kv_sparsity.budget=256", "kv_sparsity.recent=64", "kv_sparsity.k=256", "kv_sparsity.block_top=4",
			"kv_sparsity.sample_steps=3", "kv_sparsity.sample_layers=3"} {
			key, _, _ := strings.Cut(strings.TrimPrefix(s, "kv_sparsity."), "=")
			if kvsparse.Unread(method, key) == "" {
				sets = append(sets, s)
			}
		}
		cfg, err := configs.Load("llm-128x128", sets)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := kvsparse.NewPlan(cfg.KVSetup(), m, prompt, steps)
		if err != nil {
			t.Fatal(err)
		}
		kl := New(pl)
		req := int64(cfg.DRAM.RequestBytes)
		var buf []ops.Op
		for st := 1; st <= steps; st++ {
			s := ops.StepSpec{Batch: 2, New: 1, Context: prompt + st, Step: st, ChunkN: 128, ChunkK: 128}
			for layer := 0; layer < m.NumHiddenLayers; layer++ {
				p := fmt.Sprintf("L%d.", layer)
				buf = kl.AppendAttention(buf[:0], m, layer, p, s, s.Context)
				fresh := kl.lower(m, layer, p, s, s.Context)
				if !reflect.DeepEqual(buf, fresh) {
					t.Fatalf("%s step %d layer %d: the template's operators differ from a fresh lowering", method, st, layer)
				}
				for _, op := range buf {
					if g := op.Gather; g != nil {
						if want := ops.MeasureGather(g.Tensor, g.Rows, req); g.Cost == nil || *g.Cost != want {
							t.Fatalf("%s step %d %s: cost %+v, the rows give %+v", method, st, op.Name, g.Cost, want)
						}
					}
				}
			}
		}
	}
}
