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
func (r *run) applyFile(ctx context.Context, ch plan.Change) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	folderID, err := r.folder(ch.Folder)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	o, err := originOf(r.opts.Manifest, ch)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	r.emit(Event{Type: EventFileStart, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Total: ch.Size})

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
	res.FileID = del.entry.FileID
	note, err := r.finish(ctx, ch, folderID, del.entry)
	res.Note = note
	if del.adopted {
		res.Outcome = Adopted
		res.Note = "adopted"
	}
	if err != nil {
		// The file is delivered and recorded; only its on_change step failed.
		return r.failed(ctx, res, err)
	}
	if !del.adopted {
		res.Outcome = Done
	}
	r.emit(Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind,
		FileID: res.FileID, Bytes: del.entry.Source.Size, Note: res.Note})
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

// finish applies an update's on_change to the old file and saves the entry as complete. It
// returns a note for the result, and an error when the on_change step failed (the entry is
// saved anyway: the new file is delivered).
func (r *run) finish(ctx context.Context, ch plan.Change, folderID string, e *state.Entry) (string, error) {
	var note string
	var stepErr error
	if ch.Action == plan.Update && ch.Prior != nil && ch.Prior.Status == state.StatusComplete &&
		ch.Prior.FileID != "" && ch.Prior.FileID != e.FileID {
		old := ch.Prior.FileID
		switch ch.OnChange {
		case manifest.OnChangeReplace:
			err := r.client.DeleteFile(ctx, r.account, old)
			if err == nil || frameio.IsNotFound(err) {
				e.Previous = slices.DeleteFunc(e.Previous, func(id string) bool { return id == old })
				note = "replaced"
				r.emit(Event{Type: EventDelete, Address: ch.Address, FileID: old, Note: "replaced"})
			} else {
				stepErr = fmt.Errorf("delete replaced file %s: %w", old, err)
			}
		case manifest.OnChangeKeep:
			note = "kept previous"
		default: // version
			stack, err := r.stackVersion(ctx, folderID, old, e.FileID)
			if err == nil {
				e.VersionStackID = stack
				note = "version stacked"
			} else {
				stepErr = fmt.Errorf("stack version on %s: %w", old, err)
			}
		}
	}
	if err := r.saveEntry(ctx, ch.Address, e); err != nil {
		return note, errors.Join(stepErr, err)
	}
	return note, stepErr
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

// pending records fileID as the address's pending upload, before any byte is sent.
func (r *run) pending(ctx context.Context, ch plan.Change, folderID, fileID string, src source.Identity) (*state.Entry, error) {
	prev, stack := carried(ch)
	e := &state.Entry{
		Source:         src,
		FileID:         fileID,
		ParentID:       folderID,
		VersionStackID: stack,
		Previous:       prev,
		Status:         state.StatusPending,
		CreatedAt:      r.opts.Now().UTC(),
	}
	if err := r.saveEntry(ctx, ch.Address, e); err != nil {
		return nil, err
	}
	return e, nil
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
	_ = r.save(ctx, func(s *state.State) {
		if ch.Prior == nil {
			delete(s.Entries, ch.Address)
			return
		}
		s.Entries[ch.Address] = ch.Prior.Clone()
	})
}

// deleteRemote deletes a file; one that is already gone counts as deleted.
func (r *run) deleteRemote(ctx context.Context, fileID string) error {
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
		if err := r.removeStrays(ctx, folderID, name, size, prior.CreatedAt); err != nil {
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
//  1. It journals the intent first: a pending entry without a file id, stamped with the time.
//     A crash between the create and the next save leaves that entry, and the next run's
//     reconcile removes the file the lost answer was about.
//  2. It runs create. After an ambiguous failure (5xx, lost answer) it removes what the
//     create may have made (same name and size, created since the intent, unknown to the
//     state) and tries again.
//  3. It records the file id in the pending entry, before any byte is sent.
//
// size is the file's size, or -1 when unknown (remote). On failure the prior entry is back in
// the state, unless the run is being interrupted (then the intent stays for the next run).
func (r *run) createFile(ctx context.Context, ch plan.Change, folderID string, src source.Identity, size int64, create func() (*frameio.File, error)) (*frameio.File, *state.Entry, error) {
	e, err := r.pending(ctx, ch, folderID, "", src)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		f, err := create()
		if err == nil {
			e.FileID = f.ID
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
			if rerr := r.removeStrays(ctx, folderID, ch.Name, size, e.CreatedAt); rerr != nil {
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
// know.
func (r *run) removeStrays(ctx context.Context, folderID, name string, size int64, since time.Time) error {
	known := r.opts.State.Snapshot().FileIDs()
	since = since.Add(-clockSkew)
	var strays []string
	for f, err := range r.client.Files(ctx, r.account, folderID) {
		if err != nil {
			return fmt.Errorf("list files: %w", err)
		}
		if f.Name == name && (size < 0 || f.FileSize == size) && !f.CreatedAt.Before(since) && !known[f.ID] {
			strays = append(strays, f.ID)
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
	if ch.Prior != nil && ch.Prior.FileID != "" {
		res.FileID = ch.Prior.FileID
		err = r.deleteRemote(ctx, ch.Prior.FileID)
	}
	if err == nil {
		err = r.save(ctx, func(s *state.State) { delete(s.Entries, ch.Address) })
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
