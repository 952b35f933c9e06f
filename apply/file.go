package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// delivery is a file that reached Frame.io and is confirmed complete, before on_change.
type delivery struct {
	entry   *state.Entry // Status complete, ready to save
	sent    int64
	adopted bool
}

// applyFile runs one create or update to the end: upload (or adopt), on_change, state.
// release gives up the file's slot of Options.Parallel; applyFile calls it once the file
// needs no more calls to Frame.io, before it waits for its record to be durable (see
// run.record), and the caller calls it in any case when applyFile returns.
func (r *run) applyFile(ctx context.Context, ch plan.Change, release func()) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	folderID, err := r.folder(ch.Folder)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	r.emit(Event{Type: EventFileStart, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Total: ch.Size})
	if (ch.Action == plan.Update || ch.Action == plan.Finish) && ch.Prior != nil && ch.Prior.Status == state.StatusComplete && ch.Prior.Followup != nil {
		// An earlier apply owes the prior file its on_change step: run it first, so this
		// update starts from a finished entry (and a finish change is only that). A create
		// that uploads again (the file is gone from Frame.io) carries the step instead.
		prior := ch.Prior.Clone()
		note, err := r.followup(ctx, ch.Address, folderID, prior, true)
		if err != nil {
			return r.failed(ctx, res, err)
		}
		if ch.Action == plan.Finish {
			res.Outcome, res.FileID, res.Note = Done, prior.FileID, note
			r.emit(Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, FileID: prior.FileID, Note: note})
			return res
		}
		ch.Prior = prior
	}
	if ch.Action == plan.Finish {
		return r.failed(ctx, res, fmt.Errorf("finish %q: the state owes it no on_change step; run fiosync plan again", ch.Address))
	}
	if ch.Action == plan.Create && ch.Prior == nil && !r.opts.AllowDuplicates {
		// A new address whose folder already holds an untracked file of its name: what a
		// lost state or a state rm leaves. Checked here whatever the plan saw, so a plan
		// made with --refresh=false cannot upload the delivery twice.
		id := ""
		if ch.Conflict != nil {
			id = ch.Conflict.ID
		} else if id, err = r.conflictAt(ctx, folderID, ch.Name); err != nil {
			return r.failed(ctx, res, err)
		}
		if id != "" {
			return r.failed(ctx, res, &ConflictError{Address: ch.Address, FileID: id})
		}
	}
	o, err := originOf(r.opts.Manifest, ch)
	if err != nil {
		return r.failed(ctx, res, err)
	}

	var del delivery
	if ch.Kind == source.Remote {
		del, err = r.remote(ctx, ch, o, folderID)
	} else {
		del, err = r.local(ctx, ch, o, folderID)
	}
	res.Bytes = del.sent
	if err != nil {
		return r.failed(ctx, res, err)
	}
	res.FileID, res.ViewURL = del.entry.FileID, del.entry.ViewURL
	res.Outcome = Done
	if del.adopted {
		res.Outcome = Adopted
	}
	done := func(note string) Event {
		if del.adopted {
			note = "adopted"
		}
		res.Note = note
		return Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind,
			FileID: res.FileID, ViewURL: res.ViewURL, Bytes: del.entry.Source.Size, Note: note}
	}
	if del.entry.Followup == nil {
		note := ""
		if ch.Action == plan.Update && ch.OnChange == manifest.OnChangeKeep {
			note = "kept previous"
		}
		if err := r.record(ctx, ch.Address, del.entry, release, done(note)); err != nil {
			return r.failed(ctx, res, err)
		}
		return res
	}
	// The on_change step the upload owes (its Followup, written ahead with the upload), then
	// e saved with its outcome. When the step fails, e is saved complete anyway, with its
	// Followup kept, so the next plan shows the address as not finished; resumed (adopted)
	// says the upload was found complete after an interruption, when the step may have run
	// already.
	note, err := r.followup(ctx, ch.Address, folderID, del.entry, del.adopted)
	ev := done(note)
	if err != nil {
		// The file is delivered and recorded; only its on_change step failed.
		return r.failed(ctx, res, err)
	}
	r.emit(ev)
	return res
}

