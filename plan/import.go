package plan

import (
	"errors"
	"fmt"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// ErrSizeMismatch is wrapped by the error Import returns when a local source's size is not
// the Frame.io file's; ImportOptions.AnySize lets such a file be recorded anyway.
var ErrSizeMismatch = errors.New("not the same content")

// ImportOptions are the choices of one Import.
type ImportOptions struct {
	// AnySize records a file whose size differs from the local source's (import --force).
	AnySize bool
}

// Import returns the plan that records f, a file already in Frame.io, as the delivery of d
// (fiosync import): one adopt change, applied like any plan. The rules are an adopt's: the
// state st (nil for none) must not track d's address, nor f as the delivery of another
// address; f must be completely uploaded; and a local source must have f's size. The plan
// is made against st, so applying it to a state that moved on is refused as stale.
func Import(d manifest.Desired, f RemoteFile, st *state.State, target state.Target, opts ImportOptions) (*Plan, error) {
	if st == nil {
		st = &state.State{}
	}
	if e := st.Entries[d.Address]; e != nil {
		return nil, fmt.Errorf("the state already tracks %s (Frame.io file %s); run 'fiosync state rm %s' first to record another file for it",
			d.Address, e.FileID, d.Address)
	}
	for _, addr := range st.Addresses() {
		if taken := st.Entries[addr]; taken.FileID == f.ID || containsID(taken.Previous, f.ID) {
			return nil, fmt.Errorf("file %s is already tracked for %s; one Frame.io file cannot be the delivery of two addresses", f.ID, addr)
		}
	}
	if !f.Uploaded() {
		return nil, fmt.Errorf("file %s is not completely uploaded (status %q); wait for its upload to finish, or let fiosync upload %s", f.ID, f.Status, d.Address)
	}
	if d.Source.Kind == source.Local && d.Source.Size != f.Size && !opts.AnySize {
		return nil, fmt.Errorf("%s has %s and Frame.io file %s has %s: %w", d.Source.Path, display.Bytes(d.Source.Size), f.ID, display.Bytes(f.Size), ErrSizeMismatch)
	}
	c := changeOf(d)
	c.Action, c.Reason, c.Existing = Adopt, ReasonImport, &f
	p := &Plan{
		Lineage:   st.Lineage,
		Serial:    st.Serial,
		Target:    target,
		Changes:   []Change{c},
		Folders:   map[string]string{},
		Untracked: []string{},
		Deleted:   []string{},
		Warnings:  []string{},
		Refreshed: true,
	}
	return p, nil
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
