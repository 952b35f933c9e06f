package plan

import (
	"fmt"
	"testing"
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// TestSettle holds settle, which splits a large plan's files over goroutines, to what it does
// file by file: the files the stat cache vouches for take the hash they were delivered with,
// every other one becomes an item in file order, and each file's entry is reported.
func TestSettle(t *testing.T) {
	const n = 3*settleChunk + 17 // several goroutines, the last with a short share
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	st := state.New(testTarget)
	files := make([]manifest.Desired, n)
	var changed []int
	for i := range files {
		id := source.Identity{Kind: source.Local, Path: fmt.Sprintf("f%06d", i), Size: 10, ModTime: now, Inode: uint64(i + 1), Ctime: now}
		files[i] = manifest.Desired{Address: "/" + id.Path, Source: id}
		if i%5 == 0 {
			continue // untracked
		}
		prev := id
		prev.Hash = source.Digest{byte(i), byte(i >> 8), byte(i >> 16), 1}
		if i%1000 == 3 {
			prev.ModTime = now.Add(-time.Second) // changed since it was delivered
			changed = append(changed, i)
		}
		st.Entries[files[i].Address] = &state.Entry{Source: prev, FileID: fmt.Sprint(i), Status: state.StatusComplete}
	}
	tracked := make([]*state.Entry, n)
	items, index := settle(files, st, tracked)
	if fmt.Sprint(index) != fmt.Sprint(changed) {
		t.Fatalf("items for files %v, want %v", index, changed)
	}
	for j, i := range index {
		if items[j].Path != files[i].Path || items[j].Prev != &st.Entries[files[i].Address].Source {
			t.Fatalf("item %d: %+v, not file %d's", j, items[j], i)
		}
	}
	for i := range files {
		e := st.Entries[files[i].Address]
		if tracked[i] != e {
			t.Fatalf("file %d: tracked %v, want %v", i, tracked[i], e)
		}
		switch settled := e != nil && i%1000 != 3; {
		case settled && files[i].Source.Hash != e.Source.Hash:
			t.Fatalf("file %d: hash %v, want the delivered %v", i, files[i].Source.Hash, e.Source.Hash)
		case !settled && !files[i].Source.Hash.IsZero():
			t.Fatalf("file %d: hash %v, want none (not settled)", i, files[i].Source.Hash)
		}
	}
}
