package store

import (
	"context"
	"sync"
	"time"

	"github.com/fiosync/fiosync/state"
)

// Writer is the single writer of one state for many goroutines: apply's
// workers call Update as each file finishes. Changes are applied under a
// mutex; saves are coalesced, so while one save is on disk the changes that
// arrive meanwhile are written together by the next, and every caller still
// returns only once its change is durable.
//
// A save rewrites the whole state, so its cost grows with the number of
// entries, and when uploads are paced (Frame.io allows 5 creates a second)
// changes arrive one at a time and each would pay a full save. The Writer
// therefore keeps saving from taking more than half of the time: after a save
// that took d, the next one starts no sooner than d after it ended, and carries
// every change made meanwhile. A small state saves at once; a state of ten
// thousand entries batches its changes instead of saving three times per file.
type Writer struct {
	b Backend

	mu    sync.Mutex // guards s and gen
	s     *state.State
	gen   uint64 // count of changes applied to s
	saved uint64 // gen of the last successful save; guarded by saveMu

	saveMu  sync.Mutex    // one save at a time
	lastEnd time.Time     // when the last save ended; guarded by saveMu
	lastDur time.Duration // how long it took; guarded by saveMu
}

// NewWriter returns a Writer that owns s and saves it to b. The caller must
// not use s afterwards except through the Writer.
func NewWriter(b Backend, s *state.State) *Writer { return &Writer{b: b, s: s} }

// Update applies fn to the state under the Writer's mutex, then makes the
// result durable. fn must not keep s or call the Writer; it must not change
// Serial or Lineage. A nil return means this change (and every earlier one)
// was saved. After a failed save the change stays in memory and the next
// Update retries the save.
func (w *Writer) Update(ctx context.Context, fn func(s *state.State)) error {
	w.mu.Lock()
	fn(w.s)
	w.gen++
	mine := w.gen
	w.mu.Unlock()
	return w.flush(ctx, mine)
}

// Flush saves any change not yet saved, e.g. after a failed Update.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	return w.flush(ctx, gen)
}

// flush returns once generation gen is durable, saving it unless a save
// that started later already covered it.
func (w *Writer) flush(ctx context.Context, gen uint64) error {
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	if w.saved >= gen {
		return nil
	}
	if wait := time.Until(w.lastEnd.Add(w.lastDur)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	start := time.Now()
	w.mu.Lock()
	snap := w.s.Clone()
	snapGen := w.gen
	w.mu.Unlock()

	err := w.b.Save(ctx, snap)
	w.lastEnd = time.Now()
	w.lastDur = w.lastEnd.Sub(start)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.s.Serial = snap.Serial
	w.mu.Unlock()
	w.saved = snapGen
	return nil
}

// Snapshot returns a deep copy of the current state, saved or not.
func (w *Writer) Snapshot() *state.State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.s.Clone()
}
