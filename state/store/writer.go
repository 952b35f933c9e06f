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
// How a change becomes durable depends on the backend. A backend that
// implements Appender gets each batch of changes appended (its cost does not
// grow with the state), and the whole state is saved once, by Close. Any other
// backend gets the whole state saved for every batch; its cost grows with the
// number of entries, and when uploads are paced (Frame.io allows 5 creates a
// second) changes arrive one at a time and each would pay a full save. The
// Writer therefore keeps saving from taking more than half of the time: after
// a save that took d, the next one starts no sooner than d after it ended, and
// carries every change made meanwhile.
//
// With an Appender, a batch also waits briefly for company before it is written (a
// group-commit window): each Append costs one fdatasync, and on a fast disk so few Updates
// arrive during one that nearly every finished file would pay its own. The wait ends once
// commitMax Updates are waiting or commitWait has passed, and it is skipped unless the
// previous batch carried more than one Update, so a lone serial writer never waits. No Update
// returns before its change is written and synced: the window only delays the sync.
type Writer struct {
	b Backend

	mu      sync.Mutex // guards s, gen, pending and waiting
	s       *state.State
	gen     uint64                               // count of changes applied to s
	pending []state.Change                       // changes not yet durable, oldest first, for an Appender
	waiting int                                  // Updates whose changes are in pending
	arrived chan struct{}                        // signalled (without blocking) when an Update adds to pending
	after   func(time.Duration) <-chan time.Time // the window's clock (tests fake it)

	saveMu   sync.Mutex    // one save at a time; guards the fields below
	saved    uint64        // gen of the last change made durable
	appended bool          // changes were appended since the last Save
	lastEnd  time.Time     // when the last save ended
	lastDur  time.Duration // how long it took
	company  bool          // the last batch appended carried more than one Update
	winMax   int           // the group-commit window: end it once winMax Updates wait,
	winWait  time.Duration // or after winWait (0: no window)
}

// The group-commit window (see Writer): a batch waits at most commitWait, and no longer once
// commitMax Updates are waiting. Both are small on purpose: apply's workers wait for two
// durable records per file, so every microsecond of window is added to each file's time, and
// at a fixed --parallel that is files/s. Measured on 10,000 small files at --parallel 16
// (DESIGN.md, 2026-12-02 savecpu), 500 µs and 4 cut the process's CPU per file by 4-12% at
// no loss of files/s; 1 ms and 16 cut it by 16% but cost 9% of the files/s.
const (
	commitWait = 500 * time.Microsecond
	commitMax  = 4
)

// NewWriter returns a Writer that owns s and saves it to b. The caller must
// not use s afterwards except through the Writer, and should call Close when
// done so that appended changes are saved as one state.
func NewWriter(b Backend, s *state.State) *Writer {
	return &Writer{b: b, s: s, arrived: make(chan struct{}, 1), after: time.After, winMax: commitMax, winWait: commitWait}
}

// SetCommitWindow changes the group-commit window (see Writer) from its default of 500 µs or
// 4 Updates: a batch waits at most wait for more Updates, and no longer once maxUpdates of
// them are waiting. A wait of 0 turns the window off.
func (w *Writer) SetCommitWindow(maxUpdates int, wait time.Duration) {
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	w.winMax, w.winWait = maxUpdates, wait
}

// Update calls fn with the current state, applies the Change it returns under
// the Writer's mutex, then makes the result durable. fn must not change s or
// keep it, and must not call the Writer. A nil return means this change (and
// every earlier one) is durable. After a failed save the change stays in
// memory and the next Update retries it.
func (w *Writer) Update(ctx context.Context, fn func(s *state.State) state.Change) error {
	w.mu.Lock()
	c := fn(w.s)
	if c.Empty() {
		gen := w.gen
		w.mu.Unlock()
		return w.flush(ctx, gen, false)
	}
	w.s.Apply(c)
	w.gen++
	mine := w.gen
	_, appends := w.b.(Appender)
	if appends {
		w.pending = append(w.pending, c)
		w.waiting++
	}
	w.mu.Unlock()
	if appends {
		select {
		case w.arrived <- struct{}{}:
		default:
		}
	}
	return w.flush(ctx, mine, appends)
}

// Stage applies the Change fn returns, as Update does, without waiting for it to be durable:
// it becomes durable with the next Update, Flush or Close, which write it before their own
// change. Use it only for a change whose loss in a crash has a recovery path of its own.
func (w *Writer) Stage(fn func(s *state.State) state.Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := fn(w.s)
	if c.Empty() {
		return
	}
	w.s.Apply(c)
	w.gen++
	if _, ok := w.b.(Appender); ok {
		w.pending = append(w.pending, c)
	}
}

// Flush makes any change not yet durable durable, e.g. after a failed Update.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	return w.flush(ctx, gen, false)
}

// Close makes every change durable and, when changes were appended, saves the
// whole state once (for a journaling backend, its compaction). The Writer
// may still be used afterwards; Close may be called again.
func (w *Writer) Close(ctx context.Context) error {
	if err := w.Flush(ctx); err != nil {
		return err
	}
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	if !w.appended {
		return nil
	}
	if err := w.save(ctx); err != nil {
		return err
	}
	w.appended = false
	return nil
}

// flush returns once generation gen is durable, writing it unless a write
// that started later already covered it. An Update's flush (window) may first wait for
// company (see Writer); Flush and Close write at once.
func (w *Writer) flush(ctx context.Context, gen uint64, window bool) error {
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	if w.saved >= gen {
		return nil
	}
	a, appends := w.b.(Appender)
	if !appends {
		if wait := time.Until(w.lastEnd.Add(w.lastDur)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		return w.save(ctx)
	}
	if window && w.company && w.winWait > 0 {
		w.gather(ctx)
	}
	w.mu.Lock()
	batch := w.pending
	base := &state.State{Version: w.s.Version, Serial: w.s.Serial, Lineage: w.s.Lineage, Target: w.s.Target, Manifest: w.s.Manifest}
	batchGen := w.gen
	updates := w.waiting
	w.mu.Unlock()
	if err := a.Append(ctx, base, batch); err != nil {
		return err
	}
	w.mu.Lock()
	w.pending = w.pending[len(batch):]
	w.waiting -= updates
	w.mu.Unlock()
	w.saved = batchGen
	w.appended = true
	w.company = updates > 1
	return nil
}

// gather is the group-commit window: it returns once winMax Updates are waiting, winWait
// has passed, or ctx is done. saveMu must be held.
func (w *Writer) gather(ctx context.Context) {
	w.mu.Lock()
	n := w.waiting
	w.mu.Unlock()
	if n >= w.winMax {
		return
	}
	timeout := w.after(w.winWait)
	for {
		select {
		case <-w.arrived:
			w.mu.Lock()
			n = w.waiting
			w.mu.Unlock()
			if n >= w.winMax {
				return
			}
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
}

// save stores the whole current state. saveMu must be held.
func (w *Writer) save(ctx context.Context) error {
	start := time.Now()
	w.mu.Lock()
	snap := w.s.Clone()
	snapGen := w.gen
	npending, nwaiting := len(w.pending), w.waiting
	w.mu.Unlock()

	err := w.b.Save(ctx, snap)
	w.lastEnd = time.Now()
	w.lastDur = w.lastEnd.Sub(start)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.s.Serial = snap.Serial
	w.pending = w.pending[npending:]
	w.waiting -= nwaiting
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
