package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
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
			errs <- w.Update(ctx, func(*state.State) state.Change {
				return state.PutEntry(addr, &state.Entry{
					Source:     source.OfURL("https://example.com/" + addr),
					FileID:     fmt.Sprint("file-", i),
					Status:     state.StatusComplete,
					UploadedAt: time.Date(2026, 11, 26, 12, 0, i, 0, time.UTC),
				})
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

	// The updates went to the journal: the state file still holds serial 1, and a Load
	// replays them.
	got, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != n+2 || got.Serial != 1 {
		t.Errorf("loaded state has %d entries at serial %d, want %d at serial 1", len(got.Entries), got.Serial, n+2)
	}
	data, err := os.ReadFile(f.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scanJournal(f.JournalPath(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d updates took %d journal records", n, len(sc.records))

	// Close compacts: one save, one serial, no journal.
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there after Close (stat error %v)", err)
	}
	got, err = NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 {
		t.Errorf("serial after Close %d, want 2", got.Serial)
	}
	snap := w.Snapshot()
	if diff := cmp.Diff(snap, got); diff != "" {
		t.Errorf("writer snapshot differs from the state on disk (-want +got):\n%s", diff)
	}

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
	err = w.Update(ctx, func(*state.State) state.Change { return state.PutFolders(map[string]string{"/X": "x"}) })
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

// slowBackend stands for a large state: every Save takes cost, and it records when each
// save started and ended.
type slowBackend struct {
	Backend
	cost time.Duration

	mu    sync.Mutex
	spans [][2]time.Time
}

func (b *slowBackend) Save(ctx context.Context, s *state.State) error {
	start := time.Now()
	time.Sleep(b.cost) // the cost of writing a big state, not a wait for something
	err := b.Backend.Save(ctx, s)
	b.mu.Lock()
	b.spans = append(b.spans, [2]time.Time{start, time.Now()})
	b.mu.Unlock()
	return err
}

// TestWriterBoundsSaveDutyCycle: after a save that took d, the Writer starts the next one no
// sooner than d after it ended, so saves of a big state batch the changes that trickle in
// instead of taking all the time; and every update is still durable when it returns.
func TestWriterBoundsSaveDutyCycle(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	b := &slowBackend{Backend: f, cost: 20 * time.Millisecond}
	s := saveNew(t, f)
	before := len(s.Entries)
	w := NewWriter(b, s)

	const workers, each = 4, 6
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				addr := fmt.Sprintf("/w%d/%d.mov", g, i)
				if err := w.Update(ctx, func(*state.State) state.Change {
					return state.PutEntry(addr, &state.Entry{Source: source.OfURL("https://example.com" + addr), FileID: addr, Status: state.StatusComplete})
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()

	b.mu.Lock()
	defer b.mu.Unlock()
	for i := 1; i < len(b.spans); i++ {
		prev, cur := b.spans[i-1], b.spans[i]
		if gap, took := cur[0].Sub(prev[1]), prev[1].Sub(prev[0]); gap < took-time.Millisecond {
			t.Errorf("save %d started %v after save %d ended, which took %v", i, gap, i-1, took)
		}
	}
	if len(b.spans) >= workers*each {
		t.Errorf("%d saves for %d updates: nothing was batched", len(b.spans), workers*each)
	}
	loaded, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(loaded.Entries); got != before+workers*each {
		t.Errorf("state on disk has %d entries, want %d", got, before+workers*each)
	}
}

// TestWriterStage: a staged change is in the Writer's state at once but not on disk until the
// next Update, which writes both in one record; Close writes one staged last.
func TestWriterStage(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	w := NewWriter(f, s)
	entry := func(i int) *state.Entry {
		return &state.Entry{Source: source.OfURL(fmt.Sprint("https://example.com/", i)), FileID: fmt.Sprint("file-", i), Status: state.StatusPending}
	}
	onDisk := func(addr string) bool {
		t.Helper()
		got, err := NewFile(f.Path()).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return got.Entries[addr] != nil
	}

	w.Stage(func(*state.State) state.Change { return state.PutEntry("/a.mov", entry(1)) })
	if w.Snapshot().Entries["/a.mov"] == nil {
		t.Fatal("a staged change is not in the writer's state")
	}
	if onDisk("/a.mov") {
		t.Fatal("a staged change was written before the next Update")
	}
	if err := w.Update(ctx, func(*state.State) state.Change { return state.PutEntry("/b.mov", entry(2)) }); err != nil {
		t.Fatal(err)
	}
	if !onDisk("/a.mov") || !onDisk("/b.mov") {
		t.Fatal("Update did not make the staged change durable with its own")
	}
	data, err := os.ReadFile(f.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scanJournal(f.JournalPath(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.records) != 1 || len(state.Merge(sc.records[0].Changes...).Entries) != 2 {
		t.Fatalf("journal holds %d records, want 1 of both changes", len(sc.records))
	}

	w.Stage(func(*state.State) state.Change { return state.PutEntry("/c.mov", entry(3)) })
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !onDisk("/c.mov") {
		t.Fatal("Close did not write the change staged last")
	}
}

// TestWriterCommitShares: changes made with Commit by several goroutines wait, on the
// Writer's clock, for a write to carry them, and share it: an Update writes them all in one
// record; with none, the first Wait whose interval ends writes what is pending. No Wait
// returns before its change is on disk.
func TestWriterCommitShares(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	w := NewWriter(f, saveNew(t, f))
	timers := make(chan chan time.Time, 8)
	w.after = func(time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		timers <- c
		return c
	}
	entry := func(i int) *state.Entry {
		return &state.Entry{Source: source.OfURL(fmt.Sprint("https://example.com/", i)), FileID: fmt.Sprint("file-", i), Status: state.StatusComplete}
	}
	records := func() []state.Change {
		t.Helper()
		data, err := os.ReadFile(f.JournalPath())
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scanJournal(f.JournalPath(), data)
		if err != nil {
			t.Fatal(err)
		}
		var out []state.Change
		for _, r := range sc.records {
			out = append(out, state.Merge(r.Changes...))
		}
		return out
	}
	wait := func(p Pending) <-chan error {
		done := make(chan error, 1)
		go func() { done <- p.Wait(ctx) }()
		return done
	}

	// Three commits wait; nothing is written while their intervals run.
	var waits []<-chan error
	for i := range 3 {
		p := w.Commit(func(*state.State) state.Change { return state.PutEntry(fmt.Sprintf("/%d.mov", i), entry(i)) })
		waits = append(waits, wait(p))
		<-timers // its Wait is waiting on the clock
	}
	if got := records(); len(got) != 0 {
		t.Fatalf("%d records written while the commits waited, want 0", len(got))
	}
	for i, done := range waits {
		select {
		case err := <-done:
			t.Fatalf("Wait %d returned (%v) before its change was written", i, err)
		default:
		}
	}
	// An Update carries them: one record of four changes, and every Wait returns.
	if err := w.Update(ctx, func(*state.State) state.Change { return state.PutEntry("/u.mov", entry(9)) }); err != nil {
		t.Fatal(err)
	}
	for i, done := range waits {
		if err := <-done; err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
	if got := records(); len(got) != 1 || len(got[0].Entries) != 4 {
		t.Fatalf("journal holds %d records (%v), want 1 of the 4 changes", len(got), got)
	}

	// Without another write, the Wait whose interval ends writes both commits made since.
	p1 := w.Commit(func(*state.State) state.Change { return state.PutEntry("/p1.mov", entry(11)) })
	done1 := wait(p1)
	t1 := <-timers
	p2 := w.Commit(func(*state.State) state.Change { return state.PutEntry("/p2.mov", entry(12)) })
	done2 := wait(p2)
	<-timers
	t1 <- time.Time{}
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if got := records(); len(got) != 2 || len(got[1].Entries) != 2 {
		t.Fatalf("journal holds %d records, want a second one of both commits", len(got))
	}
	loaded, err := NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"/0.mov", "/1.mov", "/2.mov", "/u.mov", "/p1.mov", "/p2.mov"} {
		if loaded.Entries[a] == nil {
			t.Errorf("%s is not in the state on disk", a)
		}
	}
	// A change already durable waits for nothing.
	if err := p1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-timers:
		t.Fatal("the Wait of a durable change started a timer")
	default:
	}
}
