package systolic

import (
	"reflect"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/dataflow"
	"github.com/sparsesim/sparsesim/workloads"
)

// TestFilterOnChipSkipsFilterReads: a GEMM whose operand a gather left on
// chip reads no filter bytes and otherwise moves what the plain GEMM does;
// one too big for the filter buffer streams it as the plain one does.
func TestFilterOnChipSkipsFilterReads(t *testing.T) {
	cfg, err := configs.Load("llm-128x128", nil)
	if err != nil {
		t.Fatal(err)
	}
	small := workloads.Layer{Name: "qk", Kind: "attn_qk", M: 4, N: 128, K: 128, Groups: 16}
	big := small
	big.Groups = 4096 // 128·128·2 B · 4096 = 128 MB
	for _, c := range []struct {
		l    workloads.Layer
		held bool
	}{{small, true}, {big, false}} {
		plain, err := Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{c.l}})
		if err != nil {
			t.Fatal(err)
		}
		h := c.l
		h.FilterOnChip = true
		held, err := Simulate(cfg, workloads.Workload{Layers: []workloads.Layer{h}})
		if err != nil {
			t.Fatal(err)
		}
		p, q := plain.Layers[0], held.Layers[0]
		if FilterFits(cfg, c.l) != c.held || q.FilterHeld != c.held || p.FilterHeld {
			t.Fatalf("groups %d: fits %v, held %v (plain %v), want %v", c.l.Groups, FilterFits(cfg, c.l), q.FilterHeld, p.FilterHeld, c.held)
		}
		wantFilter := int64(c.l.K) * int64(c.l.N) * int64(c.l.Groups) * 2
		if p.DRAMReadByOperand[dataflow.Filter] != wantFilter {
			t.Errorf("plain filter reads %d, want %d", p.DRAMReadByOperand[dataflow.Filter], wantFilter)
		}
		if c.held {
			if q.DRAMReadByOperand[dataflow.Filter] != 0 {
				t.Errorf("held filter still read %d bytes", q.DRAMReadByOperand[dataflow.Filter])
			}
			if q.Elapsed > p.Elapsed {
				t.Errorf("held filter slower: %d > %d cycles", q.Elapsed, p.Elapsed)
			}
		} else if !reflect.DeepEqual(p.DRAMReadByOperand, q.DRAMReadByOperand) {
			t.Errorf("streamed operand: %v vs %v", q.DRAMReadByOperand, p.DRAMReadByOperand)
		}
		if p.DRAMReadByOperand[dataflow.Ifmap] != q.DRAMReadByOperand[dataflow.Ifmap] || p.DRAMWriteBytes != q.DRAMWriteBytes {
			t.Errorf("other operands changed: %v/%d vs %v/%d", q.DRAMReadByOperand, q.DRAMWriteBytes, p.DRAMReadByOperand, p.DRAMWriteBytes)
		}
	}
}
