package state

import (
	"slices"
	"time"

	"github.com/fiosync/fiosync/source"
)

// Equal reports whether e and o record the same delivery: the same source, ids, status,
// versions, followup and times (as instants: a time read back from storage may carry another
// location). The view URL and what verify recorded are not compared: they say nothing of
// what was delivered, and verify writes them between a plan and its apply. Two nil entries
// are equal.
func (e *Entry) Equal(o *Entry) bool {
	if e == nil || o == nil {
		return e == o
	}
	return sameIdentity(e.Source, o.Source) && e.FileID == o.FileID && e.ParentID == o.ParentID &&
		e.VersionStackID == o.VersionStackID && slices.Equal(e.Previous, o.Previous) && e.Status == o.Status &&
		sameFollowup(e.Followup, o.Followup) && e.CreatedAt.Equal(o.CreatedAt) && e.UploadedAt.Equal(o.UploadedAt)
}

func sameIdentity(a, b source.Identity) bool {
	a.ModTime, a.Ctime = instant(a.ModTime), instant(a.Ctime)
	b.ModTime, b.Ctime = instant(b.ModTime), instant(b.Ctime)
	return a == b
}

func instant(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

func sameFollowup(a, b *Followup) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