// failed ends res with err: Failed, or Skipped when the run is being interrupted (not a
// failure of the file; the state says how far it got).
func (r *run) failed(ctx context.Context, res FileResult, err error) FileResult {
	res.Err = err
	if ctx.Err() != nil {
		res.Outcome = Skipped
		r.emit(Event{Type: EventFileSkipped, Address: res.Address, Action: res.Action, Kind: res.Kind, Error: "interrupted"})
		return res
	}
	res.Outcome = Failed
	r.emit(Event{Type: EventFileFailed, Address: res.Address, Action: res.Action, Kind: res.Kind, Error: err.Error()})
	return res
}

// followupOf returns the on_change step a new upload for ch owes: for an update of a complete
// file, stack onto it (version) or delete it (replace); for a create that redoes an upload
// which still owed one (an interrupted update, or a file gone from Frame.io), that step.
func followupOf(ch plan.Change) *state.Followup {
	prior := ch.Prior
	if prior == nil {
		return nil
	}
	if ch.Action == plan.Update && prior.Status == state.StatusComplete && prior.FileID != "" {
		switch ch.OnChange {
		case manifest.OnChangeReplace:
			return &state.Followup{Step: state.StepDelete, FileID: prior.FileID}
		case manifest.OnChangeKeep:
			return nil
		default:
			return &state.Followup{Step: state.StepStack, FileID: prior.FileID}
		}
	}
	if prior.Followup != nil {
		f := *prior.Followup
		return &f
	}
	return nil
}

// carried returns the Previous list and version stack a new entry for ch starts with: the
// prior's, plus the prior file itself when this is an update of a complete file (the old file
// stays known to the state until on_change has dealt with it).
func carried(ch plan.Change) ([]string, string) {
	if ch.Prior == nil {
		return nil, ""
	}
	prev := slices.Clone(ch.Prior.Previous)
	if ch.Action == plan.Update && ch.Prior.FileID != "" && ch.Prior.Status == state.StatusComplete {
		prev = append(prev, ch.Prior.FileID)
	}
	return prev, ch.Prior.VersionStackID
}

// followup runs e's Followup and saves e: without the Followup when the step succeeded, with
// it when it failed (the error says why). again says the step may have run before, in an
// apply that was interrupted: a stack then checks first whether the file already sits in one.
func (r *run) followup(ctx context.Context, address, folderID string, e *state.Entry, again bool) (string, error) {
	var note string
	var stepErr error
	switch f := e.Followup; f.Step {
	case state.StepDelete:
		err := r.client.DeleteFile(ctx, r.account, f.FileID)
		if err == nil || frameio.IsNotFound(err) {
			e.Previous = slices.DeleteFunc(e.Previous, func(id string) bool { return id == f.FileID })
			note = "replaced"
			r.emit(Event{Type: EventDelete, Address: address, FileID: f.FileID, Note: "replaced"})
		} else {
			stepErr = fmt.Errorf("delete replaced file %s: %w", f.FileID, err)
		}
	case state.StepStack:
		stack, err := r.stackOnce(ctx, folderID, f.FileID, e.FileID, again)
		switch {
		case err == nil:
			e.VersionStackID = stack
			note = "version stacked"
		case frameio.IsNotFound(err) && r.gone(ctx, f.FileID):
			// The earlier version was deleted in Frame.io: there is nothing to stack onto.
			e.Previous = slices.DeleteFunc(e.Previous, func(id string) bool { return id == f.FileID })
			note = "earlier version gone from Frame.io; not stacked"
		default:
			stepErr = fmt.Errorf("stack version on %s: %w", f.FileID, err)
		}
	case state.StepMove:
		if stepErr = r.finishMove(ctx, address, e); stepErr == nil {
			note = "move finished"
		}
	default:
		stepErr = fmt.Errorf("on_change step %q of %s: unknown step", f.Step, address)
	}
	if stepErr == nil {
		e.Followup = nil
	}
	if err := r.saveEntry(ctx, address, e); err != nil {
		return note, errors.Join(stepErr, err)
	}
	return note, stepErr
}

