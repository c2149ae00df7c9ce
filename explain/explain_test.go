package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"strings"
	"testing"

	attnengine "github.com/sparsesim/sparsesim/arch/attention"
	"github.com/sparsesim/sparsesim/workloads/attention"
)

func run(t *testing.T, topic string, size int) *Doc {
	t.Helper()
	d, err := Run(topic, Options{Seed: 3, Size: size, FigureDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func values(t *testing.T, d *Doc, title string) map[string]any {
	for _, s := range d.Steps {
		if strings.HasPrefix(s.Title, title) {
			b, _ := json.Marshal(s.Values)
			var m map[string]any
			json.Unmarshal(b, &m)
			return m
		}
	}
	t.Fatalf("%s: no step %q", d.Topic, title)
	return nil
}

// Every topic prints within 80 columns and round-trips as JSON.
func TestTopicsRender(t *testing.T) {
	for _, tp := range Topics() {
		d := run(t, tp.Name, 0)
		var buf bytes.Buffer
		d.Text(&buf)
		for _, l := range strings.Split(buf.String(), "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Errorf("%s: %d-column line %q", tp.Name, n, l)
			}
		}
		buf.Reset()
		d.JSON(&buf)
		var back Doc
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Steps) != len(d.Steps) {
			t.Errorf("%s: JSON %v", tp.Name, err)
		}
	}
	if _, err := Run("nosuch", Options{}); err == nil {
		t.Error("unknown topic accepted")
	}
}

// The top-k walk-through shows the rounds the engine model charges: the
// same candidate counts as attention.QuickSelect with the same seed, and
// cycles equal to attnengine.TopKCycles.
func TestTopKAgreesWithEngine(t *testing.T) {
	for _, size := range []int{24, 100, 300} {
		d := run(t, "topk", size)
		final := values(t, d, "Final pass")
		vals := values(t, d, "The scores")["scores"].([]any)
		x := make([]float64, len(vals))
		for i, v := range vals {
			x[i] = v.(float64)
		}
		_, rounds := attention.QuickSelect(x, max(1, size/5), rand.New(rand.NewSource(d.Seed+1)))
		want := attnengine.TopKCycles(append(rounds, len(x)), 16)
		if final["total_cycles"].(float64) != float64(want) || final["engine_cycles"].(float64) != float64(want) {
			t.Errorf("size %d: explained %v cycles, engine %d", size, final["total_cycles"], want)
		}
		if got := len(d.Steps) - 2; got != len(rounds) {
			t.Errorf("size %d: %d rounds shown, quick-select took %d", size, got, len(rounds))
		}
	}
}

// The systolic walk-through's totals are the simulator's cycles.
func TestSystolicAgreesWithSimulator(t *testing.T) {
	d := run(t, "systolic", 9)
	for _, df := range []string{"os", "ws", "is"} {
		v := values(t, d, "Dataflow "+df)
		if v["total_cycles"] != v["simulated_cycles"] {
			t.Errorf("%s: explained %v, simulated %v", df, v["total_cycles"], v["simulated_cycles"])
		}
	}
}

func TestNMPQuantCascade(t *testing.T) {
	d := run(t, "nm", 12)
	sel := values(t, d, "How a PE selects")
	if fmt.Sprint(sel["y"]) != fmt.Sprint(sel["dense_y"]) {
		t.Errorf("compressed %v ≠ dense %v", sel["y"], sel["dense_y"])
	}
	f := values(t, d, "The compressed format")
	if n := len(f["values"].([]any)); f["metadata_bytes"].(float64) != float64((n*2+7)/8) {
		t.Errorf("metadata %v bytes for %d values at 2 bits", f["metadata_bytes"], n)
	}
	why := values(t, d, "Why 2:8")
	if why["nm_2_8_cycles"].(float64) >= why["dense_cycles"].(float64) || math.Abs(why["ideal_training_speedup"].(float64)-2) > 1e-12 {
		t.Errorf("timing step %v", why)
	}
	if len(d.Figures) != 1 {
		t.Error("no mask figure")
	}
	p := run(t, "pquant", 0)
	dec := values(t, p, "The threshold decision")
	if dec["refetch"].(bool) != (dec["max"].(float64) < dec["tau"].(float64)) {
		t.Errorf("decision %v", dec)
	}
	cost := values(t, p, "Bytes saved")
	if cost["cycles_with_lsb"].(float64) <= cost["cycles_msb_only"].(float64) {
		t.Errorf("LSB refetch is free: %v", cost)
	}
	c := run(t, "cascade", 40)
	kept := values(t, c, "Summary")["kept_per_layer"].([]any)
	for i := 1; i < len(kept); i++ {
		if kept[i].(float64) > kept[i-1].(float64) {
			t.Errorf("tokens revived: %v", kept)
		}
	}
	if kept[len(kept)-1].(float64) != 10 || kept[0].(float64) != 40 {
		t.Errorf("kept %v, want 40 … 10", kept)
	}
}

// The pquant walk-through compares MSB-only keys with the codes it just
// split: the bit width in "Keys are N-bit codes" is the one the bytes are
// saved against (it once compared 10-bit codes with 12 bits).
func TestPQuantSavesAgainstItsOwnCodes(t *testing.T) {
	d := run(t, "pquant", 0)
	var text strings.Builder
	for _, s := range d.Steps {
		for _, l := range s.Lines {
			text.WriteString(l + "\n")
		}
	}
	codes := regexp.MustCompile(`Keys are (\d+)-bit codes`).FindStringSubmatch(text.String())
	against := regexp.MustCompile(`whole (\d+)-bit codes`).FindStringSubmatch(text.String())
	if codes == nil || against == nil || codes[1] != against[1] {
		t.Fatalf("codes %v, saving measured against %v:\n%s", codes, against, text.String())
	}
	v := values(t, d, "Bytes saved")
	if fmt.Sprint(v["full_code_bits"]) != codes[1] {
		t.Errorf("full_code_bits %v, codes of %s bits", v["full_code_bits"], codes[1])
	}
}
