// Package usererr marks errors caused by the user's input (a config, a
// workload file, a flag), which the CLI reports as one line with exit
// status 2, apart from internal failures (exit 1).
package usererr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a problem with the user's input.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// New formats a user-input error. The message is kept to one printable
// line: a control byte or invalid UTF-8 that came from the input (a
// mangled file, a --set value) is escaped as \xNN rather than written to
// the terminal.
func New(format string, a ...any) error { return &Error{oneLine(fmt.Sprintf(format, a...))} }

func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(s[i : i+n])
		}
		i += max(n, 1)
	}
	return b.String()
}

// Is reports whether err (or anything it wraps) is a user-input error.
func Is(err error) bool {
	var u *Error
	return errors.As(err, &u)
}
