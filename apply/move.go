package apply

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// moveAll runs the plan's moves (the changes at idx), one destination folder at a time, in
// folder order. Per folder it checks each source, writes every move ahead in one state save
// (the entry re-keyed to its new address with a StepMove followup, so a kill at any later
// point is finished by the next apply), moves the plain files with the bulk endpoint (up to
// frameio.MaxMoveFiles a call; files.move for a single one) and each versioned file as its
// stack, renames the files whose name changed, and clears the followups in one more save.
// A runner (Options.Claims) first claims both addresses of each move (claimMoves); moveAll
// returns the moves other runners held, for the caller to come back to.
func (r *run) moveAll(ctx context.Context, idx []int, results []FileResult) (busy []int) {
	byFolder := map[string][]int{}
	for _, i := range idx {
		f := cleanFolder(r.plan.Changes[i].Folder)
		byFolder[f] = append(byFolder[f], i)
	}
	folders := make([]string, 0, len(byFolder))
	for f := range byFolder {
		folders = append(folders, f)
	}
	slices.Sort(folders)
	for _, f := range folders {
		if ctx.Err() != nil {
			for _, i := range byFolder[f] {
				results[i].Err = ctx.Err()
			}
			continue
		}
		busy = append(busy, r.moveInto(ctx, f, byFolder[f], results)...)
	}
	return busy
}

// moveInto moves the changes at idx, all into folder dir. It returns those another runner
// held, to try again later.
func (r *run) moveInto(ctx context.Context, dir string, idx []int, results []FileResult) (busy []int) {
	fail := func(i int, err error) {
		results[i] = r.failed(ctx, results[i], err)
	}
	folderID, err := r.folder(dir)
	if err != nil {
		for _, i := range idx {
			fail(i, err)
		}
		return nil
	}
	if r.opts.Claims != nil {
		var release func()
		idx, busy, release = r.claimMoves(ctx, folderID, idx, results)
		defer release()
	}
	var ready []int
	for _, i := range idx {
		ch := r.plan.Changes[i]
		r.emit(Event{Type: EventFileStart, Address: ch.Address, Action: ch.Action, Kind: ch.Kind})
		if err := r.checkMoveSource(ch); err != nil {
			fail(i, err)
			continue
		}
		if !r.opts.AllowDuplicates {
			// As for a create: an untracked file of the name already there would get a
			// twin. Checked here whatever the plan saw (a plan made with --refresh=false).
			id := ""
			if ch.Conflict != nil {
				id = ch.Conflict.ID
			} else if id, err = r.conflictAt(ctx, folderID, ch.Name); err != nil {
				fail(i, err)
				continue
			}
			if id != "" {
				fail(i, &ConflictError{Address: ch.Address, FileID: id, Move: true})
				continue
			}
		}
		ready = append(ready, i)
	}

	// Write ahead: the entries move to their new addresses, owing the move.
	var stale map[int]error
	err = r.save(ctx, func(s *state.State) state.Change {
		stale = map[int]error{}
		c := state.Change{Entries: map[string]*state.Entry{}}
		// entry is the address's entry with this change's earlier moves made.
		entry := func(addr string) *state.Entry {
			if e, ok := c.Entries[addr]; ok {
				return e
			}
			return s.Entries[addr]
		}
		for _, i := range ready {
			ch := r.plan.Changes[i]
			cur := entry(ch.From)
			if cur == nil || cur.FileID != ch.Prior.FileID || entry(ch.Address) != nil {
				stale[i] = fmt.Errorf("move %s to %s: the state changed since the plan was made; run fiosync plan again", ch.From, ch.Address)
				continue
			}
			e := cur.Clone()
			e.Source = ch.Source
			e.ParentID = folderID
			e.Followup = &state.Followup{Step: state.StepMove, FileID: cur.FileID}
			c.Entries[ch.From] = nil
			c.Entries[ch.Address] = e
		}
		return c
	})
	if err != nil {
		for _, i := range ready {
			fail(i, err)
		}
		return busy
	}
	ready = slices.DeleteFunc(ready, func(i int) bool {
		if err := stale[i]; err != nil {
			fail(i, err)
			return true
		}
		return false
	})

	// The calls: plain files in bulk, versioned files as their stacks.
	var plain, stacks []int
	for _, i := range ready {
		if r.plan.Changes[i].Prior.VersionStackID != "" {
			stacks = append(stacks, i)
		} else {
			plain = append(plain, i)
		}
	}
	moved := map[int]string{} // change -> the name Frame.io has for it now
	for chunk := range slices.Chunk(plain, frameio.MaxMoveFiles) {
		ids := make([]string, len(chunk))
		for j, i := range chunk {
			ids[j] = r.plan.Changes[i].Prior.FileID
		}
		var files []frameio.File
		var err error
		if len(ids) == 1 {
			var f *frameio.File
			if f, err = r.client.MoveFile(ctx, r.account, ids[0], folderID); err == nil {
				files = []frameio.File{*f}
			}
		} else {
			files, err = r.client.MoveFiles(ctx, r.account, folderID, ids)
		}
		if err != nil {
			for _, i := range chunk {
				fail(i, fmt.Errorf("move %s to %s: %w", r.plan.Changes[i].From, r.plan.Changes[i].Address, err))
			}
			continue
		}
		names := map[string]string{}
		for _, f := range files {
			names[f.ID] = f.Name
		}
		for _, i := range chunk {
			moved[i] = names[r.plan.Changes[i].Prior.FileID]
		}
	}
	for _, i := range stacks {
		ch := r.plan.Changes[i]
		if _, err := r.client.MoveVersionStack(ctx, r.account, ch.Prior.VersionStackID, folderID); err != nil {
			fail(i, fmt.Errorf("move %s with its versions to %s: %w", ch.From, ch.Address, err))
			continue
		}
		moved[i] = path.Base(ch.From) // the head version keeps its name
	}

	// Renames, then one save that settles every move that went through.
	done := make([]int, 0, len(moved))
	for _, i := range ready {
		name, ok := moved[i]
		if !ok {
			continue
		}
		ch := r.plan.Changes[i]
		if name != ch.Name {
			if _, err := r.client.RenameFile(ctx, r.account, ch.Prior.FileID, ch.Name); err != nil {
				fail(i, fmt.Errorf("rename %s to %q: %w", ch.From, ch.Name, err))
				continue
			}
		}
		done = append(done, i)
	}
	if len(done) == 0 {
		return busy
	}
	err = r.save(ctx, func(s *state.State) state.Change {
		c := state.Change{Entries: map[string]*state.Entry{}}
		for _, i := range done {
			addr := r.plan.Changes[i].Address
			if e := s.Entries[addr]; e != nil && e.Followup != nil && e.Followup.Step == state.StepMove {
				e = e.Clone()
				e.Followup = nil
				c.Entries[addr] = e
			}
		}
		return c
	})
	for _, i := range done {
		ch := r.plan.Changes[i]
		if err != nil {
			// Moved in Frame.io; the state still owes the move, which the next apply finds
			// done.
			fail(i, err)
			continue
		}
		results[i].Outcome, results[i].FileID, results[i].Note = Done, ch.Prior.FileID, "moved from "+ch.From
		r.emit(Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, FileID: ch.Prior.FileID, Note: results[i].Note})
	}
	return busy
}

