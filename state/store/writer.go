package store

import (
	"context"
	"sync"
	"time"

	"github.com/fiosync/fiosync/state"
)

// DefaultCommitInterval is how long the Wait of a change made with Commit waits for another
// write to carry the change before it writes it itself. Apply's waiters have given up their
// slots, so the wait costs them nothing; at 50 ms the records of finished small files mostly
// ride with the next intents written ahead (one write per 4*--parallel files started), where
// 20 ms gave them writes of their own (the state's CPU share at 10,000 files: 7.3-7.5% vs
// 8.9-9.0% by rusage).
const DefaultCommitInterval = 50 * time.Millisecond

// Writer is the single writer of one state for many goroutines: apply's
// workers call Update as each file finishes. Changes are applied under a
// mutex; saves are coalesced, so while one save is on disk the changes that
// arrive meanwhile are written together by the next, and every caller still
// returns only once its change is durable. Commit lets many callers share one
// write on purpose: its change waits up to the commit interval for another
// write to carry it.
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
type Writer struct {
	b        Backend
	interval time.Duration                        // see Commit
	after    func(time.Duration) <-chan time.Time // the clock of Pending.Wait (tests fake it)

	mu      sync.Mutex // guards s, gen, pending, durable and wrote
	s       *state.State
	gen     uint64         // count of changes applied to s
	pending []state.Change // changes not yet durable, oldest first, for an Appender
	durable uint64         // gen of the last change made durable
	wrote   chan struct{}  // closed, and replaced, when durable moves on

	saveMu   sync.Mutex    // one save at a time; guards the fields below
	appended bool          // changes were appended since the last Save
	lastEnd  time.Time     // when the last save ended
	lastDur  time.Duration // how long it took
}

// NewWriter returns a Writer that owns s and saves it to b, with DefaultCommitInterval. The
// caller must not use s afterwards except through the Writer, and should call Close when
// done so that appended changes are saved as one state.
func NewWriter(b Backend, s *state.State) *Writer {
	return &Writer{b: b, s: s, interval: DefaultCommitInterval, after: time.After, wrote: make(chan struct{})}
}

// Update calls fn with the current state, applies the Change it returns under
// the Writer's mutex, then makes the result durable. fn must not change s or
// keep it, and must not call the Writer. A nil return means this change (and
// every earlier one) is durable. After a failed save the change stays in
// memory and the next Update retries it.
func (w *Writer) Update(ctx context.Context, fn func(s *state.State) state.Change) error {
	return w.flush(ctx, w.Commit(fn).gen)
}

// Commit applies the Change fn returns, as Update does, and returns at once: the Pending's
// Wait returns once the change is durable. Changes committed by many goroutines within the
// commit interval share one write, so Commit suits a caller that can go on with other work
// and wait later (apply waits for a finished file's record once the file has given up its
// slot). A change not waited for becomes durable with the next write (see Stage).
func (w *Writer) Commit(fn func(s *state.State) state.Change) Pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := fn(w.s)
	if c.Empty() {
		return Pending{w: w, gen: w.gen}
	}
	w.s.Apply(c)
	w.gen++
	if _, ok := w.b.(Appender); ok {
		w.pending = append(w.pending, c)
	}
	return Pending{w: w, gen: w.gen}
}

// Stage applies the Change fn returns, as Update does, without waiting for it to be durable:
// it becomes durable with the next write (an Update, the Wait of a Commit, Flush or Close),
// which writes it before their own change. Use it only for a change whose loss in a crash
// has a recovery path of its own.
func (w *Writer) Stage(fn func(s *state.State) state.Change) { w.Commit(fn) }

// Pending is a change made with Writer.Commit. The zero Pending is durable.
type Pending struct {
	w   *Writer
	gen uint64
}

// Wait returns once p's change (and every change made before it) is durable. It waits up to
// the Writer's commit interval for another write (an Update, another Wait, Flush) to carry
// the change, and then writes what is pending itself. A nil error means the change is
// durable; after a failed write the change stays in memory, and the next write retries it.
func (p Pending) Wait(ctx context.Context) error {
	w := p.w
	if w == nil {
		return nil
	}
	var timeout <-chan time.Time
	for {
		w.mu.Lock()
		done, wrote := w.durable >= p.gen, w.wrote
		w.mu.Unlock()
		if done {
			return nil
		}
		if w.interval <= 0 {
			break
		}
		if timeout == nil {
			timeout = w.after(w.interval)
		}
		select {
		case <-wrote:
			continue
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
		}
		break
	}
	return w.flush(ctx, p.gen)
}

// markDurable records that every change up to gen is durable and wakes the Waits.
// mu must be held.
func (w *Writer) markDurable(gen uint64) {
	if gen <= w.durable {
		return
	}
	w.durable = gen
	close(w.wrote)
	w.wrote = make(chan struct{})
}

// Flush makes any change not yet durable durable, e.g. after a failed Update.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	return w.flush(ctx, gen)
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
// that started later already covered it.
func (w *Writer) flush(ctx context.Context, gen uint64) error {
	w.saveMu.Lock()
	defer w.saveMu.Unlock()
	w.mu.Lock()
	done := w.durable >= gen
	w.mu.Unlock()
	if done {
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
	w.mu.Lock()
	batch := w.pending
	base := &state.State{Version: w.s.Version, Serial: w.s.Serial, Lineage: w.s.Lineage, Target: w.s.Target, Manifest: w.s.Manifest}
	batchGen := w.gen
	w.mu.Unlock()
	if err := a.Append(ctx, base, batch); err != nil {
		return err
	}
	w.mu.Lock()
	w.pending = w.pending[len(batch):]
	w.markDurable(batchGen)
	w.mu.Unlock()
	w.appended = true
	return nil
}

// save stores the whole current state. saveMu must be held.
func (w *Writer) save(ctx context.Context) error {
	start := time.Now()
	w.mu.Lock()
	snap := w.s.Clone()
	snapGen := w.gen
	npending := len(w.pending)
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
	w.markDurable(snapGen)
	w.mu.Unlock()
	return nil
}

// Snapshot returns a deep copy of the current state, saved or not.
func (w *Writer) Snapshot() *state.State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.s.Clone()
}
