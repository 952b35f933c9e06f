package apply

import (
	"fmt"

	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/plan"
)

// checkOrder is the order in which a recorded format is chosen to check a file against its
// ASC MHL history: the cheapest first. One recorded format is enough to vouch for the bytes.
var checkOrder = []mhl.Format{mhl.XXH3, mhl.XXH128, mhl.XXH64, mhl.MD5, mhl.SHA1, mhl.C4}

// mhlCheck hashes a file's bytes, in the read that sends them, in the format its ASC MHL
// history recorded, and compares the result with the record.
type mhlCheck struct {
	rel    string // the source path, for messages
	expect plan.MHLExpect
	format mhl.Format
	hasher *mhl.Hasher
}

// newMHLCheck returns the check of the file at address, or nil when no history covers it.
func (r *run) newMHLCheck(address, rel string) *mhlCheck {
	exp, ok := r.opts.MHL.Expect(address)
	if !ok {
		return nil
	}
	for _, f := range checkOrder {
		if _, ok := exp.Hashes[f]; ok {
			return &mhlCheck{rel: rel, expect: exp, format: f, hasher: mhl.NewHasher(f)}
		}
	}
	return nil
}

// verify compares what was hashed with the record.
func (c *mhlCheck) verify() error {
	if c == nil {
		return nil
	}
	got := c.hasher.Sum(c.format)
	if want := c.expect.Hashes[c.format]; got != want {
		return &MHLMismatchError{Path: c.rel, Format: c.format, Got: got, Want: want, Generation: c.expect.Generation}
	}
	return nil
}

// MHLMismatchError is the failure of a local upload whose bytes do not hash to what the
// file's ASC MHL history records. The last part was never sent, so Frame.io never completed
// the file, and its placeholder is deleted.
type MHLMismatchError struct {
	Path       string // the source path, relative to the manifest's directory
	Format     mhl.Format
	Got, Want  string
	Generation string // the history's generation file that records Want
}

// Error implements error.
func (e *MHLMismatchError) Error() string {
	return fmt.Sprintf("check %s against its ASC MHL history: %s %s, the history (%s) records %s; the content changed after it was hashed, so the upload was stopped before it completed",
		escape.Text(e.Path), e.Format, e.Got, escape.Text(e.Generation), e.Want)
}
