package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/stream"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// local uploads (or adopts) a local file and returns it confirmed complete.
func (r *run) local(ctx context.Context, ch plan.Change, o origin, folderID string) (delivery, error) {
	f, err := os.Open(o.path)
	if err != nil {
		return delivery{}, fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return delivery{}, fmt.Errorf("stat source: %w", err)
	}
	before := source.OfFile(o.rel, fi)
	if err := checkPlanned(ch, before); err != nil {
		return delivery{}, err
	}

	var sent int64
	if prior := ch.Prior; prior != nil && prior.Status == state.StatusPending {
		// An interrupted upload whose parts are journaled on this machine, and whose source
		// did not change since, sends only the parts Frame.io did not accept.
		del, resumed, err := r.resumeParts(ctx, ch, prior, f, before)
		if resumed || err != nil {
			return del, err
		}
		sent = del.sent

		// One whose file is complete is adopted: hash the local file to record what it
		// holds, but send nothing. Any other is removed, and uploaded again below.
		adopt, err := r.reconcile(ctx, prior, folderID, ch.Name, prior.Source.Size, func(rf *frameio.File) bool {
			return rf.FileSize == before.Size && source.Unchanged(prior.Source, before)
		})
		if err != nil {
			return delivery{sent: sent}, err
		}
		if adopt {
			// The one read of an adopt: BLAKE3 for the state and, under an ASC MHL history,
			// its check. A file an earlier run completed without the check (the entry had
			// no mhl: then) and that contradicts the history is deleted, not adopted.
			var content io.Reader = io.NewSectionReader(f, 0, before.Size)
			check := r.newMHLCheck(ch.Address, before.Path)
			if check != nil {
				content = io.TeeReader(content, check.hasher)
			}
			digest, _, err := source.HashReader(content)
			if err != nil {
				return delivery{}, fmt.Errorf("hash source %q: %w", o.rel, err)
			}
			if err := check.verify(); err != nil {
				r.abandon(ctx, ch, prior.FileID)
				return delivery{}, err
			}
			e := prior.Clone()
			e.Source = before
			e.Source.Hash = digest
			e.Status = state.StatusComplete
			e.UploadedAt = r.opts.Now().UTC()
			return delivery{entry: e, adopted: true}, nil
		}
	}

	for attempt := 1; ; attempt++ {
		rf, e, err := r.createFile(ctx, ch, folderID, before, before.Size, func() (*frameio.File, error) {
			return r.client.CreateLocalUpload(ctx, r.account, folderID, ch.Name, before.Size)
		})
		if err != nil {
			return delivery{sent: sent}, err
		}
		log := r.journal(rf, before)
		del, err := r.upload(ctx, ch, f, rf, e, before, nil, log)
		sent += del.sent
		del.sent = sent
		if errors.Is(err, frameio.ErrURLRejected) && ctx.Err() == nil {
			r.forget(rf.ID)
			if attempt > 1 {
				r.abandon(ctx, ch, rf.ID)
				return del, err
			}
			// Expired or rejected part URLs cannot be renewed: delete the placeholder and
			// create the file again, once.
			if derr := r.deleteRemote(ctx, rf.ID); derr != nil {
				return del, errors.Join(err, derr)
			}
			continue
		}
		return del, err
	}
}

// upload sends the parts of rf from f that done does not mark as accepted already (all of
// them when done is nil), records each in log, confirms the file and returns it complete as e.
// On failure the placeholder is abandoned, but for rejected part URLs, which the caller
// handles; on interruption it stays, with its journal, for the next run to resume.
func (r *run) upload(ctx context.Context, ch plan.Change, f *os.File, rf *frameio.File, e *state.Entry, before source.Identity, done []bool, log *partjournal.Log) (delivery, error) {
	digest, n, err := r.sendParts(ctx, ch.Address, f, rf, done, log, r.newMHLCheck(ch.Address, before.Path))
	log.Close() // a journal that could not be written only costs a resume

	if errors.Is(err, frameio.ErrURLRejected) && ctx.Err() == nil {
		return delivery{sent: n}, err
	}
	if err == nil {
		err = r.confirm(ctx, rf.ID, before.Size)
	}
	if err == nil {
		err = checkUnchanged(f, before.Path, before)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.forget(rf.ID)
			r.abandon(ctx, ch, rf.ID)
		}
		return delivery{sent: n}, err
	}
	r.forget(rf.ID)
	e.Source = before
	e.Source.Hash = digest
	e.Status = state.StatusComplete
	e.UploadedAt = r.opts.Now().UTC()
	return delivery{entry: e, sent: n}, nil
}

