package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Width is the terminal width every table and line of the text reports
// keeps within, so they read in an 80-column terminal without wrapping
// mid-cell.
const Width = 80

// minWrap is the narrowest a wrapped column may become: below it a cell
// breaks into so many lines that the table is harder to read than one
// that overflows.
const minWrap = 12

// FitTable is a box table (NewTable's style) whose Wrap column is wrapped
// onto several lines when the table would be wider than Width. Cells are
// text; a cell may already hold line breaks.
type FitTable struct {
	Header, Footer []string
	Rows           [][]string
	// Wrap is the column narrowed to fit; -1 wraps nothing.
	Wrap int
}

// Render fits the table and writes it.
func (t FitTable) Render(w io.Writer) error {
	rows := t.Rows
	if t.Wrap >= 0 {
		rows = fitColumn(t.Header, t.Footer, t.Rows, t.Wrap)
	}
	tb := NewTable(w)
	tb.Header(anys(t.Header)...)
	for _, r := range rows {
		if err := tb.Append(anys(r)...); err != nil {
			return err
		}
	}
	if t.Footer != nil {
		tb.Footer(anys(t.Footer)...)
	}
	return tb.Render()
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// cellWidth is the widest line of a cell, in runes (the tables hold no
// double-width characters).
func cellWidth(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}

// fitColumn returns rows with column col's cells wrapped so that the box
// table (one space of padding each side of a cell, a rule between and
// around columns) is at most Width wide. The header and footer are not
// wrapped: they bound the column's width from below.
func fitColumn(header, footer []string, rows [][]string, col int) [][]string {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header, footer}, rows...) {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], cellWidth(c))
			}
		}
	}
	total := 1
	for _, w := range widths {
		total += w + 3
	}
	if total <= Width || col >= len(widths) {
		return rows
	}
	room := widths[col] - (total - Width)
	if col < len(header) {
		room = max(room, cellWidth(header[col]))
	}
	if col < len(footer) {
		room = max(room, cellWidth(footer[col]))
	}
	room = max(room, minWrap)
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string(nil), r...)
		if col < len(r) {
			out[i][col] = strings.Join(Wrap(r[col], room), "\n")
		}
	}
	return out
}

// Wrap breaks text into lines of at most width runes: at spaces, else
// after a '.' or '/', else after a '_' or '-' (layer names, paths), else
// anywhere.
// Existing line breaks are kept.
func Wrap(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		lines = append(lines, wrapPara(para, width)...)
	}
	return lines
}

func wrapPara(s string, width int) []string { return wrapHanging(s, width, width) }

// wrapHanging is wrapPara with the first line first runes wide and the
// others rest.
func wrapHanging(s string, first, rest int) []string {
	var lines []string
	width := first
	for utf8.RuneCountInString(s) > width {
		r := []rune(s)
		cut, skip := -1, 0
		for i := width; i > 0; i-- { // the last space within width
			if r[i] == ' ' && !unitAt(r, i) {
				cut, skip = i, 1
				break
			}
		}
		// Else after the last separator: '.' and '/' part names more
		// naturally than '_' and '-' (conv1.bwd_weight, not conv1.bwd_).
		for _, seps := range []string{"./", "_-"} {
			for i := width - 1; cut < 0 && i > 0; i-- {
				if strings.ContainsRune(seps, r[i]) {
					cut = i + 1
				}
			}
		}
		if cut <= 0 {
			cut = width
		}
		lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
		s = strings.TrimLeft(string(r[cut+skip:]), " ")
		width = rest
	}
	return append(lines, s)
}

// lines writes prose within Width: each line of a Printf is a paragraph,
// wrapped at spaces, its continuation lines indented by two spaces.
type lines struct{ w io.Writer }

func (l lines) Printf(format string, a ...any) {
	text := strings.TrimSuffix(fmt.Sprintf(format, a...), "\n")
	for _, para := range strings.Split(text, "\n") {
		for i, ln := range wrapHanging(para, Width, Width-2) {
			if i > 0 {
				ln = "  " + ln
			}
			fmt.Fprintln(l.w, ln)
		}
	}
}

// units are the words a number keeps on its line ("24 GB", "1.4 MiB").
var units = map[string]bool{"B": true, "KB": true, "MB": true, "GB": true, "TB": true, "KiB": true, "MiB": true,
	"GiB": true, "TiB": true, "GB/s": true, "MHz": true, "GHz": true, "nm": true, "W": true, "s": true, "ms": true,
	"us": true, "J": true, "mJ": true, "uJ": true, "nJ": true, "pJ": true, "cycles": true}

// unitAt reports whether the space at r[i] joins a number to its unit.
func unitAt(r []rune, i int) bool {
	if i == 0 || r[i-1] < '0' || r[i-1] > '9' {
		return false
	}
	j := i + 1
	for j < len(r) && r[j] != ' ' {
		j++
	}
	return units[strings.TrimRight(string(r[i+1:j]), ",;:)")]
}
