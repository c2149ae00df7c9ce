package systolic

import (
	"math"
	"strings"
	"testing"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

func record(t *testing.T, cfg *configs.Config, w workloads.Workload, max int) (*arch.Result, arch.TimelineFile) {
	t.Helper()
	tl := arch.NewTimeline(max)
	r, err := SimulateTimeline(cfg, w, tl)
	if err != nil {
		t.Fatal(err)
	}
	f, err := tl.File()
	if err != nil {
		t.Fatal(err)
	}
	return r, f
}

// The timeline's slices add up to the report: MACs on the PE array track,
// bytes on the DRAM tracks; every unit has a named track; the last slice
// ends when the run does.
func TestTimelineMatchesTotals(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	w := workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("a", 256, 128, 512), workloads.GEMM("b", 64, 512, 1024)}}
	r, f := record(t, cfg, w, 0)
	names := map[int]string{}
	for _, e := range f.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			names[e.Tid] = e.Args["name"].(string)
		}
	}
	var macs, bytesMoved, wantMACs, wantBytes, elapsed int64
	var end float64
	counters := 0
	for _, l := range r.Layers {
		wantMACs += l.MACs
		wantBytes += l.DRAMReadBytes + l.DRAMWriteBytes
		elapsed += l.Elapsed
	}
	for _, e := range f.TraceEvents {
		switch e.Ph {
		case "X":
			switch arch.TrackBase(names[e.Tid]) {
			case "Accel.PEArray":
				macs += int64(e.Args["macs"].(float64))
			case "Accel.DRAM[0]":
				bytesMoved += int64(e.Args["bytes"].(float64))
			}
			end = max(end, e.Ts+e.Dur)
		case "C":
			counters++
		}
	}
	if macs != wantMACs || bytesMoved != wantBytes {
		t.Errorf("timeline: %d MACs, %d DRAM bytes; report: %d, %d", macs, bytesMoved, wantMACs, wantBytes)
	}
	if math.Abs(end-float64(elapsed)/cfg.ClockMHz) > 1e-6 {
		t.Errorf("last slice ends at %g µs, the run at %g µs", end, float64(elapsed)/cfg.ClockMHz)
	}
	for _, want := range []string{"Accel.PEArray", "Accel.IfmapBuffer", "Accel.FilterBuffer", "Accel.OfmapBuffer", "Accel.DRAM[0]"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("no %s track", want)
		}
	}
	if counters == 0 {
		t.Error("no bandwidth or occupancy counters")
	}
	if f.OtherData["dropped_slices"].(float64) != 0 {
		t.Error("a small run was sampled")
	}
	if err := arch.CheckTimeline(f); err != nil {
		t.Error(err)
	}
}

// A big run stays under the cap, sampled uniformly, and says so.
func TestTimelineCap(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	_, f := record(t, cfg, resnet18(t), 2000)
	events := 0
	for _, e := range f.TraceEvents {
		if e.Ph != "M" {
			events++
		}
	}
	if events > 2000 || f.OtherData["dropped_slices"].(float64) == 0 || f.OtherData["sampled_every"].(float64) < 2 {
		t.Errorf("%d events, %v", events, f.OtherData)
	}
}

