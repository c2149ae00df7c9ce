package rtl

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// arraySources are the files of the co-simulation bench, in compile order.
var arraySources = []string{"sa_tb.v", "sa_ctrl.v", "sa_ctrl_db.v", "sa_array.v", "sa_pe.v"}

// CosimResult is what `sparsesim rtl cosim` prints.
type CosimResult struct {
	Rows      int    `json:"rows"`
	Cols      int    `json:"cols"`
	NM        string `json:"nm"`
	GEMM      string `json:"gemm"` // MxNxK
	Dataflow  string `json:"dataflow"`
	Seed      int64  `json:"seed"`
	Simulator string `json:"simulator"`
	Folds     int    `json:"folds"`
	// WeightBuffers is 1 (one weight register per PE) or 2 (shadow
	// weights: sa_ctrl_db, the PE's two banks).
	WeightBuffers int `json:"weight_buffers"`
	// RTLCycles is the cycle index, counted from the first preload cycle,
	// in which the last output leaves the array (and is written to the
	// output memory) — the span SCALE-Sim's convention counts.
	RTLCycles int64 `json:"rtl_cycles"`
	// ModelCycles is the simulator's (arch.Simulate, ideal DRAM) compute
	// cycles for the layer; ModelElapsed its first-action-to-last-write.
	ModelCycles  int64 `json:"model_cycles"`
	ModelElapsed int64 `json:"model_elapsed_cycles"`
	// ScheduleCycles is the cycles the array's own timing rule gives for
	// the mapper's folds, a reference independent of the model: with one
	// weight buffer Σ dataflow.FoldCycles, with two ShadowScheduleCycles.
	ScheduleCycles int64 `json:"schedule_cycles"`
	CyclesMatch    bool  `json:"cycles_match"`
	OutputsMatch   bool  `json:"outputs_match"`
	Mismatches     int   `json:"mismatches"`
	MaxAbsError    int64 `json:"max_abs_error"`
	// Host timings (not part of the deterministic result).
	BuildCached  bool    `json:"build_cached"`
	BuildSeconds float64 `json:"build_seconds"`
	SimSeconds   float64 `json:"sim_seconds"`
}

// CacheDir is where verilator builds are kept, one per parameter set:
// $SPARSESIM_RTL_CACHE, else the user cache directory.
func CacheDir() string {
	if d := os.Getenv("SPARSESIM_RTL_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sparsesim", "rtl")
	}
	return filepath.Join(os.TempDir(), "sparsesim-rtl-cache")
}

