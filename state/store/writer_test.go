package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
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
	sc := journalOf(t, f)
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

// journalOf returns what f's journal holds.
func journalOf(t *testing.T, f *File) *scanned {
	t.Helper()
	data, err := os.ReadFile(f.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scanJournal(f.JournalPath(), data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// hasEntry reports whether the state stored at f's path, journal included, has an entry at addr.
func hasEntry(t *testing.T, f *File, addr string) bool {
	t.Helper()
	got, err := NewFile(f.Path()).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got.Entries[addr] != nil
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
	onDisk := func(addr string) bool { t.Helper(); return hasEntry(t, f, addr) }

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
	sc := journalOf(t, f)
	if len(sc.records) != 1 || len(sc.records[0].Changes) != 2 {
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

// fakeWindow replaces w's window clock: each window the Writer opens is reported on opened,
// and ends by the clock only when the test sends on fire.
type fakeWindow struct {
	opened chan time.Duration
	fire   chan time.Time
}

func newFakeWindow(w *Writer) *fakeWindow {
	fw := &fakeWindow{opened: make(chan time.Duration, 16), fire: make(chan time.Time)}
	w.after = func(d time.Duration) <-chan time.Time {
		fw.opened <- d
		return fw.fire
	}
	return fw
}

// noWindow fails the test if a window opened.
func (fw *fakeWindow) noWindow(t *testing.T, when string) {
	t.Helper()
	select {
	case d := <-fw.opened:
		t.Fatalf("%s: a window of %v opened", when, d)
	default:
	}
}

// waitFor spins until w holds n Updates not yet durable.
func waitFor(w *Writer, n int) {
	for {
		w.mu.Lock()
		got := w.waiting
		w.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestWriterCommitWindow drives the group-commit window on a fake clock: a lone writer never
// waits; after a batch that carried several Updates the next one waits, and its sync happens
// once the window has max Updates or the clock ends it; nothing is on disk, and no Update has
// returned, before that sync; Flush never waits.
func TestWriterCommitWindow(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	s := saveNew(t, f)
	w := NewWriter(f, s)
	w.SetCommitWindow(4, time.Hour) // the clock is fake: only fire ends a window by time
	fw := newFakeWindow(w)
	entry := func(addr string) func(*state.State) state.Change {
		return func(*state.State) state.Change {
			return state.PutEntry(addr, &state.Entry{Source: source.OfURL("https://example.com" + addr), FileID: addr, Status: state.StatusComplete})
		}
	}
	onDisk := func(addr string) bool { t.Helper(); return hasEntry(t, f, addr) }
	update := func(addrs ...string) chan error {
		done := make(chan error, len(addrs))
		for _, a := range addrs {
			go func() { done <- w.Update(ctx, entry(a)) }()
		}
		return done
	}
	wait := func(done chan error, n int) {
		t.Helper()
		for range n {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	returned := func(done chan error) bool {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return true
		default:
			return false
		}
	}

	// A lone serial writer: no window.
	for i := range 3 {
		if err := w.Update(ctx, entry(fmt.Sprint("/lone/", i))); err != nil {
			t.Fatal(err)
		}
	}
	fw.noWindow(t, "serial Updates")

	// Two Updates in one batch (the test holds the sync until both wait): still no window,
	// since the batch before had no company, but now there is some.
	w.saveMu.Lock()
	done := update("/pair/a", "/pair/b")
	waitFor(w, 2)
	w.saveMu.Unlock()
	wait(done, 2)
	fw.noWindow(t, "the first batch of two")
	if !onDisk("/pair/a") || !onDisk("/pair/b") {
		t.Fatal("the batch of two is not on disk after its Updates returned")
	}

	// The next Update waits for company, not on disk and not returned meanwhile; three more
	// make four, the window's max, and the four are synced together without the clock.
	done = update("/win/0")
	if d := <-fw.opened; d != time.Hour {
		t.Fatalf("window of %v, want the configured hour", d)
	}
	if onDisk("/win/0") || returned(done) {
		t.Fatal("an Update in the window was synced before the window ended")
	}
	more := update("/win/1", "/win/2", "/win/3")
	wait(done, 1)
	wait(more, 3)
	for i := range 4 {
		if !onDisk(fmt.Sprint("/win/", i)) {
			t.Fatalf("/win/%d is not on disk after its Update returned", i)
		}
	}
	sc := journalOf(t, f)
	if last := sc.records[len(sc.records)-1]; len(last.Changes) != 4 {
		t.Errorf("the window's record holds %d changes, want the 4 Updates", len(last.Changes))
	}

	// Flush does not wait, even with company.
	w.Stage(entry("/staged"))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fw.noWindow(t, "Flush")
	if !onDisk("/staged") {
		t.Fatal("Flush did not write the staged change")
	}

	// The clock ends a window that does not fill, and a batch of one Update leaves no
	// company: the next Update syncs at once.
	w.saveMu.Lock()
	done = update("/pair2/a", "/pair2/b")
	waitFor(w, 2)
	w.saveMu.Unlock()
	wait(done, 2)
	done = update("/tick")
	<-fw.opened
	if returned(done) {
		t.Fatal("an Update returned from a window the clock had not ended")
	}
	fw.fire <- time.Time{}
	wait(done, 1)
	if !onDisk("/tick") {
		t.Fatal("/tick is not on disk after its Update returned")
	}
	if err := w.Update(ctx, entry("/alone")); err != nil {
		t.Fatal(err)
	}
	fw.noWindow(t, "an Update after a batch of one")

	// A window off (wait 0) never opens.
	w.SetCommitWindow(4, 0)
	w.saveMu.Lock()
	done = update("/off/a", "/off/b")
	waitFor(w, 2)
	w.saveMu.Unlock()
	wait(done, 2)
	if err := w.Update(ctx, entry("/off/c")); err != nil {
		t.Fatal(err)
	}
	fw.noWindow(t, "a window of 0")
}