// resumeParts continues the interrupted upload of prior when this machine's part journal
// holds it and it can still be resumed (partjournal.Upload.Usable: the same local file, URLs
// valid for a while yet) and Frame.io has the file, not complete. It returns false, with
// nothing sent, when it cannot, and the caller reconciles the upload the old way.
func (r *run) resumeParts(ctx context.Context, ch plan.Change, prior *state.Entry, f *os.File, before source.Identity) (delivery, bool, error) {
	j := r.opts.Parts
	if j == nil || prior.FileID == "" {
		return delivery{}, false, nil
	}
	up, done, err := j.Load(prior.FileID)
	if err != nil {
		return delivery{}, false, nil
	}
	if !up.Usable(r.opts.Now(), before) {
		r.forget(prior.FileID)
		return delivery{}, false, nil
	}
	st, err := r.client.FileStatus(ctx, r.account, prior.FileID)
	switch {
	case frameio.IsNotFound(err):
		r.forget(prior.FileID)
		return delivery{}, false, nil
	case err != nil:
		return delivery{}, false, fmt.Errorf("check interrupted upload %s: %w", prior.FileID, err)
	case st.UploadComplete || st.UploadFailed:
		return delivery{}, false, nil // adopted, or removed and uploaded again, by reconcile
	}
	rf := &frameio.File{ID: prior.FileID, FileSize: up.Size(), MediaType: up.MediaType}
	for _, p := range up.Parts {
		rf.UploadURLs = append(rf.UploadURLs, frameio.UploadURL{URL: p.URL, Size: p.Size})
	}
	log, err := j.Resume(prior.FileID)
	if err != nil {
		return delivery{}, false, nil
	}
	del, err := r.upload(ctx, ch, f, rf, prior.Clone(), before, done, log)
	if errors.Is(err, frameio.ErrURLRejected) && ctx.Err() == nil {
		// The URLs were refused after all: reconcile removes the placeholder and the file is
		// uploaded again.
		r.forget(prior.FileID)
		return del, false, nil
	}
	return del, true, err
}

// journal starts the part journal of rf, a new local upload of the file before, and returns
// its log, or nil when there is no journal (none configured, or it cannot be written: the
// upload then goes on, and only a resume is lost).
func (r *run) journal(rf *frameio.File, before source.Identity) *partjournal.Log {
	if r.opts.Parts == nil {
		return nil
	}
	up := partjournal.Upload{FileID: rf.ID, MediaType: rf.MediaType, Source: before}
	for i, p := range rf.UploadURLs {
		exp, ok := partjournal.ExpiresAt(p.URL)
		if !ok {
			return nil // URLs that do not say when they expire are never resumed
		}
		up.Parts = append(up.Parts, partjournal.Part{URL: p.URL, Size: p.Size})
		if i == 0 || exp.Before(up.Expires) {
			up.Expires = exp
		}
	}
	log, err := r.opts.Parts.Start(up)
	if err != nil {
		return nil
	}
	return log
}

// forget removes the part journal of fileID, once its upload is complete or abandoned.
func (r *run) forget(fileID string) {
	if r.opts.Parts != nil {
		r.opts.Parts.Remove(fileID)
	}
}

