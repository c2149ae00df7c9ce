package arch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Timeline records a run as Chrome/Perfetto trace events: a track per unit
// (PE array or attention modules, each operand buffer, each DRAM channel),
// a slice per job, tile or DRAM request with its bytes and MACs, and
// counters for DRAM bandwidth and buffer occupancy.
//
// The trace-event format requires the complete ("X") slices of one thread
// to nest or be disjoint; a unit with several operations in flight (a
// buffer filling the next tile while the array reads the current one, a
// DRAM channel with banks in parallel) breaks that rule on a single
// thread. So the recorder lays each unit's slices out on as many lanes as
// it needs — lane 1 keeps the unit's name, lane k is "name #k" — with the
// slices of one lane disjoint (greedy interval partitioning, which uses
// the fewest lanes). Occupancy counters are bounded by the capacity
// declared with SetCapacity: a tile larger than its buffer streams
// through it, so at most the capacity is resident.
//
// It keeps at most MaxEvents events; once full it records every k-th event
// per track (doubling k as it fills again) and says so in its metadata, so
// a file stays under about MaxEvents × 150 bytes.
type Timeline struct {
	MaxEvents int
	clockMHz  float64
	events    []tlEvent
	tracks    map[string]int // name → track id, for lookup only
	trackName []string
	seen      []int64 // events offered per track
	isSlice   []bool  // tracks that carry slices (counters do not)
	every     int64
	dropped   int64

	occupancy []int64 // bytes the callers say are resident, per track
	capacity  []int64 // declared capacity per track, 0 = none
	peak      []int64 // largest occupancy asked for, per track
	clamped   int64   // occupancy samples bounded by a capacity or by 0
}

type tlEvent struct {
	seq        int64 // per-track sequence number, for uniform decimation
	track      int
	ph         string
	name       string
	start, end float64 // cycles
	args       map[string]any
}

// MaxLanes bounds the lanes one unit's slices are spread over; a slice that
// would need more is dropped and counted in the file's metadata
// ("overlap_dropped"). Real units stay far below it.
const MaxLanes = 64

// NewTimeline makes a recorder; maxEvents ≤ 0 means 200,000 (~30 MB).
func NewTimeline(maxEvents int) *Timeline {
	if maxEvents <= 0 {
		maxEvents = 200000
	}
	return &Timeline{MaxEvents: maxEvents, tracks: map[string]int{}, every: 1, clockMHz: 1}
}

func (t *Timeline) track(name string) int {
	id, ok := t.tracks[name]
	if !ok {
		id = len(t.trackName)
		t.tracks[name] = id
		t.trackName = append(t.trackName, name)
		t.seen = append(t.seen, 0)
		t.isSlice = append(t.isSlice, false)
		t.occupancy = append(t.occupancy, 0)
		t.capacity = append(t.capacity, 0)
		t.peak = append(t.peak, 0)
	}
	return id
}

// SetCapacity declares how many bytes a buffer holds; its occupancy
// counter never reads more (nor below zero).
func (t *Timeline) SetCapacity(buffer string, bytes int64) {
	if t == nil {
		return
	}
	t.capacity[t.track(buffer)] = bytes
}

// add keeps every every-th event of each track; when the cap is reached it
// drops every other kept event of every track and doubles the stride, so
// the sample stays uniform over the run.
func (t *Timeline) add(e tlEvent) {
	seq := t.seen[e.track]
	t.seen[e.track]++
	if seq%t.every != 0 {
		t.dropped++
		return
	}
	e.seq = seq
	t.events = append(t.events, e)
	if len(t.events) < t.MaxEvents {
		return
	}
	t.every *= 2
	kept := t.events[:0]
	for _, ev := range t.events {
		if ev.seq%t.every == 0 {
			kept = append(kept, ev)
		} else {
			t.dropped++
		}
	}
	t.events = kept
}

// Slice records [start, end) cycles on a track.
func (t *Timeline) Slice(track, name string, start, end float64, args map[string]any) {
	if t == nil {
		return
	}
	id := t.track(track)
	t.isSlice[id] = true
	t.add(tlEvent{track: id, ph: "X", name: name, start: start, end: math.Max(start, end), args: args})
}

// Counter records a counter value at a cycle.
func (t *Timeline) Counter(name string, cycle float64, key string, v float64) {
	if t == nil {
		return
	}
	t.add(tlEvent{track: t.track(name), ph: "C", name: name, start: cycle, end: cycle, args: map[string]any{key: v}})
}

