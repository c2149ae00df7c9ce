package usererr

import (
	"fmt"
	"testing"
)

// Raw bytes from an input never reach the terminal: control bytes and
// invalid UTF-8 are escaped, so a message stays one printable line.
func TestMessagesStayOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain µs text":  "plain µs text",
		"a\nb":           `a\x0ab`,
		"\x7fELF\x00":    `\x7fELF\x00`,
		"bad \xff utf8":  `bad \xff utf8`,
		"tab\tand\rcr":   `tab\x09and\x0dcr`,
		"ok ✓ multibyte": "ok ✓ multibyte",
	} {
		err := New("%s", in)
		if err.Error() != want {
			t.Errorf("%q → %q, want %q", in, err.Error(), want)
		}
		if !Is(fmt.Errorf("wrapped: %w", err)) {
			t.Error("Is does not see through wrapping")
		}
	}
}