func runIn(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func writeSources(dir string) error {
	for _, f := range arraySources {
		src, err := sources.ReadFile("src/" + f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// verilatorFlags build the bench. The C++ is compiled with little
// optimisation: a co-simulation runs thousands of cycles, so compile time,
// not simulation time, is what the user waits for.
var verilatorFlags = []string{"--binary", "-Wno-fatal", "-Wno-lint", "-Wno-style", "-j", "2", "--top-module", "sa_tb",
	"-Mdir", "obj", "-o", "sim", "-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"}

// buildKey hashes the sources, the parameters, the build flags and the
// verilator version.
func buildKey(p ArrayParams) (string, error) {
	h := sha256.New()
	ver, err := exec.Command("verilator", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("verilator --version: %v", err)
	}
	h.Write(ver)
	for _, f := range arraySources {
		src, _ := sources.ReadFile("src/" + f)
		h.Write([]byte(f))
		h.Write(src)
	}
	h.Write([]byte(strings.Join(p.List(), " ")))
	h.Write([]byte(strings.Join(verilatorFlags, " ")))
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// VerilatorBuild returns the bench binary for p, building it into the cache
// on first use (built in a scratch directory, then renamed into place so a
// half-built binary is never used).
func VerilatorBuild(p ArrayParams) (bin string, cached bool, err error) {
	key, err := buildKey(p)
	if err != nil {
		return "", false, err
	}
	root := CacheDir()
	final := filepath.Join(root, fmt.Sprintf("sa-R%d-C%d-M%d-N%d-WB%d-%s", p.R, p.C, p.M, p.NN, p.WB, key))
	bin = filepath.Join(final, "obj", "sim")
	if _, err := os.Stat(bin); err == nil {
		return bin, true, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", false, err
	}
	tmp, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmp)
	if err := writeSources(tmp); err != nil {
		return "", false, err
	}
	args := append([]string(nil), verilatorFlags...)
	for _, kv := range p.List() {
		args = append(args, "-G"+kv)
	}
	args = append(args, arraySources...)
	if out, err := runIn(tmp, "verilator", args...); err != nil {
		return "", false, fmt.Errorf("verilator: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(bin); statErr == nil { // built concurrently by another run
			return bin, true, nil
		}
		return "", false, err
	}
	return bin, false, nil
}

var cyclesLine = regexp.MustCompile(`(?m)^CYCLES (\d+)\s*$`)

// Cosim runs one co-simulation under sim ("verilator" or "iverilog") and
// compares cycles with the model and outputs with the Go kernels.
func Cosim(s CosimSpec, sim string) (*CosimResult, error) { return cosim(s, sim, nil) }

// cosim is Cosim with a hook that may alter the images before the run (a
// test corrupts one to show a wrong result is caught).
func cosim(s CosimSpec, sim string, mutate func(*Images)) (*CosimResult, error) {
	im, err := BuildImages(s)
	if err != nil {
		return nil, err
	}
	if mutate != nil {
		mutate(im)
	}
	compute, elapsed, err := ModelCycles(s)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	r := &CosimResult{Rows: s.Rows, Cols: s.Cols, NM: s.Pattern.String(), GEMM: fmt.Sprintf("%dx%dx%d", s.M, s.N, s.K),
		Dataflow: "ws", Seed: s.Seed, Simulator: sim, Folds: im.Folds, WeightBuffers: s.weightBuffers(),
		ModelCycles: compute, ModelElapsed: elapsed, ScheduleCycles: im.ScheduleCycles}
	run, err := os.MkdirTemp("", "sparsesim-cosim-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(run)
	for _, f := range [][2]string{{"sched.hex", im.Sched}, {"w.hex", im.Weights}, {"a.hex", im.Acts}} {
		if err := os.WriteFile(filepath.Join(run, f[0]), []byte(f[1]), 0o644); err != nil {
			return nil, err
		}
	}
	plus := []string{fmt.Sprintf("+ns=%d", im.NSched), fmt.Sprintf("+nw=%d", im.NW), fmt.Sprintf("+na=%d", im.NA),
		fmt.Sprintf("+no=%d", im.NO), fmt.Sprintf("+limit=%d", 2*im.ScheduleCycles+1000)}
	t0 := time.Now()
	var out string
	switch sim {
	case "verilator":
		bin, cached, err := VerilatorBuild(im.Params)
		if err != nil {
			return nil, err
		}
		r.BuildCached = cached
		r.BuildSeconds = time.Since(t0).Seconds()
		t0 = time.Now()
		if out, err = runIn(run, bin, plus...); err != nil {
			return nil, fmt.Errorf("verilated bench: %v\n%s", err, out)
		}
	case "iverilog":
		if err := writeSources(run); err != nil {
			return nil, err
		}
		args := []string{"-g2005", "-s", "sa_tb", "-o", "sim.vvp"}
		for _, kv := range im.Params.List() {
			args = append(args, "-Psa_tb."+kv)
		}
		if out, err := runIn(run, "iverilog", append(args, arraySources...)...); err != nil {
			return nil, fmt.Errorf("iverilog: %v\n%s", err, out)
		}
		r.BuildSeconds = time.Since(t0).Seconds()
		t0 = time.Now()
		if out, err = runIn(run, "vvp", append([]string{"-n", "sim.vvp"}, plus...)...); err != nil {
			return nil, fmt.Errorf("vvp: %v\n%s", err, out)
		}
	default:
		return nil, fmt.Errorf("unknown simulator %q (allowed: %s)", sim, strings.Join(Simulators, ", "))
	}
	r.SimSeconds = time.Since(t0).Seconds()
	m := cyclesLine.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s bench printed no CYCLES line:\n%s", sim, out)
	}
	r.RTLCycles, _ = strconv.ParseInt(m[1], 10, 64)
	r.CyclesMatch = r.RTLCycles == r.ModelCycles
	got, err := readOutputs(filepath.Join(run, "out.hex"), im.NO)
	if err != nil {
		return nil, err
	}
	for i, want := range im.Want {
		if d := got[i] - want; d != 0 {
			r.Mismatches++
			r.MaxAbsError = max(r.MaxAbsError, max(d, -d))
		}
	}
	r.OutputsMatch = r.Mismatches == 0
	return r, nil
}

// readOutputs parses the bench's $writememh of the 32-bit partial sums
// (two's complement).
func readOutputs(path string, n int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench wrote no outputs: %v", err)
	}
	defer f.Close()
	var vals []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "@") {
			continue
		}
		if strings.ContainsAny(line, "xXzZ") {
			vals = append(vals, 1<<40) // unknown bits: never equal to a real result
			continue
		}
		v, err := strconv.ParseUint(line, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a hex word", path, line)
		}
		vals = append(vals, int64(int32(uint32(v))))
	}
	if len(vals) != n {
		return nil, fmt.Errorf("%s: %d outputs, want %d", path, len(vals), n)
	}
	return vals, sc.Err()
}
