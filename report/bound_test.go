package report

import (
	"testing"

	"github.com/sparsesim/sparsesim/arch/engines"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// A layer whose refetches are none but whose rows are shorter than a DRAM
// request is bound by the burst waste, not by the buffers' capacity (issue
// 27, item 3: GEMM 13×37×29 in os with 64 MB buffers moved 3,584 bytes in
// requests for 1,931 useful ones).
func TestBoundBurstIsNotCapacity(t *testing.T) {
	cfg, err := configs.Load("systolic-32x32", []string{"dataflow=os", "buffers.ifmap_kb=65536",
		"buffers.filter_kb=65536", "buffers.ofmap_kb=65536"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engines.Simulate(cfg, workloads.Workload{Name: "g", Layers: []workloads.Layer{workloads.GEMM("g", 13, 37, 29)}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := New(res, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Layers[0].Memory
	useful := rep.Layers[0].DRAMReadBytes + rep.Layers[0].DRAMWriteBytes
	if useful != m.CompulsoryReadBytes+m.CompulsoryWriteBytes || m.TransferredBytes <= useful {
		t.Fatalf("want no refetch and some burst waste: useful %d, compulsory %d, transferred %d",
			useful, m.CompulsoryReadBytes+m.CompulsoryWriteBytes, m.TransferredBytes)
	}
	if m.Bound != "burst" {
		t.Errorf("bound %q, want burst", m.Bound)
	}
}
