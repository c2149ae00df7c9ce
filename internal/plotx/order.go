package plotx

import (
	"sort"
	"strconv"
	"unicode"
)

// SortLabels orders series or category names for a reader: by value when
// every name is a number (8, 16, 32, 64, 128), else naturally, digit runs
// compared as numbers ("2:4" < "2:8" < "2:16", "dense" after them).
func SortLabels(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return LabelLess(s[i], s[j]) })
}

// LabelLess is SortLabels' order.
func LabelLess(a, b string) bool {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	switch {
	case ea == nil && eb == nil:
		if fa != fb {
			return fa < fb
		}
		return a < b
	case ea == nil:
		return true
	case eb == nil:
		return false
	}
	ra, rb := []rune(a), []rune(b)
	i, j := 0, 0
	for i < len(ra) && j < len(rb) {
		if unicode.IsDigit(ra[i]) && unicode.IsDigit(rb[j]) {
			si := i
			for i < len(ra) && unicode.IsDigit(ra[i]) {
				i++
			}
			sj := j
			for j < len(rb) && unicode.IsDigit(rb[j]) {
				j++
			}
			na, _ := strconv.ParseFloat(string(ra[si:i]), 64)
			nb, _ := strconv.ParseFloat(string(rb[sj:j]), 64)
			if na != nb {
				return na < nb
			}
			continue
		}
		if ra[i] != rb[j] {
			return ra[i] < rb[j]
		}
		i++
		j++
	}
	if len(ra)-i != len(rb)-j {
		return len(ra)-i < len(rb)-j
	}
	return a < b
}
