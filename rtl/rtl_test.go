package rtl

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var full = flag.Bool("rtl.full", false, "every unit and parameter set in both simulators (make rtl-test)")

const vectors = 10000

// Every unit, at every parameter set, passes ≥10,000 vectors (random plus
// extremes, ties and all-zero groups) computed by the Go kernels, in
// iverilog; in verilator at the first set (all sets with -rtl.full). The
// measured latency equals the Go timing model's parameter, and the unit
// takes one input per cycle as the model assumes.
func TestRTLUnitsMatchGoModel(t *testing.T) {
	sims := map[string]bool{}
	for _, s := range Simulators {
		if Available(s) {
			sims[s] = true
		} else {
			t.Logf("SKIPPED %s: not installed (apt-get install -y iverilog verilator yosys)", s)
		}
	}
	if len(sims) == 0 {
		t.Skip("SKIPPED: no Verilog simulator installed; .ci/run installs iverilog and verilator")
	}
	type job struct {
		unit *Unit
		set  int
		sim  string
	}
	var jobs []job
	for _, name := range Names() {
		u := Units[name]
		for i := range u.Sets {
			for _, sim := range Simulators {
				if sims[sim] && (sim == "iverilog" || i == 0 || *full) {
					jobs = append(jobs, job{u, i, sim})
				}
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := j.unit.Resolve(j.unit.Sets[j.set])
			if err != nil {
				t.Error(err)
				return
			}
			dir := t.TempDir()
			if err := Prepare(j.unit, p, vectors, int64(j.set+1), dir); err != nil {
				t.Error(err)
				return
			}
			o, err := Simulate(j.unit, dir, j.sim)
			label := fmt.Sprintf("%s %v under %s", j.unit.Name, j.unit.Sets[j.set], j.sim)
			if err != nil {
				t.Errorf("%s: %v", label, err)
				return
			}
			if !o.Pass || o.Vectors != vectors {
				t.Errorf("%s: %d of %d vectors failed\n%s", label, o.Failed, o.Vectors, o.Output)
			}
			if o.Latency != j.unit.Latency {
				t.Errorf("%s: RTL latency %d cycles, the Go timing model uses %d", label, o.Latency, j.unit.Latency)
			}
			// Throughput: the timing models charge one input (group,
			// beat, code) per cycle per unit, so n vectors take n cycles.
			if o.Span != vectors {
				t.Errorf("%s: %d outputs over %d cycles, the Go timing model assumes one per cycle", label, vectors, o.Span)
			}
			t.Logf("%s: PASS %d vectors, latency %d", label, o.Vectors, o.Latency)
		}()
	}
	wg.Wait()
}

// The bench can fail: one wrong expected value is reported.
func TestRTLBenchCatchesAWrongVector(t *testing.T) {
	if !Available("iverilog") {
		t.Skip("SKIPPED: iverilog not installed")
	}
	for _, name := range []string{"nm_pe", "topk_pass"} {
		u := Units[name]
		p, _ := u.Resolve(u.Sets[0])
		dir := t.TempDir()
		if err := Prepare(u, p, 500, 7, dir); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "exp.hex")
		b, _ := os.ReadFile(path)
		lines := strings.Split(string(b), "\n")
		flip := []byte(lines[123])
		if flip[len(flip)-1] == '0' {
			flip[len(flip)-1] = '1'
		} else {
			flip[len(flip)-1] = '0'
		}
		lines[123] = string(flip)
		os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
		o, err := Simulate(u, dir, "iverilog")
		if err != nil {
			t.Fatal(err)
		}
		if o.Pass || o.Failed != 1 || !strings.Contains(o.Output, "MISMATCH vector 123") {
			t.Errorf("%s: a wrong expected vector was not caught: %+v", name, o)
		}
	}
}

// The committed resource table (make rtl-synth) covers every unit and
// parameter set with non-empty counts, and yosys reproduces a row.
func TestSynthTable(t *testing.T) {
	b, err := os.ReadFile("../energy/catalog/rtl_resources.csv")
	if err != nil {
		t.Fatal(err)
	}
	table := string(b)
	for _, name := range Names() {
		u := Units[name]
		for _, s := range u.Sets {
			p, _ := u.Resolve(s)
			prefix := name + "," + ParamString(p) + ","
			found := false
			for _, line := range strings.Split(table, "\n") {
				if strings.HasPrefix(line, prefix) {
					found = true
					f := strings.Split(line, ",")
					if f[7] == "0" || f[8] == "0" || !strings.Contains(line, "synth_xilinx -family xcup") {
						t.Errorf("empty synthesis row: %s", line)
					}
				}
			}
			if !found {
				t.Errorf("no synthesis row for %s %s (run make rtl-synth)", name, ParamString(p))
			}
		}
	}
	if !Available("yosys") {
		t.Log("SKIPPED the yosys re-run: yosys not installed")
		return
	}
	u := Units["pquant"]
	p, _ := u.Resolve(u.Sets[0])
	r, err := Synth(u, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, strings.TrimSuffix(r.CSV(), "\n")) {
		t.Errorf("yosys now gives %s, the table has another row", r.CSV())
	}
}
