package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/sourcegraph/conc/stream"

	"github.com/fiosync/fiosync/frameio"
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

	// An interrupted upload whose file is complete and whose source did not change since is
	// adopted: hash the local file to record what it holds, but send nothing.
	if prior := ch.Prior; prior != nil && prior.Status == state.StatusPending {
		adopt, err := r.reconcile(ctx, prior, folderID, ch.Name, prior.Source.Size, func(rf *frameio.File) bool {
			return rf.FileSize == before.Size && source.Unchanged(prior.Source, before)
		})
		if err != nil {
			return delivery{}, err
		}
		if adopt {
			digest, _, err := source.HashReader(io.NewSectionReader(f, 0, before.Size))
			if err != nil {
				return delivery{}, fmt.Errorf("hash source %q: %w", o.rel, err)
			}
			e := prior.Clone()
			e.Source = before
			e.Source.Hash = digest
			e.Status = state.StatusComplete
			e.UploadedAt = r.opts.Now().UTC()
			return delivery{entry: e, adopted: true}, nil
		}
	}

	var sent int64
	for attempt := 1; ; attempt++ {
		rf, e, err := r.createFile(ctx, ch, folderID, before, before.Size, func() (*frameio.File, error) {
			return r.client.CreateLocalUpload(ctx, r.account, folderID, ch.Name, before.Size)
		})
		if err != nil {
			return delivery{sent: sent}, err
		}
		digest, n, err := r.sendParts(ctx, ch.Address, f, rf)
		sent += n
		if errors.Is(err, frameio.ErrURLRejected) && attempt == 1 && ctx.Err() == nil {
			// Expired or rejected part URLs cannot be renewed: delete the placeholder and
			// create the file again, once.
			if derr := r.deleteRemote(ctx, rf.ID); derr != nil {
				return delivery{sent: sent}, errors.Join(err, derr)
			}
			continue
		}
		if err == nil {
			err = r.confirm(ctx, rf.ID, before.Size)
		}
		if err == nil {
			err = checkUnchanged(f, o.rel, before)
		}
		if err != nil {
			r.abandon(ctx, ch, rf.ID)
			return delivery{sent: sent}, err
		}
		e.Source.Hash = digest
		e.Status = state.StatusComplete
		e.UploadedAt = r.opts.Now().UTC()
		return delivery{entry: e, sent: sent}, nil
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

// sendParts PUTs every part of rf from src, reading each byte once, and returns the BLAKE3 of
// the file and the bytes sent.
//
// The calling goroutine walks the parts in order: it acquires budget for part i, takes a pooled
// buffer, and submits a task to the file's stream. The task reads the part into the buffer and
// PUTs it (the client resends the buffer on retries). Its callback, which the stream runs in
// submission order, feeds the buffer to the hasher and gives back the buffer and the budget.
// The stream has neither errors nor a context, so the first error is kept under a mutex and
// cancels the context the remaining tasks use.
func (r *run) sendParts(ctx context.Context, address string, src io.ReaderAt, rf *frameio.File) (source.Digest, int64, error) {
	offsets, err := frameio.PartOffsets(rf.UploadURLs, rf.FileSize)
	if err != nil {
		return source.Digest{}, 0, fmt.Errorf("upload %q: %w", address, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

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
		}
	}

	h := source.NewHasher()
	parts := stream.New().WithMaxGoroutines(r.opts.PartConcurrency)
	for i, part := range rf.UploadURLs {
		weight, err := r.budget.acquire(ctx, part.Size)
		if err != nil {
			fail(err)
			break
		}
		buf := r.buffers.get(part.Size)
		parts.Go(func() stream.Callback {
			err := ctx.Err()
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
			if err == nil {
				err = r.client.UploadPart(ctx, part, rf.MediaType, bytes.NewReader(buf))
				if err != nil {
					err = fmt.Errorf("upload part %d of %d: %w", i+1, len(rf.UploadURLs), err)
				}
			}
			if err != nil {
				fail(err)
			} else {
				n := sent.Add(part.Size)
				r.sent.Add(part.Size)
				r.emit(Event{Type: EventProgress, Address: address, Bytes: n, Total: rf.FileSize})
			}
			return func() {
				if err == nil && !failed() {
					h.Write(buf)
				}
				r.buffers.put(buf)
				r.budget.release(weight)
			}
		})
	}
	parts.Wait()
	if firstErr != nil {
		return source.Digest{}, sent.Load(), firstErr
	}
	if h.Size() != rf.FileSize {
		return source.Digest{}, sent.Load(), fmt.Errorf("upload %q: hashed %d bytes, want %d", address, h.Size(), rf.FileSize)
	}
	return h.Digest(), sent.Load(), nil
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