// Occupy tracks bytes resident in a buffer and emits its counter, bounded
// to [0, capacity].
func (t *Timeline) Occupy(buffer string, cycle float64, delta int64) {
	if t == nil {
		return
	}
	id := t.track(buffer)
	t.occupancy[id] += delta
	v := t.occupancy[id]
	t.peak[id] = max(t.peak[id], v)
	if c := t.capacity[id]; c > 0 && v > c {
		v = c
		t.clamped++
	}
	if v < 0 {
		v = 0
		t.clamped++
	}
	t.Counter(buffer+" occupancy", cycle, "bytes", float64(v))
}

// Sampled reports whether events were dropped to stay under MaxEvents.
func (t *Timeline) Sampled() (bool, int64) { return t.dropped > 0, t.dropped }

// outEvent is one event as written.
type outEvent struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  *float64       `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args,omitempty"`
}

// layout assigns every kept slice a lane of its track: slices sorted by
// start (longest first on ties) go to the lowest lane that is free by
// then. It returns each event's lane (-1: dropped, over MaxLanes) and the
// lane count per track.
func (t *Timeline) layout() (lane []int, lanes []int, overflow int64) {
	lane = make([]int, len(t.events))
	lanes = make([]int, len(t.trackName))
	byTrack := make([][]int, len(t.trackName))
	for i, e := range t.events {
		if e.ph == "X" {
			byTrack[e.track] = append(byTrack[e.track], i)
		}
	}
	for tr, idx := range byTrack {
		sort.SliceStable(idx, func(a, b int) bool {
			ea, eb := t.events[idx[a]], t.events[idx[b]]
			if ea.start != eb.start {
				return ea.start < eb.start
			}
			return ea.end > eb.end
		})
		var ends []float64
		for _, i := range idx {
			e := t.events[i]
			l := 0
			for l < len(ends) && ends[l] > e.start {
				l++
			}
			if l == len(ends) {
				if l == MaxLanes {
					lane[i] = -1
					overflow++
					continue
				}
				ends = append(ends, 0)
			}
			ends[l] = e.end
			lane[i] = l
		}
		lanes[tr] = len(ends)
	}
	return lane, lanes, overflow
}

// WriteJSON writes the trace-event file.
func (t *Timeline) WriteJSON(w io.Writer) error {
	lane, lanes, overflow := t.layout()
	// Thread ids: each slice track's lanes consecutively, in the order the
	// tracks first appeared; 0 is left to the counters.
	firstTid := make([]int, len(t.trackName))
	meta := []outEvent{{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]any{"name": "sparsesim accelerator"}}}
	next := 1
	for id, name := range t.trackName {
		if !t.isSlice[id] {
			continue
		}
		firstTid[id] = next
		for l := 0; l < max(1, lanes[id]); l++ {
			n := name
			if l > 0 {
				n = fmt.Sprintf("%s #%d", name, l+1)
			}
			meta = append(meta,
				outEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: next, Args: map[string]any{"name": n}},
				outEvent{Name: "thread_sort_index", Ph: "M", Pid: 1, Tid: next, Args: map[string]any{"sort_index": next}})
			next++
		}
	}
	order := make([]int, 0, len(t.events))
	for i := range t.events {
		if lane[i] >= 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return t.events[order[a]].start < t.events[order[b]].start })
	evs := meta
	for _, i := range order {
		e := t.events[i]
		o := outEvent{Name: e.name, Ph: e.ph, Ts: t.us(e.start), Pid: 1, Args: e.args}
		if e.ph == "X" {
			d := t.us(e.end) - o.Ts
			o.Dur = &d
			o.Tid = firstTid[e.track] + lane[i]
		}
		evs = append(evs, o)
	}
	capacity := map[string]any{}
	peak := map[string]any{}
	for id, name := range t.trackName {
		if t.capacity[id] > 0 {
			capacity[name+" occupancy"] = t.capacity[id]
			peak[name+" occupancy"] = t.peak[id]
		}
	}
	return json.NewEncoder(w).Encode(map[string]any{
		"traceEvents":     evs,
		"displayTimeUnit": "ns",
		"otherData": map[string]any{"generator": "sparsesim", "clock_mhz": t.clockMHz, "max_events": t.MaxEvents,
			"sampled_every": t.every, "dropped_slices": t.dropped, "overlap_dropped": overflow,
			"capacity_bytes": capacity, "occupancy_asked_peak_bytes": peak, "occupancy_clamped_samples": t.clamped},
	})
}