// gone reports whether Frame.io says the file id no longer exists.
func (r *run) gone(ctx context.Context, id string) bool {
	_, err := r.client.File(ctx, r.account, id)
	return frameio.IsNotFound(err)
}

// stackOnce stacks newID on old, unless again and newID already sits in a version stack
// (an interrupted apply stacked it before its state was saved).
func (r *run) stackOnce(ctx context.Context, folderID, old, newID string, again bool) (string, error) {
	if again {
		f, err := r.client.File(ctx, r.account, newID)
		if err != nil {
			return "", err
		}
		if f.ParentID != "" && f.ParentID != folderID {
			return f.ParentID, nil
		}
	}
	return r.stackVersion(ctx, folderID, old, newID)
}

// stackVersion stacks newID on old and returns the stack's id. The old file may already sit
// in a stack: naming it first makes the new file join that stack (Frame.io stacks onto the
// stack of the first file). After an ambiguous failure, the new file's parent tells whether
// the stack was made after all.
func (r *run) stackVersion(ctx context.Context, folderID, old, newID string) (string, error) {
	for attempt := 1; ; attempt++ {
		vs, err := r.client.CreateVersionStack(ctx, r.account, folderID, []string{old, newID})
		if err == nil {
			return vs.ID, nil
		}
		if ctx.Err() != nil || !ambiguous(err) || attempt >= createAttempts {
			return "", err
		}
		f, ferr := r.client.File(ctx, r.account, newID)
		if ferr != nil {
			return "", errors.Join(err, ferr)
		}
		if f.ParentID != "" && f.ParentID != folderID {
			return f.ParentID, nil
		}
	}
}

// pending records fileID as the address's pending upload, before any byte is sent, with the
// on_change step the upload owes its prior file (followupOf): written ahead, so an apply
// interrupted at any point still runs it.
func (r *run) pending(ctx context.Context, ch plan.Change, folderID, fileID string, src source.Identity) (*state.Entry, error) {
	e := r.intent(ch, folderID, fileID, src, r.opts.Now().UTC())
	if err := r.saveEntry(ctx, ch.Address, e); err != nil {
		return nil, err
	}
	return e, nil
}

// intent returns the pending entry of an upload for ch of src into folderID (see pending),
// stamped now.
func (r *run) intent(ch plan.Change, folderID, fileID string, src source.Identity, now time.Time) *state.Entry {
	prev, stack := carried(ch)
	return &state.Entry{
		Source:         src,
		FileID:         fileID,
		ParentID:       folderID,
		VersionStackID: stack,
		Previous:       prev,
		Status:         state.StatusPending,
		CreatedAt:      now,
		Followup:       followupOf(ch),
	}
}

// abandon cleans up after a failed upload: it deletes the placeholder fileID (if any) and
// puts the prior entry back, so the state describes the situation before this run touched the
// address. When the run is being interrupted, or the delete fails, the pending entry stays:
// the next run reconciles it.
func (r *run) abandon(ctx context.Context, ch plan.Change, fileID string) {
	if ctx.Err() != nil {
		return
	}
	if fileID != "" {
		if err := r.deleteRemote(ctx, fileID); err != nil {
			return
		}
	}
	_ = r.save(ctx, func(*state.State) state.Change {
		if ch.Prior == nil {
			return state.RemoveEntry(ch.Address)
		}
		return state.PutEntry(ch.Address, ch.Prior)
	})
}

