package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/fiosync/fiosync/state"
)

// Backend stores one state and guards it with a lock. File is the local
// implementation; state/pgstate keeps the state in PostgreSQL behind the same interface.
//
// The contract every backend keeps:
//   - Load returns an error matching ErrNoState when nothing was saved yet,
//     *statefile.CorruptError when the stored state is damaged, and statefile.ErrNewerFormat when
//     it was written by a newer fiosync.
//   - Save is a compare-and-swap on (lineage, serial): it succeeds only when
//     the stored state has s.Lineage and s.Serial (or nothing is stored and
//     s.Serial is 0), then stores s with Serial+1 and sets s.Serial to it.
//     Otherwise it returns an error matching ErrStale or ErrLineage and
//     leaves both s and the stored state alone. It never replaces a stored
//     state it cannot read. On success the new state is durable.
//   - Lock is exclusive across processes and hosts sharing the backend. A
//     lock whose holder died is released by the backend, not by a timeout.
//     Locking is advisory: Save does not check it; callers take it for the
//     whole of a plan or apply.
type Backend interface {
	// Load reads the stored state.
	Load(ctx context.Context) (*state.State, error)
	// Save stores s, bumping s.Serial (see the contract above).
	Save(ctx context.Context, s *state.State) error
	// Lock takes the lock, waiting up to timeout (0: try once) for a holder
	// to let go, and then fails with *LockedError naming the holder. Missing
	// fields of info are filled in (see LockInfo).
	Lock(ctx context.Context, info LockInfo, timeout time.Duration) (Unlocker, error)
	// ForceUnlock removes the lock whoever holds it, for when the backend's
	// locking cannot tell that the holder is gone.
	ForceUnlock(ctx context.Context) error
	// String names the state for messages, e.g. its path.
	String() string
}

// Appender is implemented by a Backend that can make changes durable without
// rewriting the whole state, in time that does not grow with the state (a
// journal beside the state file, a row per entry). The Writer appends each
// batch of changes and saves the whole state with Save once, when it is
// closed; Save then also folds every appended change into the stored state.
//
// The contract, beyond Backend's:
//   - Append makes changes durable, in order, on top of the stored state,
//     which must have base's lineage and serial (base carries the header
//     fields only: no entries or folders). Otherwise it fails with an error
//     matching ErrStale or ErrLineage and stores nothing. It leaves the
//     serial alone: a run of appends ends in one Save, one serial.
//     When nothing is stored yet, base's serial must be 0 (the first apply of
//     a delivery appends before anything was saved).
//   - Load returns the stored state with every appended change applied, so
//     a process that died between Append and Save loses nothing that Append
//     returned for; when only appended changes are stored, it returns them
//     applied to an empty state with base's header.
//   - Save succeeds on the stored state with appended changes (its serial is
//     the one they were appended on), and afterwards Load no longer depends
//     on them.
type Appender interface {
	Backend
	// Append makes changes durable (see the contract above).
	Append(ctx context.Context, base *state.State, changes []state.Change) error
}

// Unlocker releases a lock taken with Backend.Lock.
type Unlocker interface {
	// Unlock releases the lock. Calling it again does nothing.
	Unlock() error
}

// LockInfo describes a lock holder. It is recorded with the lock so that a
// process that finds the state locked can say who holds it.
type LockInfo struct {
	// ID is a random id for this acquisition (filled in by Lock).
	ID string `json:"id"`
	// Operation is what the holder is doing: "plan", "apply", "state rm".
	Operation string `json:"operation"`
	// Who is user@host (filled in by Lock).
	Who string `json:"who"`
	// PID is the holder's process id (filled in by Lock).
	PID int `json:"pid"`
	// Created is when the lock was taken (filled in by Lock).
	Created time.Time `json:"created"`
	// Path names the locked state (filled in by Lock).
	Path string `json:"path"`
}

// Complete returns i with the fields a caller may leave empty filled in: a random ID, this
// user@host and process id, now (in UTC) and path. Every Backend's Lock calls it, so all of
// them record a holder the same way.
func (i LockInfo) Complete(path string, now time.Time) LockInfo {
	if i.ID == "" {
		i.ID = rand.Text()
	}
	if i.Who == "" {
		i.Who = whoAmI()
	}
	if i.PID == 0 {
		i.PID = os.Getpid()
	}
	if i.Created.IsZero() {
		i.Created = now
	}
	i.Created = i.Created.UTC()
	if i.Path == "" {
		i.Path = path
	}
	return i
}

// whoAmI returns user@host, with "unknown" for parts it cannot find.
func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s@%s", name, host)
}