// Every timeline a run can emit follows the trace-event rules viewers rely
// on: per thread, slices nest or are disjoint; counters stay within
// [0, capacity]; timestamps are in order. The cases cover each engine,
// dataflow and DRAM model, single and double buffering, and a sampled run.
func TestTimelineValidity(t *testing.T) {
	gemm := workloads.Workload{Layers: []workloads.Layer{workloads.GEMM("a", 256, 128, 512), workloads.GEMM("b", 64, 512, 1024)}}
	cases := []struct {
		config string
		sets   []string
		w      workloads.Workload
		max    int
	}{
		{"systolic-32x32", nil, resnet18(t), 0},
		{"systolic-32x32", nil, resnet18(t), 3000},
		{"systolic-32x32", []string{"dataflow=os", "buffers.double_buffered=false"}, gemm, 0},
		{"systolic-32x32", []string{"dataflow=is", "dram.model=detailed", "dram.preset=ddr4-2400"}, gemm, 0},
		{"scalesim-32x32", nil, gemm, 0},
		{"sat-vcu1525", []string{"sparsity.nm=2:4"}, gemm, 0},
	}
	for _, c := range cases {
		cfg, err := configs.Load(c.config, c.sets)
		if err != nil {
			t.Fatal(err)
		}
		_, f := record(t, cfg, c.w, c.max)
		if err := arch.CheckTimeline(f); err != nil {
			t.Errorf("%s %v: %v", c.config, c.sets, err)
		}
		if f.OtherData["overlap_dropped"].(float64) != 0 {
			t.Errorf("%s %v: %v slices over %d lanes", c.config, c.sets, f.OtherData["overlap_dropped"], arch.MaxLanes)
		}
	}
}

// The occupancy counter never reads more than the buffer holds, though a
// ResNet-18 fold streams far more than 64 KiB through the ifmap buffer.
func TestOccupancyBoundedByCapacity(t *testing.T) {
	cfg, _ := configs.Load("systolic-32x32", nil)
	_, f := record(t, cfg, resnet18(t), 0)
	peak := map[string]float64{}
	for _, e := range f.TraceEvents {
		if e.Ph == "C" && strings.HasSuffix(e.Name, " occupancy") {
			peak[e.Name] = max(peak[e.Name], e.Args["bytes"].(float64))
		}
	}
	for _, b := range []string{"Accel.IfmapBuffer occupancy", "Accel.FilterBuffer occupancy"} {
		if peak[b] <= 0 || peak[b] > 64*1024 {
			t.Errorf("%s peaks at %g B (capacity 65536)", b, peak[b])
		}
	}
}

// The checker itself rejects what it is there to catch.
func TestCheckTimelineRejects(t *testing.T) {
	named := []arch.TimelineEvent{{Name: "thread_name", Ph: "M", Tid: 1, Args: map[string]any{"name": "u"}}}
	for name, evs := range map[string][]arch.TimelineEvent{
		"overlap":       {{Name: "a", Ph: "X", Ts: 0, Dur: 10, Tid: 1}, {Name: "b", Ph: "X", Ts: 5, Dur: 10, Tid: 1}},
		"out of order":  {{Name: "a", Ph: "X", Ts: 5, Dur: 1, Tid: 1}, {Name: "b", Ph: "X", Ts: 0, Dur: 1, Tid: 1}},
		"unnamed":       {{Name: "a", Ph: "X", Ts: 0, Dur: 1, Tid: 2}},
		"negative":      {{Name: "c", Ph: "C", Ts: 0, Args: map[string]any{"bytes": -1.0}}},
		"over capacity": {{Name: "u occupancy", Ph: "C", Ts: 0, Args: map[string]any{"bytes": 101.0}}},
	} {
		f := arch.TimelineFile{TraceEvents: append(append([]arch.TimelineEvent{}, named...), evs...),
			OtherData: map[string]any{"capacity_bytes": map[string]any{"u occupancy": 100.0}}}
		if arch.CheckTimeline(f) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	nested := arch.TimelineFile{TraceEvents: append(append([]arch.TimelineEvent{}, named...),
		arch.TimelineEvent{Name: "a", Ph: "X", Ts: 0, Dur: 10, Tid: 1}, arch.TimelineEvent{Name: "b", Ph: "X", Ts: 2, Dur: 3, Tid: 1},
		arch.TimelineEvent{Name: "c", Ph: "X", Ts: 10, Dur: 1, Tid: 1})}
	if err := arch.CheckTimeline(nested); err != nil {
		t.Errorf("nested and touching slices: %v", err)
	}
}