// deleteRemote deletes a file, and its part journal; one that is already gone counts as
// deleted.
func (r *run) deleteRemote(ctx context.Context, fileID string) error {
	r.forget(fileID)
	err := r.client.DeleteFile(ctx, r.account, fileID)
	if err == nil || frameio.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf("delete file %s: %w", fileID, err)
}

// reconcile decides what to do with an interrupted upload (a change whose prior entry is
// pending). It returns true when Frame.io has the file complete and matches says it is the
// same content (the caller then adopts it). Otherwise it removes the placeholder and returns
// false, so the caller uploads again.
//
// A pending entry without a file id is a create that was journaled but whose answer never
// reached the state: Frame.io may or may not have made the file. Any file of that name (and
// size, when size >= 0) that appeared in the folder since, and that the state does not know,
// is that file, and is deleted.
func (r *run) reconcile(ctx context.Context, prior *state.Entry, folderID, name string, size int64, matches func(*frameio.File) bool) (bool, error) {
	if prior == nil || prior.Status != state.StatusPending {
		return false, nil
	}
	if prior.FileID == "" {
		if prior.ParentID != "" {
			folderID = prior.ParentID
		}
		// prior is the state's entry when the run started, or a dead runner's (Claims): the
		// run that left it is over.
		if err := r.removeStrays(ctx, folderID, name, size, prior.CreatedAt, true); err != nil {
			return false, fmt.Errorf("remove interrupted create: %w", err)
		}
		return false, nil
	}
	st, err := r.client.FileStatus(ctx, r.account, prior.FileID)
	switch {
	case frameio.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check interrupted upload %s: %w", prior.FileID, err)
	}
	if st.UploadComplete && !st.UploadFailed {
		f, err := r.client.File(ctx, r.account, prior.FileID)
		if err != nil && !frameio.IsNotFound(err) {
			return false, fmt.Errorf("check interrupted upload %s: %w", prior.FileID, err)
		}
		if err == nil && matches(f) {
			return true, nil
		}
	}
	if err := r.deleteRemote(ctx, prior.FileID); err != nil {
		return false, fmt.Errorf("remove interrupted upload: %w", err)
	}
	return false, nil
}

// ambiguous reports whether a failed create may have taken effect: the server answered 5xx,
// or the answer was lost (a network error or a timeout) after the request may have arrived.
func ambiguous(err error) bool {
	code := frameio.StatusCode(err)
	if code >= 500 {
		return true
	}
	return code == 0 && !errors.Is(err, context.Canceled)
}

