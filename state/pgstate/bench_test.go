package pgstate

import (
	"context"
	"fmt"
	"testing"

	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// BenchmarkSave measures one compare-and-swap save of a state with 1,000 entries, the cost
// apply pays after each finished file (the writer coalesces saves that pile up behind it).
func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	be, err := New(pgtest.URL(b), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	s := state.New(target)
	for i := range 1000 {
		s.Entries[fmt.Sprintf("/Dailies/day%02d/A%03d.mov", i/100, i)] = entry(fmt.Sprint(i))
	}
	doc, err := statefile.Encode(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := be.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLock measures taking and releasing the lock: a new connection each time.
func BenchmarkLock(b *testing.B) {
	ctx := context.Background()
	be, err := New(pgtest.URL(b), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	b.ReportAllocs()
	for b.Loop() {
		u, err := be.Lock(ctx, store.LockInfo{Operation: "bench"}, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := u.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
}