// checkMoveSource fails when the file a move records for its new address is not the one the
// plan saw: a move records the plan's hash without reading the file again, so its stat must
// not have moved since.
func (r *run) checkMoveSource(ch plan.Change) error {
	if ch.Prior == nil || ch.Prior.FileID == "" || ch.From == "" || ch.Kind != source.Local {
		return fmt.Errorf("move to %q: the plan names no tracked file to move; run fiosync plan again", ch.Address)
	}
	o, err := originOf(r.opts.Manifest, ch)
	if err != nil {
		return err
	}
	fi, err := os.Stat(o.path)
	if err != nil {
		return fmt.Errorf("check source %q: %w", o.rel, err)
	}
	return checkPlanned(ch, source.OfFile(o.rel, fi))
}

// finishMove runs a StepMove followup that an interrupted apply wrote ahead: it moves e's
// file (its version stack when it has one) into e.ParentID and gives it the address's name.
// It looks first, and skips a plain file's move that already happened; the calls are
// idempotent anyway, so it does not matter whether they ran before.
func (r *run) finishMove(ctx context.Context, address string, e *state.Entry) error {
	name := path.Base(address)
	f, err := r.client.File(ctx, r.account, e.FileID)
	if err != nil {
		return fmt.Errorf("move %s: %w", address, err)
	}
	switch {
	case e.VersionStackID != "":
		if _, err := r.client.MoveVersionStack(ctx, r.account, e.VersionStackID, e.ParentID); err != nil {
			return fmt.Errorf("move %s with its versions: %w", address, err)
		}
	case f.ParentID != e.ParentID:
		if _, err := r.client.MoveFile(ctx, r.account, e.FileID, e.ParentID); err != nil {
			return fmt.Errorf("move %s: %w", address, err)
		}
	}
	if f.Name != name {
		if _, err := r.client.RenameFile(ctx, r.account, e.FileID, name); err != nil {
			return fmt.Errorf("rename %s: %w", address, err)
		}
	}
	return nil
}
