package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// Factory makes backends for the suite.
type Factory struct {
	// New returns a backend over fresh, empty storage.
	New func(t *testing.T) store.Backend
	// Reopen returns a second, independent backend over the same storage as
	// b, as another process would open it.
	Reopen func(t *testing.T, b store.Backend) store.Backend
}

// Run runs the conformance suite against the backends f makes.
func Run(t *testing.T, f Factory) {
	ctx := context.Background()
	target := state.Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", RootFolderID: "r"}

	t.Run("load empty", func(t *testing.T) {
		b := f.New(t)
		if _, err := b.Load(ctx); !errors.Is(err, store.ErrNoState) {
			t.Errorf("Load of empty storage: error %v, want ErrNoState", err)
		}
		if b.String() == "" {
			t.Error("String() is empty")
		}
	})

	t.Run("save and load", func(t *testing.T) {
		b := f.New(t)
		s := state.New(target)
		s.Folders["/A"] = "folder-a"
		s.Entries["/A/x.mov"] = &state.Entry{
			Source:     source.OfURL("https://example.com/x.mov?sig=1"),
			FileID:     "file-x",
			Status:     state.StatusComplete,
			UploadedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		}
		for want := uint64(1); want <= 3; want++ {
			if err := b.Save(ctx, s); err != nil {
				t.Fatalf("save %d: %v", want, err)
			}
			if s.Serial != want {
				t.Fatalf("serial after save %d = %d", want, s.Serial)
			}
		}
		got, err := f.Reopen(t, b).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Serial != 3 || got.Lineage != s.Lineage || got.Entries["/A/x.mov"].FileID != "file-x" ||
			!got.Entries["/A/x.mov"].UploadedAt.Equal(s.Entries["/A/x.mov"].UploadedAt) || got.Folders["/A"] != "folder-a" {
			t.Errorf("loaded %+v, want what was saved", got)
		}
	})

	t.Run("compare and swap", func(t *testing.T) {
		b := f.New(t)
		s := state.New(target)
		if err := b.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		other := f.Reopen(t, b)
		a, err := other.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Save(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := b.Save(ctx, s); !errors.Is(err, store.ErrStale) {
			t.Errorf("save over a newer state: error %v, want ErrStale", err)
		}
		if s.Serial != 1 {
			t.Errorf("a refused save changed the serial to %d", s.Serial)
		}
		foreign := state.New(target)
		foreign.Serial = a.Serial
		if err := b.Save(ctx, foreign); !errors.Is(err, store.ErrLineage) {
			t.Errorf("save of another lineage: error %v, want ErrLineage", err)
		}
		fresh := state.New(target)
		if err := f.New(t).Save(ctx, fresh); err != nil {
			t.Errorf("save of a new state to empty storage: %v", err)
		}
	})

	t.Run("lock", func(t *testing.T) {
		b := f.New(t)
		other := f.Reopen(t, b)
		u, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.Lock(ctx, store.LockInfo{Operation: "plan"}, 0)
		var le *store.LockedError
		if !errors.As(err, &le) {
			t.Fatalf("second lock: error %v, want *LockedError", err)
		}
		if le.Holder.Operation != "apply" || le.Holder.PID == 0 || le.Holder.Who == "" || le.Holder.Created.IsZero() {
			t.Errorf("holder %+v, want the apply's details", le.Holder)
		}
		if err := u.Unlock(); err != nil {
			t.Fatal(err)
		}
		u2, err := other.Lock(ctx, store.LockInfo{Operation: "plan"}, 0)
		if err != nil {
			t.Fatalf("lock after unlock: %v", err)
		}
		if err := other.ForceUnlock(ctx); err != nil {
			t.Fatal(err)
		}
		u3, err := b.Lock(ctx, store.LockInfo{Operation: "apply"}, 0)
		if err != nil {
			t.Fatalf("lock after force-unlock: %v", err)
		}
		u2.Unlock()
		u3.Unlock()
	})
}
