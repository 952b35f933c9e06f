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

	if _, ok := f.New(t).(store.Appender); ok {
		runAppender(t, f, target)
	}

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

// header returns s's header only: what the Writer passes Append as base.
func header(s *state.State) *state.State {
	return &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target, Manifest: s.Manifest}
}

func entry(id string) *state.Entry {
	return &state.Entry{Source: source.OfURL("https://example.com/" + id), FileID: id, Status: state.StatusComplete,
		UploadedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
}

// runAppender holds an Appender to its contract (store.Appender).
func runAppender(t *testing.T, f Factory, target state.Target) {
	ctx := context.Background()
	appender := func(b store.Backend) store.Appender { return b.(store.Appender) }
	load := func(t *testing.T, b store.Backend) *state.State {
		t.Helper()
		s, err := f.Reopen(t, b).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("append, load, save", func(t *testing.T) {
		b := f.New(t)
		s := state.New(target)
		s.Entries["/old.mov"] = entry("old")
		s.Entries["/gone.mov"] = entry("gone")
		if err := b.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		a := appender(b)
		batches := [][]state.Change{
			{state.PutEntry("/a.mov", entry("a"))},
			{state.PutFolders(map[string]string{"/F": "folder-f"}), state.RemoveEntry("/gone.mov")},
			{state.PutEntry("/a.mov", entry("a2")), state.PutEntry("/b.mov", entry("b"))},
		}
		for i, batch := range batches {
			if err := a.Append(ctx, header(s), batch); err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			// Durable when Append returns: another process sees it.
			if got := load(t, b); got.Serial != 1 {
				t.Fatalf("serial after append %d is %d, want 1: Append must not bump it", i, got.Serial)
			}
		}
		got := load(t, b)
		want := map[string]string{"/old.mov": "old", "/a.mov": "a2", "/b.mov": "b"}
		if len(got.Entries) != len(want) || got.Folders["/F"] != "folder-f" {
			t.Errorf("loaded %d entries, folders %v; want %v and /F", len(got.Entries), got.Folders, want)
		}
		for addr, id := range want {
			if e := got.Entries[addr]; e == nil || e.FileID != id {
				t.Errorf("entry %s = %+v, want file %s", addr, e, id)
			}
		}
		// Save folds the appended changes into one new serial...
		if err := f.Reopen(t, b).Save(ctx, got); err != nil {
			t.Fatalf("save of the state with appended changes: %v", err)
		}
		if got.Serial != 2 {
			t.Fatalf("serial after the save %d, want 2", got.Serial)
		}
		again := load(t, b)
		if again.Serial != 2 || len(again.Entries) != 3 || again.Entries["/a.mov"].FileID != "a2" {
			t.Errorf("after the save: serial %d, %d entries", again.Serial, len(again.Entries))
		}
		// ...and appending goes on on top of it.
		if err := a.Append(ctx, header(again), []state.Change{state.RemoveEntry("/old.mov")}); err != nil {
			t.Fatalf("append after the save: %v", err)
		}
		if _, ok := load(t, b).Entries["/old.mov"]; ok {
			t.Error("a removal appended after the save did not load")
		}
	})

	t.Run("append before the first save", func(t *testing.T) {
		// The first apply of a delivery appends on a state nothing stores yet.
		b := f.New(t)
		s := state.New(target)
		s.Manifest = "fiosync.yaml"
		if err := appender(b).Append(ctx, header(s), []state.Change{state.PutEntry("/a.mov", entry("a"))}); err != nil {
			t.Fatal(err)
		}
		got := load(t, b)
		if got.Lineage != s.Lineage || got.Serial != 0 || got.Target != target || got.Manifest != "fiosync.yaml" || got.Entries["/a.mov"] == nil {
			t.Fatalf("loaded %+v, want the appended entry on the new state's header", got)
		}
		if err := b.Save(ctx, got); err != nil || got.Serial != 1 {
			t.Fatalf("first save after appends: serial %d, error %v", got.Serial, err)
		}
		if load(t, b).Entries["/a.mov"] == nil {
			t.Error("the entry appended before the first save is gone after it")
		}
	})

	t.Run("append refuses a stale base", func(t *testing.T) {
		b := f.New(t)
		s := state.New(target)
		if err := b.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		a := appender(b)
		if err := a.Append(ctx, header(s), []state.Change{state.PutEntry("/a.mov", entry("a"))}); err != nil {
			t.Fatal(err)
		}
		// Another process saves (with the appended change) and moves the serial on.
		other := f.Reopen(t, b)
		cur, err := other.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Save(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if err := a.Append(ctx, header(s), []state.Change{state.PutEntry("/b.mov", entry("b"))}); !errors.Is(err, store.ErrStale) {
			t.Errorf("append on an old serial: error %v, want ErrStale", err)
		}
		foreign := state.New(target)
		foreign.Serial = cur.Serial
		if err := a.Append(ctx, header(foreign), []state.Change{state.PutEntry("/c.mov", entry("c"))}); !errors.Is(err, store.ErrLineage) {
			t.Errorf("append on another lineage: error %v, want ErrLineage", err)
		}
		got := load(t, b)
		if got.Entries["/b.mov"] != nil || got.Entries["/c.mov"] != nil || got.Entries["/a.mov"] == nil || got.Serial != 2 {
			t.Errorf("after refused appends: %d entries at serial %d, want only /a.mov at serial 2", len(got.Entries), got.Serial)
		}
	})
}
