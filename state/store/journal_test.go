package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

// headerOf is the base the Writer passes Append.
func headerOf(s *state.State) *state.State {
	return &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target, Manifest: s.Manifest}
}

func testEntry(i int) *state.Entry {
	return &state.Entry{Source: source.OfURL(fmt.Sprintf("https://example.com/%d", i)), FileID: fmt.Sprint("file-", i), Status: state.StatusComplete}
}

// appendN saves a sample state to f, then appends n records of one entry each, and returns
// the state and the journal's length after each record.
func appendN(t *testing.T, f *File, n int) (*state.State, []int64) {
	t.Helper()
	ctx := context.Background()
	s := saveNew(t, f)
	var ends []int64
	for i := range n {
		if err := f.Append(ctx, headerOf(s), []state.Change{state.PutEntry(fmt.Sprintf("/j/%d.mov", i), testEntry(i))}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(f.JournalPath())
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, fi.Size())
	}
	return s, ends
}

// journaled counts the /j/ entries of s, checking they are exactly /j/0 .. /j/(n-1).
func journaled(t *testing.T, s *state.State) int {
	t.Helper()
	n := 0
	for n < len(s.Entries) && s.Entries[fmt.Sprintf("/j/%d.mov", n)] != nil {
		n++
	}
	if len(s.Entries) != n+2 { // the sample's two entries
		t.Errorf("state has %d entries, want the sample's 2 and /j/0..%d", len(s.Entries), n-1)
	}
	return n
}

