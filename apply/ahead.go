package apply

import (
	"context"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// intentsAhead is how many files per slot of Options.Parallel the dispatcher writes the
// intents of in one record (writeAhead).
const intentsAhead = 4

// perFileRecords turns the sharing of records off: no intent is written ahead, and a finished
// file waits for its own write in its slot, as every apply did before the journal (issue 18).
// Only BenchmarkApplySmallFiles sets it (export_test.go), to measure that apply beside
// today's in one run.
var perFileRecords = false

// aheadBytes bounds the bytes of the files whose intents are written ahead of the file
// starting now: an intent waits for its create no longer than it takes to send those.
const aheadBytes = 64 << 20

// writeAhead writes, in one record, the intents (createFile's step 1) of the new local files
// among the next changes to start, the first intentsAhead*Parallel of work (work[0] starts
// now; started is the bytes of the files started, its own included), so that their creates
// need not wait for a record each; it returns how many of work it looked at. It looks no
// further than aheadBytes past work[0], nor past what --max-transfer leaves. A change
// qualifies when its intent depends on nothing its file's start learns: a local create of an
// address the state does not track, whose folder is resolved and known to hold no untracked
// file of its name (conflictKnown: the first create in a folder that existed lists it, with
// an intent of its own). An update, whose intent would stand in for a complete entry, writes
// its own. A runner of a cooperative apply writes none: its intents go under claims. An
// intent no create took (its file failed before the create, or did not start) is put back by
// dropAhead; one a crash leaves is an interrupted create, which the next apply reconciles
// like any other: it looks for what the create may have made.
func (r *run) writeAhead(ctx context.Context, work []int, started int64) int {
	if r.opts.Claims != nil || perFileRecords {
		return len(work)
	}
	room := int64(aheadBytes)
	if r.opts.MaxTransfer > 0 {
		room = min(room, r.opts.MaxTransfer-started)
	}
	now := r.opts.Now().UTC()
	batch := map[string]*state.Entry{}
	n, ahead := 0, int64(0)
	for _, i := range work[:min(len(work), intentsAhead*r.opts.Parallel)] {
		ch := r.plan.Changes[i]
		if n > 0 {
			if ahead += uploadSize(ch); ahead > room {
				break
			}
		}
		n++
		if !qualifiesAhead(ch) {
			continue
		}
		folderID, err := r.folder(ch.Folder)
		if err != nil {
			continue
		}
		if !r.opts.AllowDuplicates {
			if id, known := r.conflictKnown(folderID, ch.Name); !known || id != "" {
				continue
			}
		}
		src := ch.Source
		src.Size = ch.Size
		batch[ch.Address] = r.intent(ch, folderID, "", src, now)
	}
	if len(batch) < 2 {
		return n // one intent is as cheap written by its create
	}
	put := func(*state.State) state.Change {
		c := state.Change{Entries: make(map[string]*state.Entry, len(batch))}
		for a, e := range batch {
			c.Entries[a] = e.Clone()
		}
		return c
	}
	if err := r.save(ctx, put); err != nil {
		// The intents are in the state's memory, and the next write retries them: remove
		// them after. The creates write intents of their own.
		r.putBack(ctx, batch)
		return n
	}
	r.aheadMu.Lock()
	defer r.aheadMu.Unlock()
	if r.ahead == nil {
		r.ahead = map[string]*state.Entry{}
	}
	for a, e := range batch {
		r.ahead[a] = e
	}
	return n
}

// qualifiesAhead reports whether ch's intent can be written before its file starts (see
// writeAhead): a local create of an address the state does not track.
func qualifiesAhead(ch plan.Change) bool {
	return ch.Kind == source.Local && ch.Action == plan.Create && ch.Prior == nil && ch.Conflict == nil
}

// takeAhead returns the intent written ahead for address, durable, and forgets it, or nil.
func (r *run) takeAhead(address string) *state.Entry {
	r.aheadMu.Lock()
	defer r.aheadMu.Unlock()
	e := r.ahead[address]
	delete(r.ahead, address)
	return e
}

// dropAhead removes, in one record, the intents written ahead that no create took.
func (r *run) dropAhead(ctx context.Context) {
	r.aheadMu.Lock()
	left := r.ahead
	r.ahead = nil
	r.aheadMu.Unlock()
	if len(left) > 0 {
		r.putBack(ctx, left)
	}
}

// putBack removes intents written ahead (of addresses the state did not track) as if they
// were never written.
func (r *run) putBack(ctx context.Context, intents map[string]*state.Entry) {
	_ = r.save(ctx, func(*state.State) state.Change {
		c := state.Change{Entries: make(map[string]*state.Entry, len(intents))}
		for a := range intents {
			c.Entries[a] = nil
		}
		return c
	})
}
