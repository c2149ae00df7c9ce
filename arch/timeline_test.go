package arch

import (
	"bytes"
	"math"
	"testing"

	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

func record(t *testing.T, cfg *configs.Config, w workloads.Workload, max int) (*Result, TimelineFile) {
	t.Helper()
	tl := NewTimeline(max)
	r, err := SimulateTimeline(cfg, w, tl)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tl.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := ParseTimeline(buf.Bytes())
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
			switch {
			case names[e.Tid] == "Accel.PEArray":
				macs += int64(e.Args["macs"].(float64))
			case names[e.Tid] == "Accel.DRAM[0]":
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