// TestJournalCutAtEveryByte: a crash leaves the journal cut anywhere. Every cut loads, with
// every record wholly before the cut and none after.
func TestJournalCutAtEveryByte(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	_, ends := appendN(t, f, 5)
	data := mustRead(t, f.JournalPath())
	for cut := 0; cut <= len(data); cut++ {
		if err := os.WriteFile(f.JournalPath(), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := NewFile(f.Path()).Load(ctx)
		if err != nil {
			t.Fatalf("journal cut at byte %d: %v", cut, err)
		}
		want := 0
		for want < len(ends) && ends[want] <= int64(cut) {
			want++
		}
		if got := journaled(t, s); got != want {
			t.Fatalf("journal cut at byte %d: %d records replayed, want %d", cut, got, want)
		}
	}
}

// TestJournalAppendAfterTornTail: the next writer cuts the torn record off and appends after
// the good ones.
func TestJournalAppendAfterTornTail(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	_, ends := appendN(t, f, 3)
	if err := os.Truncate(f.JournalPath(), ends[2]-5); err != nil {
		t.Fatal(err)
	}
	g := NewFile(f.Path())
	s, err := g.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Append(ctx, headerOf(s), []state.Change{state.PutEntry("/j/2.mov", testEntry(2))}); err != nil {
		t.Fatal(err)
	}
	s, err = NewFile(f.Path()).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := journaled(t, s); got != 3 {
		t.Errorf("%d records after appending past a torn tail, want 3", got)
	}
}

func TestJournalDamage(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	_, ends := appendN(t, f, 4)
	good := mustRead(t, f.JournalPath())
	stateBefore := mustRead(t, f.Path())

	t.Run("before the end", func(t *testing.T) {
		bad := append([]byte(nil), good...)
		bad[ends[0]+20] ^= 0x40 // inside record 2
		if err := os.WriteFile(f.JournalPath(), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := NewFile(f.Path()).Load(ctx)
		var je *JournalError
		if !errors.As(err, &je) || je.Offset != ends[0] {
			t.Fatalf("Load of a journal damaged in record 2: error %v, want *JournalError at byte %d", err, ends[0])
		}
		t.Log(err)
		// Nothing drops the records after the damage: not a save, not the next lock.
		g := NewFile(f.Path())
		if err := g.Save(ctx, saveState(t, stateBefore)); !errors.As(err, &je) {
			t.Errorf("Save over a damaged journal: error %v, want *JournalError", err)
		}
		u, err := g.Lock(ctx, LockInfo{Operation: "plan"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		u.Unlock()
		if string(mustRead(t, f.JournalPath())) != string(bad) || string(mustRead(t, f.Path())) != string(stateBefore) {
			t.Error("the damaged journal or the state changed")
		}
	})

	t.Run("in the last record", func(t *testing.T) {
		// Indistinguishable from a write torn by a crash: that record was never synced.
		bad := append([]byte(nil), good...)
		bad[ends[2]+20] ^= 0x40
		if err := os.WriteFile(f.JournalPath(), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := NewFile(f.Path()).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := journaled(t, s); got != 3 {
			t.Errorf("%d records replayed, want 3", got)
		}
	})

	t.Run("not a journal", func(t *testing.T) {
		if err := os.WriteFile(f.JournalPath(), []byte("hello, world, this is not a journal\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var je *JournalError
		if _, err := NewFile(f.Path()).Load(ctx); !errors.As(err, &je) {
			t.Errorf("Load beside a file that is no journal: error %v, want *JournalError", err)
		}
	})
}

// saveState decodes a state file's bytes.
func saveState(t *testing.T, data []byte) *state.State {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "s.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewFile(p).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJournalOfAnotherState(t *testing.T) {
	ctx := context.Background()
	a, b := newFile(t), newFile(t)
	appendN(t, a, 2)
	other := statetest.Sample()
	other.Lineage = "another-lineage"
	if err := b.Save(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, other); err != nil { // serial 2, as a's
		t.Fatal(err)
	}
	if err := os.WriteFile(b.JournalPath(), mustRead(t, a.JournalPath()), 0o644); err != nil {
		t.Fatal(err)
	}
	var je *JournalError
	if _, err := NewFile(b.Path()).Load(ctx); !errors.As(err, &je) || je.Offset != -1 {
		t.Errorf("Load beside another state's journal: error %v, want *JournalError naming no byte", err)
	}
}

// TestJournalLeftByCompaction: a save that died after writing the state and before removing
// the journal leaves records the state already holds; they load once, not twice, and the
// next lock removes them. A journal one serial behind whose records the state does not hold
// is refused.
func TestJournalLeftByCompaction(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	appendN(t, f, 3)
	journal := mustRead(t, f.JournalPath())
	s, err := f.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal after the compaction: stat error %v", err)
	}
	if err := os.WriteFile(f.JournalPath(), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	g := NewFile(f.Path())
	got, err := g.Load(ctx)
	if err != nil {
		t.Fatalf("Load with a journal the state holds: %v", err)
	}
	if got.Serial != 2 || journaled(t, got) != 3 {
		t.Errorf("serial %d, want 2", got.Serial)
	}
	// Appending on the new serial replaces the folded journal.
	if err := g.Append(ctx, headerOf(got), []state.Change{state.PutEntry("/j/3.mov", testEntry(3))}); err != nil {
		t.Fatal(err)
	}
	if got, err := NewFile(f.Path()).Load(ctx); err != nil || journaled(t, got) != 4 {
		t.Fatalf("after appending on the compacted state: %v", err)
	}

	// The same journal beside a state that moved on without its records.
	other := newFile(t)
	s = saveNew(t, other) // the journal's lineage
	if s.Lineage != sampleLineage(t, journal) {
		t.Fatal("the sample's lineage changed")
	}
	if err := other.Save(ctx, s); err != nil { // serial 2, without the journal's entries
		t.Fatal(err)
	}
	if err := os.WriteFile(other.JournalPath(), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	var je *JournalError
	if _, err := NewFile(other.Path()).Load(ctx); !errors.As(err, &je) {
		t.Errorf("Load beside a journal the state does not hold: error %v, want *JournalError", err)
	}
}

// sampleLineage returns the lineage of a journal's records.
func sampleLineage(t *testing.T, journal []byte) string {
	t.Helper()
	sc, err := scanJournal("j", journal)
	if err != nil || len(sc.records) == 0 {
		t.Fatalf("scan: %v", err)
	}
	return sc.records[0].Lineage
}

// TestLockCompactsJournal: the next locked run starts from one state file that holds what the
// dead writer appended.
func TestLockCompactsJournal(t *testing.T) {
	ctx := context.Background()
	f := newFile(t)
	appendN(t, f, 3)
	g := NewFile(f.Path())
	u, err := g.Lock(ctx, LockInfo{Operation: "apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	if _, err := os.Stat(f.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there after Lock: stat error %v", err)
	}
	s := saveState(t, mustRead(t, f.Path()))
	if s.Serial != 2 || journaled(t, s) != 3 {
		t.Errorf("state file after Lock at serial %d, want 2 holding the 3 records", s.Serial)
	}
}

// TestJournalThroughSymlink: a linked state journals beside the file it links to, and a Load
// through the link replays it.
func TestJournalThroughSymlink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	real := NewFile(filepath.Join(dir, "real", "fiosync.state.json"))
	if err := os.Mkdir(filepath.Dir(real.Path()), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.state.json")
	if err := os.Symlink(filepath.Join("real", "fiosync.state.json"), link); err != nil {
		t.Fatal(err)
	}
	f := NewFile(link)
	s := saveNew(t, f)
	if err := f.Append(ctx, headerOf(s), []state.Change{state.PutEntry("/j/0.mov", testEntry(0))}); err != nil {
		t.Fatal(err)
	}
	if f.JournalPath() != real.Path()+".journal" {
		t.Errorf("journal at %s, want beside the link's target", f.JournalPath())
	}
	if _, err := os.Stat(real.JournalPath()); err != nil {
		t.Fatal(err)
	}
	got, err := NewFile(link).Load(ctx)
	if err != nil || journaled(t, got) != 1 {
		t.Fatalf("Load through the link: %v", err)
	}
	if err := NewFile(link).Save(ctx, got); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is no longer a link after compaction (%v)", err)
	}
	if _, err := os.Stat(real.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there after the save: %v", err)
	}
}
