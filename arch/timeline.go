package arch

import (
	"encoding/json"
	"io"
	"sort"
)

// Timeline records a run as Chrome/Perfetto trace events: a track per unit
// (PE array or attention modules, each operand buffer, each DRAM channel),
// a slice per job, tile or DRAM request with its bytes and MACs, and
// counters for DRAM bandwidth and buffer occupancy. It keeps at most
// MaxEvents events; once full it records every k-th slice per track
// (doubling k as it fills again) and says so in its metadata, so a file
// stays under about MaxEvents × 150 bytes.
type Timeline struct {
	MaxEvents int
	clockMHz  float64
	events    []tlEvent
	tracks    map[string]int
	trackName []string
	seen      map[int]int64 // slices offered per track
	every     int64
	dropped   int64
	occupancy map[int]int64
	isSlice   map[int]bool // tracks that carry slices (counters do not)
}

type tlEvent struct {
	seq  int64          // per-track sequence number, for uniform decimation
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args,omitempty"`
}

// NewTimeline makes a recorder; maxEvents ≤ 0 means 200,000 (~30 MB).
func NewTimeline(maxEvents int) *Timeline {
	if maxEvents <= 0 {
		maxEvents = 200000
	}
	return &Timeline{MaxEvents: maxEvents, tracks: map[string]int{}, seen: map[int]int64{}, every: 1,
		occupancy: map[int]int64{}, isSlice: map[int]bool{}}
}

func (t *Timeline) track(name string) int {
	id, ok := t.tracks[name]
	if !ok {
		id = len(t.trackName)
		t.tracks[name] = id
		t.trackName = append(t.trackName, name)
	}
	return id
}

func (t *Timeline) us(cycle float64) float64 { return cycle / t.clockMHz }

// add keeps every every-th event of each track; when the cap is reached it
// drops every other kept event of every track and doubles the stride, so
// the sample stays uniform over the run.
func (t *Timeline) add(track string, e tlEvent) {
	id := t.track(track)
	seq := t.seen[id]
	t.seen[id]++
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

// slice records [start, end) cycles on a track.
func (t *Timeline) slice(track, name string, start, end float64, args map[string]any) {
	if t == nil {
		return
	}
	t.isSlice[t.track(track)] = true
	t.add(track, tlEvent{Name: name, Ph: "X", Ts: t.us(start), Dur: t.us(end - start), Pid: 1, Tid: t.track(track), Args: args})
}

// counter records a counter value at a cycle.
func (t *Timeline) counter(name string, cycle float64, key string, v float64) {
	if t == nil {
		return
	}
	t.add(name, tlEvent{Name: name, Ph: "C", Ts: t.us(cycle), Pid: 1, Args: map[string]any{key: v}})
}

// occupy tracks bytes resident in a buffer and emits its counter.
func (t *Timeline) occupy(buffer string, cycle float64, delta int64) {
	if t == nil {
		return
	}
	id := t.track(buffer)
	t.occupancy[id] += delta
	t.counter(buffer+" occupancy", cycle, "bytes", float64(t.occupancy[id]))
}

// Sampled reports whether slices were dropped to stay under MaxEvents.
func (t *Timeline) Sampled() (bool, int64) { return t.dropped > 0, t.dropped }

// WriteJSON writes the trace-event file.
func (t *Timeline) WriteJSON(w io.Writer) error {
	meta := []tlEvent{{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]any{"name": "sparsesim accelerator"}}}
	for id, name := range t.trackName {
		if !t.isSlice[id] {
			continue
		}
		meta = append(meta, tlEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: id, Args: map[string]any{"name": name}})
	}
	evs := append(meta, t.events...)
	sort.SliceStable(evs[len(meta):], func(i, j int) bool { return evs[len(meta)+i].Ts < evs[len(meta)+j].Ts })
	return json.NewEncoder(w).Encode(map[string]any{
		"traceEvents":     evs,
		"displayTimeUnit": "ns",
		"otherData": map[string]any{"generator": "sparsesim", "clock_mhz": t.clockMHz, "max_events": t.MaxEvents,
			"sampled_every": t.every, "dropped_slices": t.dropped},
	})
}

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

// ParseTimeline reads a timeline file's JSON.
func ParseTimeline(b []byte) (TimelineFile, error) {
	var f TimelineFile
	err := json.Unmarshal(b, &f)
	return f, err
}
