package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fiosync/fiosync/state"
)

// Claimer is implemented by a Backend on which several applies may work on
// one state at the same time, each a runner that claims the addresses and
// folders it works on (state/pgstate). A Backend that is not a Claimer (File)
// has only the exclusive Lock: one apply at a time.
//
// The contract, beyond Appender's:
//   - Join takes the state's lock shared: any number of runners (and plans)
//     hold it together, and Lock, which is exclusive, waits for all of them
//     to leave, as they wait for it. A runner that dies leaves by itself,
//     like a Lock holder.
//   - A Runner's Append is fenced by claims: it fails with ErrClaimed, and
//     stores nothing, when any address or folder it changes is claimed by
//     another live runner. A runner that lost a claim (its lease ran out)
//     can therefore not record over the runner that took the claim over.
//   - A Runner's Save stores nothing: every change is in the rows already.
//     The state's serial moves on by one when the last runner of a group
//     leaves, if any runner appended: one serial per cooperative apply.
type Claimer interface {
	Appender
	// Join makes this process a runner (see the contract above), waiting up
	// to timeout for an exclusive holder to let go, like Lock.
	Join(ctx context.Context, info LockInfo, opts JoinOptions, timeout time.Duration) (Runner, error)
	// Claims lists the claims in force, oldest first, for `fiosync state list`.
	Claims(ctx context.Context) ([]ClaimInfo, error)
}

// JoinOptions configures a Runner.
type JoinOptions struct {
	// Lease is how long a claim lasts unless renewed; 0 means DefaultLease.
	// The Runner renews its claims every Lease/3 while it lives, so a runner
	// that dies (or loses the database for a Lease) frees its claims within
	// one Lease.
	Lease time.Duration
}

// DefaultLease is the claim lease when JoinOptions.Lease is 0.
const DefaultLease = 30 * time.Second

// Runner is one process's part in a cooperative apply: the Appender its
// Writer saves through, and the claims it holds. A claim is a lease on a key
// (EntryKey, FolderKey): while one runner holds it, no other runner gets it
// and no other runner's Append may change what it names.
type Runner interface {
	Appender
	// Claim takes key for this runner, or renews it if it holds it already.
	// It does not wait: when another runner holds key (or is taking it at
	// this moment; SELECT ... FOR UPDATE SKIP LOCKED), it returns false and
	// that runner, when known.
	Claim(ctx context.Context, key string) (bool, ClaimInfo, error)
	// Release gives key up. Releasing a key not held does nothing.
	Release(ctx context.Context, key string) error
	// Renew extends every claim this runner holds by a lease. The Runner calls
	// it by itself every Lease/3; a claim not renewed within a lease is lost.
	Renew(ctx context.Context) error
	// Entry reads the stored entry at address (nil when there is none), as
	// another runner may have left it: the caller claims address first.
	Entry(ctx context.Context, address string) (*state.Entry, error)
	// Entries reads the stored entries of addresses at once (those with none are left out),
	// to find what other runners finished without claiming each.
	Entries(ctx context.Context, addresses []string) (map[string]*state.Entry, error)
	// Folder reads the stored id of the folder at path ("" when there is none).
	Folder(ctx context.Context, path string) (string, error)
	// Who names this runner, for output.
	Who() RunnerID
	// Unlock releases this runner's claims and leaves (see the contract).
	Unlocker
}

// RunnerID names a runner in output: the host and process id of the fiosync
// that runs it.
type RunnerID struct {
	Host string `json:"host"`
	PID  int    `json:"pid"`
}

// String returns "host pid N".
func (r RunnerID) String() string { return fmt.Sprintf("%s pid %d", r.Host, r.PID) }

// ClaimInfo is one claim in force.
type ClaimInfo struct {
	// Key is what is claimed (EntryKey, FolderKey).
	Key string `json:"key"`
	// Runner holds the claim.
	Runner RunnerID `json:"runner"`
	// Claimed is when the runner took it; Expires when it lapses unless renewed.
	Claimed time.Time `json:"claimed"`
	Expires time.Time `json:"expires"`
}

// The prefixes of claim keys.
const (
	entryKeyPrefix  = "entry:"
	folderKeyPrefix = "folder:"
)

// EntryKey is the claim key of the entry at address.
func EntryKey(address string) string { return entryKeyPrefix + address }

// FolderKey is the claim key of the folder at path.
func FolderKey(path string) string { return folderKeyPrefix + path }

// ErrClaimed is returned by a Runner's Append when another runner holds a
// claim on something the changes touch.
var ErrClaimed = errors.New("claimed by another runner")

// EntryAddress returns the address an EntryKey names, and false for other keys.
func EntryAddress(key string) (string, bool) { return strings.CutPrefix(key, entryKeyPrefix) }
