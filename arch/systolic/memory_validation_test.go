package systolic

import (
	"fmt"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// touchedInput is the input bytes a layer must read at least once: for a
// convolution, the distinct input pixels some output's window covers
// (strided 1×1 convolutions skip pixels), times the channels; for a GEMM,
// the whole M×K operand. Computed here from the shapes alone.
func touchedInput(l workloads.Layer, wb int64) int64 {
	c := l.Conv
	if c == nil {
		return int64(l.M) * int64(l.K) * int64(l.Groups) * wb
	}
	seen := make([]bool, c.InH*c.InW)
	n := int64(0)
	for oy := 0; oy < c.OutH; oy++ {
		for ox := 0; ox < c.OutW; ox++ {
			for fy := 0; fy < c.FilterH; fy++ {
				for fx := 0; fx < c.FilterW; fx++ {
					iy, ix := oy*c.Stride+fy-c.Pad, ox*c.Stride+fx-c.Pad
					if iy >= 0 && ix >= 0 && iy < c.InH && ix < c.InW && !seen[iy*c.InW+ix] {
						seen[iy*c.InW+ix] = true
						n++
					}
				}
			}
		}
	}
	return n * int64(c.Batch) * int64(c.Channels) * wb
}

// With buffers that hold a whole layer and no activation kept between
// layers, every layer reads its input once, its weights once, and writes
// its output once: the compulsory traffic, from the tensor shapes.
func TestCompulsoryTrafficWithHugeBuffers(t *testing.T) {
	for _, model := range []string{"resnet18", "alexnet", "mobilenet"} {
		for _, df := range []string{"ws", "os", "is"} {
			cfg, err := configs.Load("systolic-32x32", []string{"dram.model=ideal", "dataflow=" + df,
				"buffers.ifmap_kb=65536", "buffers.filter_kb=65536", "buffers.ofmap_kb=65536", "memory.keep_activations=false"})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := workloads.Lookup(model)
			w, _ := m.Build(workloads.Params{})
			res, err := Simulate(cfg, w)
			if err != nil {
				t.Fatal(err)
			}
			wb := int64(cfg.WordBytes())
			for _, s := range res.Layers {
				l := s.Layer
				tr := s.Traffic
				weights := int64(l.K) * int64(l.N) * int64(l.Groups) * wb
				out := int64(l.M) * int64(l.N) * int64(l.Groups) * wb
				if got, want := tr[arch.TensorIfmap].ReadBytes, touchedInput(l, wb); got != want {
					t.Errorf("%s %s %s: input read %d bytes, the tensor once is %d", model, df, l.Name, got, want)
				}
				if got := tr[arch.TensorFilter].ReadBytes; got != weights {
					t.Errorf("%s %s %s: weights read %d bytes, once is %d", model, df, l.Name, got, weights)
				}
				if got := tr[arch.TensorOfmap].WriteBytes; got != out || tr[arch.TensorPsum].ReadBytes+tr[arch.TensorPsum].WriteBytes != 0 {
					t.Errorf("%s %s %s: output written %d bytes (once is %d), partial sums %d+%d", model, df, l.Name,
						got, out, tr[arch.TensorPsum].ReadBytes, tr[arch.TensorPsum].WriteBytes)
				}
			}
		}
	}
}

// DRAM traffic never grows when a buffer grows; cycles are never below
// compute nor below the bytes moved at peak bandwidth; stalls are never
// negative.
func TestTrafficMonotoneAndBounded(t *testing.T) {
	m, _ := workloads.Lookup("resnet18")
	w, _ := m.Build(workloads.Params{})
	for _, df := range []string{"ws", "os", "is"} {
		prev := map[string]int64{}
		for _, kb := range []int{16, 32, 64, 128, 256, 1024} {
			// Per-layer bounds need the layers apart: no weight prefetch
			// into the previous layer's span.
			// A fixed fold order: the property is the memory model's (more
			// buffer never moves more bytes under one mapping); the
			// mapper, which minimises cycles, may trade bytes for time.
			cfg, err := configs.Load("systolic-32x32", []string{"dataflow=" + df, "memory.prefetch_next_layer=false", "mapping.search=scalesim",
				fmt.Sprintf("buffers.ifmap_kb=%d", kb), fmt.Sprintf("buffers.filter_kb=%d", kb), fmt.Sprintf("buffers.ofmap_kb=%d", kb)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Simulate(cfg, w)
			if err != nil {
				t.Fatal(err)
			}
			peak := cfg.BytesPerCycle() * float64(cfg.DRAM.Channels)
			for _, s := range res.Layers {
				bytes := s.DRAMReadBytes + s.DRAMWriteBytes
				if p, ok := prev[s.Layer.Name]; ok && bytes > p {
					t.Errorf("%s %s: %d KB buffers move %d bytes, smaller ones %d", df, s.Layer.Name, kb, bytes, p)
				}
				prev[s.Layer.Name] = bytes
				if s.Elapsed < s.ComputeCycles || float64(s.Elapsed) < float64(bytes)/peak {
					t.Errorf("%s %s: %d cycles below compute %d or bytes/peak %.0f", df, s.Layer.Name, s.Elapsed, s.ComputeCycles, float64(bytes)/peak)
				}
				if s.Elapsed-s.ComputeCycles-s.MaskGenCycles < 0 {
					t.Errorf("%s %s: negative stalls", df, s.Layer.Name)
				}
			}
		}
	}
}

// Next-layer weight prefetch moves the same bytes earlier: traffic is
// unchanged, and the run is never slower than with the layers apart.
func TestPrefetchNextLayerSameBytesNoSlower(t *testing.T) {
	m, _ := workloads.Lookup("resnet18")
	w, _ := m.Build(workloads.Params{})
	var res [2]*arch.Result
	for i, on := range []string{"false", "true"} {
		cfg, err := configs.Load("systolic-32x32", []string{"memory.prefetch_next_layer=" + on})
		if err != nil {
			t.Fatal(err)
		}
		if res[i], err = Simulate(cfg, w); err != nil {
			t.Fatal(err)
		}
	}
	var cyc [2]int64
	for i := range res {
		for j, l := range res[i].Layers {
			cyc[i] += l.Elapsed
			if i == 1 && l.Traffic != res[0].Layers[j].Traffic {
				t.Errorf("%s: traffic %v with prefetch, %v without", l.Layer.Name, l.Traffic, res[0].Layers[j].Traffic)
			}
		}
	}
	if cyc[1] > cyc[0] {
		t.Errorf("prefetch made the run slower: %d vs %d cycles", cyc[1], cyc[0])
	}
	t.Logf("resnet18: %d cycles apart, %d with next-layer prefetch", cyc[0], cyc[1])
}