// checkPlanned fails when now, the stat of ch's source as apply opened it, is not the one
// the plan was made from (source.Unchanged): the plan's decision was about other content.
// A change planned without a stat (its Source has no mtime) is held to its size only.
func checkPlanned(ch plan.Change, now source.Identity) error {
	was := ch.Source
	if was.ModTime.IsZero() {
		was = now
		was.Size = ch.Size
	}
	if !source.Unchanged(was, now) {
		return fmt.Errorf("check source %q: changed since the plan was made (%s); run fiosync plan again", now.Path, source.DescribeChange(was, now))
	}
	return nil
}

// checkUnchanged fails when the source's stat differs from the one taken before the upload:
// the bytes sent may mix two versions of the file.
func checkUnchanged(f *os.File, relPath string, before source.Identity) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat source: %w", err)
	}
	if after := source.OfFile(relPath, fi); !source.Unchanged(before, after) {
		return fmt.Errorf("check source %q: changed during the upload (%s); run fiosync plan again", relPath, source.DescribeChange(before, after))
	}
	return nil
}

// sendParts PUTs the parts of rf from src that done does not mark as accepted (every part
// when done is nil), reading each byte once, and returns the BLAKE3 of the file and the bytes
// sent. A part already accepted is read only to be hashed. Each part accepted is recorded in
// log (nil: none).
//
// The calling goroutine walks the parts in order: it acquires budget for part i, takes a pooled
// buffer, and submits a task to the file's stream. The task reads the part into the buffer and
// PUTs it (the client resends the buffer on retries). Its callback, which the stream runs in
// submission order, feeds the buffer to the hasher and gives back the buffer and the budget.
// The stream has neither errors nor a context, so the first error is kept under a mutex and
// cancels the context the remaining tasks use.
//
// When ctx is cancelled (Ctrl-C) no new part starts, but the parts in flight have
// Options.PartGrace to arrive, so an interrupted large file loses little of what was sent.
//
// With an ASC MHL check, the same read feeds its hasher, and the last part still to send is
// held back: Frame.io completes a file when its last part arrives, so that part is PUT only
// after every byte was hashed and matched the history. On a mismatch it is never sent and the
// file never completes (the caller deletes the placeholder). The held buffer stays out of the
// budget once hashed, so later parts of a resumed upload cannot wait on it.
func (r *run) sendParts(ctx context.Context, address string, src io.ReaderAt, rf *frameio.File, done []bool, log *partjournal.Log, check *mhlCheck) (source.Digest, int64, error) {
	offsets, err := frameio.PartOffsets(rf.UploadURLs, rf.FileSize)
	if err != nil {
		return source.Digest{}, 0, fmt.Errorf("upload %q: %w", address, err)
	}
	if done != nil && len(done) != len(rf.UploadURLs) {
		return source.Digest{}, 0, fmt.Errorf("upload %q: %d parts journaled, %d to send", address, len(done), len(rf.UploadURLs))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The PUTs run on a context of their own that outlives an interruption by the grace.
	putCtx, putCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer putCancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(r.opts.PartGrace)
		defer t.Stop()
		select {
		case <-t.C:
			putCancel()
		case <-putCtx.Done(): // the parts are done, or one failed
		}
	})
	defer stop()

	var (
		mu       sync.Mutex
		firstErr error
		sent     atomic.Int64
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
			putCancel()
		}
	}

	h := source.NewHasher()
	held := -1 // the part sent only once the MHL check passed
	if check != nil {
		for i := len(rf.UploadURLs) - 1; i >= 0; i-- {
			if done == nil || !done[i] {
				held = i
				break
			}
		}
	}
	var heldBuf []byte
	parts := stream.New().WithMaxGoroutines(r.opts.PartConcurrency)
	for i, part := range rf.UploadURLs {
		if err := ctx.Err(); err != nil {
			fail(err)
			break
		}
		weight, err := r.budget.acquire(ctx, part.Size)
		if err != nil {
			fail(err)
			break
		}
		buf := r.buffers.get(part.Size)
		accepted := done != nil && done[i]
		holding := i == held
		parts.Go(func() stream.Callback {
			err := putCtx.Err()
			if err == nil {
				var n int
				n, err = src.ReadAt(buf, offsets[i])
				switch {
				case n == len(buf):
					err = nil // io.ReaderAt may report io.EOF with a full read at the end
				case errors.Is(err, io.EOF):
					err = io.ErrUnexpectedEOF // the file is shorter than it was
				}
				if err != nil {
					err = fmt.Errorf("read part %d: %w", i+1, err)
				}
			}
			if err == nil && !accepted && !holding {
				err = r.client.UploadPart(putCtx, part, rf.MediaType, r.partBody(putCtx, buf))
				if err != nil {
					err = fmt.Errorf("upload part %d of %d: %w", i+1, len(rf.UploadURLs), err)
				} else {
					log.Done(i)
				}
			}
			if err != nil {
				fail(err)
			} else if !accepted && !holding {
				n := sent.Add(part.Size)
				r.sent.Add(part.Size)
				r.emit(Event{Type: EventProgress, Address: address, Bytes: n, Total: rf.FileSize})
			}
			return func() {
				ok := err == nil && !failed()
				if ok {
					hashPart(h, check, buf)
				}
				r.budget.release(weight)
				if ok && holding {
					heldBuf = buf // sent below, once every byte is checked
					return
				}
				r.buffers.put(buf)
			}
		})
	}
	parts.Wait()
	if heldBuf != nil {
		defer r.buffers.put(heldBuf)
	}
	if firstErr != nil {
		return source.Digest{}, sent.Load(), firstErr
	}
	if h.Size() != rf.FileSize {
		return source.Digest{}, sent.Load(), fmt.Errorf("upload %q: hashed %d bytes, want %d", address, h.Size(), rf.FileSize)
	}
	if err := check.verify(); err != nil {
		return source.Digest{}, sent.Load(), err
	}
	if heldBuf != nil {
		part := rf.UploadURLs[held]
		if err := r.client.UploadPart(putCtx, part, rf.MediaType, r.partBody(putCtx, heldBuf)); err != nil {
			return source.Digest{}, sent.Load(), fmt.Errorf("upload part %d of %d: %w", held+1, len(rf.UploadURLs), err)
		}
		log.Done(held)
		n := sent.Add(part.Size)
		r.sent.Add(part.Size)
		r.emit(Event{Type: EventProgress, Address: address, Bytes: n, Total: rf.FileSize})
	}
	return h.Digest(), sent.Load(), nil
}

