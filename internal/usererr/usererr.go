// Package usererr marks errors caused by the user's input (a config, a
// workload file, a flag), which the CLI reports as one line with exit
// status 2, apart from internal failures (exit 1).
package usererr

import (
	"errors"
	"fmt"
)

// Error is a problem with the user's input.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// New formats a user-input error.
func New(format string, a ...any) error { return &Error{fmt.Sprintf(format, a...)} }

// Is reports whether err (or anything it wraps) is a user-input error.
func Is(err error) bool {
	var u *Error
	return errors.As(err, &u)
}
