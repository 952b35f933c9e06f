package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWriterConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	w := NewWriter(f, s)

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := fmt.Sprintf("/upload/%02d.mov", i)
			errs <- w.Update(ctx, func(s *State) {
				s.Entries[addr] = &Entry{
					Source:     RemoteSource("https://example.com/" + addr),
					FileID:     fmt.Sprint("file-", i),
					Status:     StatusComplete,
					UploadedAt: time.Date(2026, 11, 26, 12, 0, i, 0, time.UTC),
				}
			})
			// A successful Update means durable: the entry is on disk now.
			loaded, err := NewFile(f.Path()).Load(ctx)
			if err != nil {
				errs <- err
				return
			}
			if _, ok := loaded.Entries[addr]; !ok {
				errs <- fmt.Errorf("entry %s missing on disk after Update returned", addr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	got, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != n+2 {
		t.Errorf("state on disk has %d entries, want %d", len(got.Entries), n+2)
	}
	if got.Serial < 2 || got.Serial > n+1 {
		t.Errorf("serial on disk %d, want between 2 and %d", got.Serial, n+1)
	}
	snap := w.Snapshot()
	if diff := cmp.Diff(snap, got); diff != "" {
		t.Errorf("writer snapshot differs from the state on disk (-want +got):\n%s", diff)
	}
	t.Logf("%d updates took %d saves", n, got.Serial-1)

	// The snapshot is a copy.
	snap.Entries["/upload/00.mov"].FileID = "changed"
	if w.Snapshot().Entries["/upload/00.mov"].FileID == "changed" {
		t.Error("changing a snapshot changed the writer's state")
	}
}

func TestWriterRetriesAfterFailedSave(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	w := NewWriter(f, s)

	// Another process saves first: the writer's save is stale and fails,
	// and nothing it has is lost from memory.
	other, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewFile(f.Path()).Save(ctx, other); err != nil {
		t.Fatal(err)
	}
	err = w.Update(ctx, func(s *State) { s.Folders["/X"] = "x" })
	if !errors.Is(err, ErrStale) {
		t.Fatalf("Update error %v, want ErrStale", err)
	}
	if w.Snapshot().Folders["/X"] != "x" {
		t.Error("the change of a failed Update is gone from memory")
	}
	if err := w.Flush(ctx); !errors.Is(err, ErrStale) {
		t.Errorf("Flush error %v, want ErrStale again", err)
	}
}
