package statefile

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrCorrupt matches (errors.Is) every *CorruptError.
	ErrCorrupt = errors.New("state is damaged")
	// ErrNewerFormat is returned when the state was written in a format
	// version above state.FormatVersion.
	ErrNewerFormat = errors.New("written by a newer fiosync")
)

// CorruptError reports a state that does not parse or whose checksum does not
// match its content. Backends never overwrite such a state.
type CorruptError struct {
	// Path names the damaged state (a file path or Backend.String()); empty
	// when the bytes were decoded without a name.
	Path string
	// Backup names where the previous state is kept, if it exists.
	Backup string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *CorruptError) Error() string {
	var b strings.Builder
	if e.Path == "" {
		b.WriteString("state is damaged: ")
	} else {
		fmt.Fprintf(&b, "state file %q is damaged: ", e.Path)
	}
	b.WriteString(e.Err.Error())
	if e.Path != "" {
		b.WriteString("; fiosync will not overwrite it")
		if e.Backup != "" {
			fmt.Fprintf(&b, "; the previous state is in %q (copy it over the damaged file to go back one save)", e.Backup)
		} else {
			b.WriteString("; there is no backup of the previous state")
		}
	}
	return b.String()
}

// Unwrap returns the underlying reason.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
