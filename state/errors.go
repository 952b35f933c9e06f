package state

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrNoState is returned by Backend.Load when no state exists yet.
	ErrNoState = errors.New("no state")
	// ErrStale is returned by Backend.Save when the stored state changed
	// since the given state was loaded (its serial moved on).
	ErrStale = errors.New("state changed since it was loaded")
	// ErrLineage is returned by Backend.Save when the stored state has a
	// different lineage: it belongs to another history, perhaps another
	// project.
	ErrLineage = errors.New("stored state has a different lineage")
	// ErrCorrupt matches (errors.Is) every *CorruptError.
	ErrCorrupt = errors.New("state is damaged")
	// ErrNewerFormat is returned when the state was written in a format
	// version above FormatVersion.
	ErrNewerFormat = errors.New("written by a newer fiosync")
	// ErrNoEntry is returned when an address has no entry.
	ErrNoEntry = errors.New("no such entry")
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

// LockedError is returned by Backend.Lock when another process holds the lock
// and the timeout ran out.
type LockedError struct {
	// State names the locked state (Backend.String()).
	State string
	// Holder describes the holder as it recorded itself; zero when it could
	// not be read.
	Holder LockInfo
}

// Error implements error. It names the holder and says how to proceed.
func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state %q is locked", e.State)
	h := e.Holder
	if h.PID == 0 && h.Who == "" {
		b.WriteString(" by another process")
	} else {
		fmt.Fprintf(&b, " by pid %d", h.PID)
		if h.Who != "" {
			fmt.Fprintf(&b, " (%s)", h.Who)
		}
		if h.Operation != "" {
			fmt.Fprintf(&b, " running %q", h.Operation)
		}
		if !h.Created.IsZero() {
			fmt.Fprintf(&b, " since %s", h.Created.UTC().Format(time.RFC3339))
		}
	}
	b.WriteString("; wait for it to finish or pass --lock-timeout to wait, " +
		"and if no fiosync is running (a file system without working locks), run `fiosync state unlock`")
	return b.String()
}