// createFile creates the remote file for ch so that nothing can end up twice:
//
//  1. It journals the intent first: a pending entry without a file id, stamped with the time
//     (or takes the one the dispatcher wrote ahead with others, see writeAhead). A crash
//     between the create and the next save leaves that entry, and the next run's reconcile
//     removes the file the lost answer was about.
//  2. It runs create. After an ambiguous failure (5xx, lost answer) it removes what the
//     create may have made (same name and size, created since the intent, unknown to the
//     state) and tries again.
//  3. It records the file id in the pending entry, durable before any byte is sent; for a
//     local file of one part it is only staged (see store.Writer.Stage) and becomes durable
//     with the next record, since losing it costs no more than step 1's recovery.
//
// size is the file's size, or -1 when unknown (remote). On failure the prior entry is back in
// the state, unless the run is being interrupted (then the intent stays for the next run).
func (r *run) createFile(ctx context.Context, ch plan.Change, folderID string, src source.Identity, size int64, create func() (*frameio.File, error)) (*frameio.File, *state.Entry, error) {
	e := r.takeAhead(ch.Address)
	if e != nil {
		// Durable with the earlier stamp until the next record; from here on, strays of
		// this create are looked for only since now.
		e.Source, e.CreatedAt = src, r.opts.Now().UTC()
	} else {
		var err error
		if e, err = r.pending(ctx, ch, folderID, "", src); err != nil {
			return nil, nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		f, err := create()
		if err == nil {
			e.FileID, e.ViewURL = f.ID, f.ViewURL
			if size >= 0 && len(f.UploadURLs) == 1 {
				// A local file of one part has no part to resume: its id rides with the next
				// record (at the latest the entry complete) instead of costing an fsync of
				// its own. Lost in a crash, it leaves the intent, and the next run removes
				// the file as a stray (as after a lost create answer) and uploads again.
				r.opts.State.Stage(func(*state.State) state.Change { return state.PutEntry(ch.Address, e) })
				return f, e, nil
			}
			if err := r.saveEntry(ctx, ch.Address, e); err != nil {
				r.abandon(ctx, ch, f.ID)
				return nil, nil, err
			}
			return f, e, nil
		}
		err = fmt.Errorf("create file %q: %w", ch.Name, err)
		if ctx.Err() != nil {
			return nil, nil, err // the intent stays: the create may have happened
		}
		if ambiguous(err) {
			if rerr := r.removeStrays(ctx, folderID, ch.Name, size, e.CreatedAt, false); rerr != nil {
				return nil, nil, errors.Join(err, rerr) // the intent stays
			}
		}
		if !ambiguous(err) || attempt >= createAttempts {
			r.abandon(ctx, ch, "")
			return nil, nil, err
		}
		if err := sleep(ctx, time.Duration(attempt)*r.opts.PollInterval); err != nil {
			return nil, nil, fmt.Errorf("create file %q: %w", ch.Name, err)
		}
	}
}

// removeStrays deletes the files in folderID named name (and of size size, when size >= 0)
// that Frame.io created since the given time (less clockSkew) and that the state does not
// know. left says the intent was left by an earlier run, over now (an entry of the state the
// run started from, with the state locked): the run's one listing of the folder (listing)
// then serves, since every file that run made is there before this one lists.
func (r *run) removeStrays(ctx context.Context, folderID, name string, size int64, since time.Time, left bool) error {
	known := r.opts.State.Snapshot().FileIDs()
	since = since.Add(-clockSkew)
	var strays []string
	match := func(f frameio.File) {
		if f.Name == name && (size < 0 || f.FileSize == size) && !f.CreatedAt.Before(since) && !known[f.ID] {
			strays = append(strays, f.ID)
		}
	}
	if left && r.opts.Claims == nil {
		fl := r.listing(ctx, folderID)
		if fl.err != nil {
			return fl.err
		}
		for _, f := range fl.byName[name] {
			match(f)
		}
	} else {
		for f, err := range r.client.Files(ctx, r.account, folderID) {
			if frameio.IsNotFound(err) {
				return nil // the folder is gone, and the files it held with it
			}
			if err != nil {
				return fmt.Errorf("list files: %w", err)
			}
			match(f)
		}
	}
	for _, id := range strays {
		if err := r.deleteRemote(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deleteFile runs a prune: delete the file in Frame.io (gone already is fine) and forget the
// address. Older versions the address kept (Previous) are left in Frame.io.
func (r *run) deleteFile(ctx context.Context, ch plan.Change) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Failed}
	var err error
	switch prior := ch.Prior; {
	case prior != nil && prior.FileID != "":
		res.FileID = prior.FileID
		err = r.deleteRemote(ctx, prior.FileID)
	case prior != nil && prior.Status == state.StatusPending && prior.ParentID != "":
		// An interrupted create whose answer was lost: remove what it may have made.
		size := int64(-1)
		if prior.Source.Kind == source.Local {
			size = prior.Source.Size
		}
		err = r.removeStrays(ctx, prior.ParentID, ch.Name, size, prior.CreatedAt, true)
	}
	if err == nil {
		err = r.save(ctx, func(*state.State) state.Change { return state.RemoveEntry(ch.Address) })
	}
	if err != nil {
		res.Err = err
		r.emit(Event{Type: EventFileFailed, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Error: err.Error()})
		return res
	}
	res.Outcome = Done
	r.emit(Event{Type: EventDelete, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, FileID: res.FileID})
	return res
}
