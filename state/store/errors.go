package store

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
)

// LostError is returned by File.Load when the state file is missing but its backup is not:
// the state was deleted or moved, and planning as if nothing had been delivered would upload
// everything again.
type LostError struct {
	// Path is the missing state file; Backup the backup beside it.
	Path, Backup string
}

// Error implements error.
func (e *LostError) Error() string {
	return fmt.Sprintf("state file %q is missing, but its backup %q is there: the state was deleted or moved", e.Path, e.Backup)
}

// LockedError is returned by Backend.Lock when another process holds the lock
// and the timeout ran out.
type LockedError struct {
	// State names the locked state (Backend.String()).
	State string
	// Holder describes the holder as it recorded itself; zero when it could
	// not be read.
	Holder LockInfo
}

// Error implements error. It names the holder; the caller says how to proceed.
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
	return b.String()
}
