package systolic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/sparsesim/sparsesim/arch"
	"github.com/sparsesim/sparsesim/configs"
	"github.com/sparsesim/sparsesim/workloads"
)

// BoundaryState is everything about the machine at a layer's start that the
// layer's timing can depend on. Today every layer starts with the array
// idle, no tile in flight, every DRAM channel free and no operand resident
// on chip ("drained"); what differs between starts is which DRAM channel
// each buffer's next transaction goes to. The memory model's rework (issue
// 12: activations resident across layers, cross-layer prefetch) extends
// this value, and memoKey with it.
type BoundaryState struct {
	// Residency names what is on chip at the start: "drained", or
	// inputHeld (the previous layer's output kept as this input,
	// StartAfter).
	Residency string
	// NextChannel is each operand buffer's next DRAM channel.
	NextChannel [3]int
}

// DrainedStart is the state of a freshly built accelerator.
var DrainedStart = BoundaryState{Residency: "drained"}

// ConfigFingerprint identifies a configuration's every field.
func ConfigFingerprint(cfg *configs.Config) string {
	b, _ := json.Marshal(cfg)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

// memoKey is the one place that decides when two layers are the same
// work: the layer's full description except its name, the configuration,
// and the boundary state. A name reaches the timing model only through a
// per-layer fixed mapping (mapping.layers), which is then in the key.
type memoKey struct {
	config  string
	layer   workloads.Layer
	conv    workloads.ConvGeom // by value: the layer's pointer differs per layer
	start   BoundaryState
	mapping configs.LayerMapping
}

func keyOf(cfg *configs.Config, cfgPrint string, l workloads.Layer, b BoundaryState) memoKey {
	k := memoKey{config: cfgPrint, start: b}
	if cfg.Mapping.Search == configs.MappingFixed && len(cfg.Mapping.Layers) > 0 {
		k.mapping = cfg.Mapping.LayerMappingOf(l.Name)
		k.mapping.Layer = ""
	}
	l.Name = ""
	if l.Conv != nil {
		k.conv = *l.Conv
		l.Conv = nil
	}
	k.layer = l
	return k
}

// Memoizable reports whether a layer's result is a function of (layer,
// config, boundary state) alone on cfg. It is not with the detailed DRAM
// model (bank and row state and addresses carry over), nor with SAT's
// interleave mapping (a layer's plan depends on the layer before it), nor
// on the attention engine.
// Nor when the next layer's weights are prefetched during a layer's tail
// (memory.prefetch_next_layer): the boundary then does not drain.
func Memoizable(cfg *configs.Config) bool {
	return cfg.Engine == "systolic" && cfg.DRAM.Model != configs.DRAMDetailed && !cfg.SAT.InterleaveMapping &&
		!cfg.Memory.PrefetchNextLayer
}

// inputHeld is the residency of a layer that starts with its whole input
// on chip (memory.keep_activations).
const inputHeld = "input-held"

// memoEntry is one layer simulated alone from a boundary state.
type memoEntry struct {
	stats    arch.LayerStats
	channels []arch.ChannelStats
	end      BoundaryState
	events   int64 // the engine events of its simulation
	ahead    bool  // made by Precompute and not asked for yet
}

// LayerMemo simulates each distinct (layer, boundary state) once for one
// configuration and hands the measurements out again.
type LayerMemo struct {
	cfg     *configs.Config
	print   string
	entries map[memoKey]memoEntry
	// from is a finished table on the same configuration whose entries
	// this one copies instead of simulating them again (Borrow); lent
	// counts the copies.
	from *LayerMemo
	lent int64
	// Simulated and Reused count layers run and layers answered from the
	// table; Events are the engine events of the runs.
	Simulated, Reused, Events int64
}

// Borrow makes m copy from's entries instead of simulating the same
// layers again: from is another run's table on the same configuration
// that is no longer written (the dense baseline of a sparse run). A
// copied entry is the simulation m would have run — the same key, a
// deterministic engine — and counts in m's Simulated and Events with its
// simulation's events, so m's counters stay its own run's distinct work,
// the same as without the loan. Tables of different configurations lend
// nothing.
func (m *LayerMemo) Borrow(from *LayerMemo) {
	if from != nil && from.print == m.print && from != m {
		m.from = from
	}
}

// borrowed is from's entry for key, if m has a lender that holds it.
// Lent is how many layers this table copied from the one it borrows from.
func (m *LayerMemo) Lent() int64 { return m.lent }

// Lender is the table this one borrows from (nil: none, or one of another
// configuration, which Borrow refuses).
func (m *LayerMemo) Lender() *LayerMemo { return m.from }

func (m *LayerMemo) borrowed(key memoKey) (memoEntry, bool) {
	if m.from == nil {
		return memoEntry{}, false
	}
	e, ok := m.from.entries[key]
	e.ahead = false
	return e, ok
}

// NewLayerMemo starts an empty table for cfg.
func NewLayerMemo(cfg *configs.Config) *LayerMemo {
	return &LayerMemo{cfg: cfg, print: ConfigFingerprint(cfg), entries: map[memoKey]memoEntry{}}
}

// Layer returns l's stats when it starts in state start, and the state it
// leaves. The stats carry l itself and a StartCycle of 0.
func (m *LayerMemo) Layer(l workloads.Layer, start BoundaryState) (arch.LayerStats, []arch.ChannelStats, BoundaryState, error) {
	key := keyOf(m.cfg, m.print, l, start)
	if e, ok := m.entries[key]; ok {
		if e.ahead {
			// Simulated by Precompute: its first use is not a reuse.
			e.ahead = false
			m.entries[key] = e
		} else {
			m.Reused++
		}
		e.stats.Layer = l
		return e.stats, e.channels, e.end, nil
	}
	e, ok := m.borrowed(key)
	if ok {
		m.lent++
	} else {
		var err error
		if e, err = m.simulate(l, start); err != nil {
			return arch.LayerStats{}, nil, BoundaryState{}, err
		}
	}
	m.entries[key] = e
	m.Simulated++
	m.Events += e.events
	e.stats.Layer = l
	return e.stats, e.channels, e.end, nil
}

// simulate runs l alone on a fresh accelerator put in state start.
func (m *LayerMemo) simulate(l workloads.Layer, start BoundaryState) (memoEntry, error) {
	a, err := Build(m.cfg)
	if err != nil {
		return memoEntry{}, err
	}
	for o := range a.Buffers {
		a.Buffers[o].NextChannel = start.NextChannel[o]
	}
	a.keepFirstInput = start.Residency == inputHeld
	res, err := a.Run(workloads.Workload{Name: l.Name, Layers: []workloads.Layer{l}})
	if err != nil {
		return memoEntry{}, err
	}
	return memoEntry{stats: res.Layers[0], channels: res.Channels, end: a.boundary(), events: res.Events}, nil
}

// Precompute simulates, on up to workers goroutines, every layer of ls not
// yet in the table as it starts in state start. Each is its own engine
// from the same state, so the entries are exactly what Layer would make
// one at a time; a later Layer call with another start state misses them
// and simulates as usual, so guessing the state wrong costs time, never
// correctness.
func (m *LayerMemo) Precompute(ls []workloads.Layer, start BoundaryState, workers int) error {
	var todo []workloads.Layer
	seen := map[memoKey]bool{}
	for _, l := range ls {
		k := keyOf(m.cfg, m.print, l, start)
		_, lent := m.borrowed(k)
		if _, ok := m.entries[k]; !ok && !lent && !seen[k] {
			seen[k] = true
			todo = append(todo, l)
		}
	}
	if len(todo) < 2 || workers < 2 {
		return nil
	}
	type done struct {
		e   memoEntry
		err error
	}
	out := make([]done, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i].e, out[i].err = m.simulate(todo[i], start)
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	// Entered in list order, so counters and the table do not depend on
	// which goroutine finished first.
	for i, l := range todo {
		if out[i].err != nil {
			return out[i].err
		}
		e := out[i].e
		e.ahead = true
		m.entries[keyOf(m.cfg, m.print, l, start)] = e
		m.Simulated++
		m.Events += e.events
	}
	return nil
}

// StartAfter is the state layer cur starts in when it runs right after
// layer prev (nil: cur is the first) on one engine that prev left in
// state end: end, with cur's input held on chip when KeepsInput says the
// engine keeps it. Driving a LayerMemo with it gives each layer the start
// the layers run as one workload on one engine give it.
func StartAfter(cfg *configs.Config, prev *workloads.Layer, cur workloads.Layer, end BoundaryState) BoundaryState {
	end.Residency = DrainedStart.Residency
	if prev != nil && KeepsInput(cfg, *prev, cur) {
		end.Residency = inputHeld
	}
	return end
}

// boundary reads the state the accelerator is in between layers.
func (a *Accelerator) boundary() BoundaryState {
	b := DrainedStart
	for o := range a.Buffers {
		b.NextChannel[o] = a.Buffers[o].NextChannel
	}
	return b
}

// SimulateMemo is Simulate with identical layers simulated once: the
// result equals Simulate's layer for layer and byte for byte (Events
// count only the simulations actually run).
func SimulateMemo(cfg *configs.Config, w workloads.Workload) (*arch.Result, error) {
	if !Memoizable(cfg) {
		return Simulate(cfg, w)
	}
	start := time.Now()
	jobs, err := planWorkload(cfg, w) // the same up-front checks as Run
	if err != nil {
		return nil, err
	}
	m := NewLayerMemo(cfg)
	r := &arch.Result{Config: cfg, Workload: w}
	state := DrainedStart
	var cycle int64
	for i, l := range w.Layers {
		state.Residency = DrainedStart.Residency
		if jobs[i].keepInput {
			state.Residency = inputHeld
		}
		st, ch, end, err := m.Layer(l, state)
		if err != nil {
			return nil, err
		}
		st.StartCycle = cycle
		cycle += st.Elapsed
		state = end
		r.Layers = append(r.Layers, st)
		if r.Channels == nil {
			r.Channels = make([]arch.ChannelStats, len(ch))
		}
		for i, c := range ch {
			r.Channels[i].ReadBytes += c.ReadBytes
			r.Channels[i].WriteBytes += c.WriteBytes
			r.Channels[i].Transactions += c.Transactions
			r.Channels[i].BusyCycles += c.BusyCycles
		}
	}
	r.Events = m.Events
	r.WallSeconds = time.Since(start).Seconds()
	return r, nil
}
