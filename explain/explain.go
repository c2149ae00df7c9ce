package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sparsesim/sparsesim/internal/plotx"
	"github.com/sparsesim/sparsesim/internal/usererr"
)

// Step is one stage of an explanation.
type Step struct {
	Title  string         `json:"title"`
	Lines  []string       `json:"lines"`
	Values map[string]any `json:"values,omitempty"`
}

// Doc is a whole explanation.
type Doc struct {
	Topic   string   `json:"topic"`
	Title   string   `json:"title"`
	Seed    int64    `json:"seed"`
	Size    int      `json:"size"`
	Steps   []Step   `json:"steps"`
	Figures []string `json:"figures,omitempty"`
	figs    []*plotx.Figure
}

func (d *Doc) step(title string, values map[string]any, lines ...string) {
	d.Steps = append(d.Steps, Step{Title: title, Lines: lines, Values: values})
}

// Options are the example's knobs.
type Options struct {
	Seed      int64
	Size      int    // the example's size (topic-specific meaning; 0 = default)
	FigureDir string // write PNG figures here when set
}

// Topic is one explainable subject.
type Topic struct {
	Name, Summary string
	run           func(o Options) (*Doc, error)
}

var topics = map[string]Topic{}

func register(t Topic) { topics[t.Name] = t }

// Topics lists the topics, sorted.
func Topics() []Topic {
	var out []Topic
	for _, t := range topics {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Run explains a topic.
func Run(name string, o Options) (*Doc, error) {
	t, ok := topics[name]
	if !ok {
		var names []string
		for _, t := range Topics() {
			names = append(names, t.Name)
		}
		return nil, usererr.New("explain %s: unknown topic (allowed: %s)", name, strings.Join(names, ", "))
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	d, err := t.run(o)
	if err != nil {
		return nil, err
	}
	d.Topic, d.Seed = name, o.Seed
	return d, nil
}

// Text writes the doc for a terminal, wrapping prose at 80 columns.
func (d *Doc) Text(w io.Writer) error {
	fmt.Fprintf(w, "%s\n%s\n", d.Title, strings.Repeat("=", min(80, len([]rune(d.Title)))))
	for i, s := range d.Steps {
		fmt.Fprintf(w, "\n%d. %s\n", i+1, s.Title)
		for _, l := range s.Lines {
			for _, wl := range wrap(l, 78) {
				fmt.Fprintf(w, "  %s\n", wl)
			}
		}
	}
	for _, f := range d.Figures {
		fmt.Fprintf(w, "\nfigure: %s\n", f)
	}
	return nil
}

// JSON writes the doc as data.
func (d *Doc) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// wrap breaks prose at width; lines that start with a space (matrices,
// wavefronts) are kept as they are.
func wrap(s string, width int) []string {
	if len([]rune(s)) <= width || strings.HasPrefix(s, " ") {
		return []string{s}
	}
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			out = append(out, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(out, line)
}

// matrix renders a small integer matrix, one row a line.
func matrix(m [][]float64, format string) []string {
	var out []string
	for _, row := range m {
		var cells []string
		for _, v := range row {
			cells = append(cells, fmt.Sprintf(format, v))
		}
		out = append(out, " "+strings.Join(cells, " "))
	}
	return out
}

func vector(v []float64, format string) string {
	var cells []string
	for _, x := range v {
		cells = append(cells, fmt.Sprintf(format, x))
	}
	return "[" + strings.Join(cells, " ") + "]"
}