func (t *Timeline) us(cycle float64) float64 { return cycle / t.clockMHz }

// TimelineFile is a timeline as read back from its JSON.
type TimelineFile struct {
	TraceEvents []TimelineEvent `json:"traceEvents"`
	OtherData   map[string]any  `json:"otherData"`
}

// TimelineEvent is one trace event as read back.
type TimelineEvent struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args"`
}

// File is the timeline as a file reads back: WriteJSON then ParseTimeline
// (what tests and plots check).
func (t *Timeline) File() (TimelineFile, error) {
	var buf bytes.Buffer
	if err := t.WriteJSON(&buf); err != nil {
		return TimelineFile{}, err
	}
	return ParseTimeline(buf.Bytes())
}

// ParseTimeline reads a timeline file's JSON.
func ParseTimeline(b []byte) (TimelineFile, error) {
	var f TimelineFile
	err := json.Unmarshal(b, &f)
	return f, err
}

// TrackBase is a lane's unit name: "Accel.OfmapBuffer #2" → "Accel.OfmapBuffer".
func TrackBase(lane string) string {
	if i := strings.LastIndex(lane, " #"); i > 0 {
		return lane[:i]
	}
	return lane
}

// CheckTimeline checks a trace against the trace-event format rules a
// viewer relies on: every slice's thread is named; per thread, slices
// start in order and nest or are disjoint; per counter, timestamps are in
// order and values are finite, non-negative and, for a counter with a
// declared capacity, at most that capacity. It returns the first breach.
func CheckTimeline(f TimelineFile) error {
	const eps = 1e-6 // µs; ts and dur are quotients of integer cycles
	named := map[int]bool{}
	for _, e := range f.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			named[e.Tid] = true
		}
	}
	capacity := map[string]float64{}
	if c, ok := f.OtherData["capacity_bytes"].(map[string]any); ok {
		for k, v := range c {
			if x, ok := v.(float64); ok {
				capacity[k] = x
			}
		}
	}
	open := map[int][]float64{} // per thread: ends of the enclosing slices
	lastTs := map[string]float64{}
	for i, e := range f.TraceEvents {
		if e.Ph == "M" {
			continue
		}
		if math.IsNaN(e.Ts) || math.IsInf(e.Ts, 0) || e.Ts < 0 {
			return fmt.Errorf("event %d (%s): timestamp %g", i, e.Name, e.Ts)
		}
		switch e.Ph {
		case "X":
			if !named[e.Tid] {
				return fmt.Errorf("event %d (%s): thread %d has no thread_name", i, e.Name, e.Tid)
			}
			if e.Dur < 0 || math.IsNaN(e.Dur) || math.IsInf(e.Dur, 0) {
				return fmt.Errorf("event %d (%s): duration %g", i, e.Name, e.Dur)
			}
			key := fmt.Sprintf("thread %d", e.Tid)
			if last, ok := lastTs[key]; ok && e.Ts < last-eps {
				return fmt.Errorf("event %d (%s) on thread %d starts at %g µs, before the previous slice (%g µs)", i, e.Name, e.Tid, e.Ts, last)
			}
			lastTs[key] = e.Ts
			stack := open[e.Tid]
			for len(stack) > 0 && stack[len(stack)-1] <= e.Ts+eps {
				stack = stack[:len(stack)-1]
			}
			end := e.Ts + e.Dur
			if len(stack) > 0 && end > stack[len(stack)-1]+eps {
				return fmt.Errorf("event %d (%s) on thread %d: [%g, %g) µs overlaps a slice ending at %g µs without nesting", i, e.Name, e.Tid, e.Ts, end, stack[len(stack)-1])
			}
			open[e.Tid] = append(stack, end)
		case "C":
			key := "counter " + e.Name
			if last, ok := lastTs[key]; ok && e.Ts < last-eps {
				return fmt.Errorf("event %d: counter %s at %g µs, before its previous sample (%g µs)", i, e.Name, e.Ts, last)
			}
			lastTs[key] = e.Ts
			for k, v := range e.Args {
				x, ok := v.(float64)
				if !ok || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					return fmt.Errorf("event %d: counter %s %s = %v", i, e.Name, k, v)
				}
				if c, ok := capacity[e.Name]; ok && x > c {
					return fmt.Errorf("event %d: counter %s %s = %g exceeds the capacity %g", i, e.Name, k, x, c)
				}
			}
		default:
			return fmt.Errorf("event %d (%s): unexpected phase %q", i, e.Name, e.Ph)
		}
	}
	return nil
}
