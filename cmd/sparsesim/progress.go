package main

import (
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Progress on a terminal. Every command runs under one progress (started
// by userRunE): on a terminal, once the command has taken progressDelay,
// stderr shows a spinner, what is being worked on and the elapsed time,
// redrawn on a timer, so no run is silent however long it is; a command
// names its steps with progressOf(cmd).set. Piped or redirected stderr
// gets nothing and the command's writers are left as they are, so
// reports stay byte-identical. Work size is checked up front (package
// limits); this is for runs that were allowed to be long.

// isTerminal reports whether w is a terminal. A variable so tests can
// fake a terminal (no pty needed) to check which commands show progress.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressShown, when set (by tests), is told each label a command's
// progress takes, as it is set rather than when it is drawn, so a test
// can see what a command shows without depending on timing.
var progressShown func(label string)

// progressDelay is how long a command runs before its spinner appears:
// quick commands never flash one.
const progressDelay = time.Second

// progresses holds the running commands' progress (one execution's).
var progresses = map[*cobra.Command]*progress{}

// progressOf returns cmd's progress; off for a command not started by
// userRunE (tests that call a body directly).
func progressOf(cmd *cobra.Command) *progress {
	if p, ok := progresses[cmd]; ok {
		return p
	}
	return &progress{}
}

// progress is a command's spinner. The bar draws through gate, and every
// other write to the terminal (the command's stdout and stderr, wrapped
// by writer) clears the spinner's line first under the same lock, so the
// spinner never lands inside output; it redraws on its next tick.
type progress struct {
	on       bool      // stderr is a terminal
	term     io.Writer // the terminal (stderr)
	mu       sync.Mutex
	label    string
	bar      *progressbar.ProgressBar
	timer    *time.Timer
	stopping bool // stop has begun: no bar is made after it
	stopped  bool // the bar is cleared: gate drops its late redraws
}

// startProgress starts a command's progress on stderr labelled label;
// it is off unless stderr is a terminal.
func startProgress(stderr io.Writer, label string) *progress {
	p := &progress{on: isTerminal(stderr), term: stderr}
	if !p.on {
		return p
	}
	p.set(label)
	p.timer = time.AfterFunc(progressDelay, p.draw)
	return p
}

// draw makes the spinner once the command has run progressDelay.
func (p *progress) draw() {
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(gate{p}), progressbar.OptionSetDescription(p.label),
		progressbar.OptionSpinnerType(14), progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetSpinnerChangeInterval(200*time.Millisecond))
	bar := p.bar
	p.mu.Unlock()
	// The bar takes its own lock and then writes through gate (p.mu):
	// never call it with p.mu held.
	_ = bar.RenderBlank()
}

// set names what the command is doing now.
func (p *progress) set(label string) {
	if !p.on {
		return
	}
	p.mu.Lock()
	p.label = label
	bar := p.bar
	if progressShown != nil {
		progressShown(label)
	}
	p.mu.Unlock()
	if bar != nil {
		bar.Describe(label)
	}
}

// stop clears the spinner for good.
func (p *progress) stop() {
	if !p.on {
		return
	}
	p.timer.Stop()
	p.mu.Lock()
	p.stopping = true
	bar := p.bar
	p.mu.Unlock()
	if bar != nil {
		_ = bar.Finish() // clears the line (OptionClearOnFinish), through gate
	}
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
}

// handOff stops the spinner for a command that draws its own progress
// (sweep's bar with ETA) and returns where to draw it and whether that is
// a terminal.
func (p *progress) handOff(label string) (w io.Writer, terminal bool) {
	if !p.on {
		return p.term, false
	}
	p.set(label)
	p.stop()
	return p.term, true
}

// writer wraps one of the command's writers so a write first clears the
// spinner's line; off the terminal it is w itself.
func (p *progress) writer(w io.Writer) io.Writer {
	if !p.on {
		return w
	}
	return clearing{p, w}
}

type clearing struct {
	p *progress
	w io.Writer
}

func (c clearing) Write(b []byte) (int, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.bar != nil && !c.p.stopped {
		_, _ = io.WriteString(c.p.term, "\r\033[K")
	}
	return c.w.Write(b)
}

// gate is the bar's writer: the terminal, under the progress's lock, and
// nothing once the spinner is stopped (a redraw already in flight).
type gate struct{ p *progress }

func (g gate) Write(b []byte) (int, error) {
	g.p.mu.Lock()
	defer g.p.mu.Unlock()
	if g.p.stopped {
		return len(b), nil
	}
	return g.p.term.Write(b)
}

// commandLabel is a command's default progress label: its path without
// the program name ("rtl cosim").
func commandLabel(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