// hashPart feeds buf to the BLAKE3 hasher and, with an ASC MHL check, to its hasher too, the
// two side by side: a part then costs the slower of the hashes, not their sum, and the parts
// waiting behind it (callbacks run in order) are not held up by the MHL hash's own cost.
func hashPart(h *source.Hasher, check *mhlCheck, buf []byte) {
	if check == nil {
		h.Write(buf)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { check.hasher.Write(buf) })
	h.Write(buf)
	wg.Wait()
}

// confirm waits until Frame.io reports fileID complete and checks its size.
func (r *run) confirm(ctx context.Context, fileID string, size int64) error {
	deadline := r.opts.Now().Add(confirmTimeout)
	for {
		st, err := r.client.FileStatus(ctx, r.account, fileID)
		if err != nil {
			return fmt.Errorf("confirm upload %s: %w", fileID, err)
		}
		if st.UploadFailed {
			return fmt.Errorf("confirm upload %s: Frame.io reports the upload failed", fileID)
		}
		if st.UploadComplete {
			break
		}
		if r.opts.Now().After(deadline) {
			return fmt.Errorf("confirm upload %s: not complete %s after the last part", fileID, confirmTimeout)
		}
		if err := sleep(ctx, r.opts.PollInterval); err != nil {
			return fmt.Errorf("confirm upload %s: %w", fileID, err)
		}
	}
	f, err := r.client.File(ctx, r.account, fileID)
	if err != nil {
		return fmt.Errorf("confirm upload %s: %w", fileID, err)
	}
	if f.FileSize != size {
		return fmt.Errorf("confirm upload %s: Frame.io has %d bytes, want %d", fileID, f.FileSize, size)
	}
	return nil
}
