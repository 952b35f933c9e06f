package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
)

// adoptFile applies an adopt change: the file Frame.io already has becomes the address's
// complete entry, and nothing is uploaded. It trusts the plan's listing that the file is
// there and uploaded; if it was deleted since, the next plan's refresh finds it missing and
// uploads the address again.
func (r *run) adoptFile(ctx context.Context, ch plan.Change) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	d, err := r.desired(ch.Address)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	switch {
	case ch.Existing == nil:
		return r.failed(ctx, res, fmt.Errorf("adopt %q: the plan names no Frame.io file", ch.Address))
	case d.Kind == manifest.Remote && !ch.Source.URLHash.IsZero() && state.HashURL(d.URL) != ch.Source.URLHash:
		return r.failed(ctx, res, fmt.Errorf("check source %s: the URL changed since the plan was made; run fiosync plan again", state.StripQuery(d.URL)))
	}
	e, err := AdoptEntry(d, *ch.Existing, r.opts.Now())
	if err != nil {
		return r.failed(ctx, res, err)
	}
	if d.Kind == manifest.Local && e.Source.Size != ch.Size {
		return r.failed(ctx, res, fmt.Errorf("check source %q: changed since the plan was made (size %d -> %d); run fiosync plan again", d.RelPath, ch.Size, e.Source.Size))
	}
	if err := r.saveEntry(ctx, ch.Address, e); err != nil {
		return r.failed(ctx, res, err)
	}
	res.Outcome = Adopted
	res.FileID = e.FileID
	res.Note = "adopted"
	r.emit(Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind,
		FileID: e.FileID, Bytes: e.Source.Size, Note: res.Note})
	return res
}

// AdoptEntry returns the complete state entry that records f, a file already in Frame.io,
// as the delivery of d, without uploading anything: it is what apply saves for an adopt
// change and what `fiosync import` records. A local source is read once to record its
// BLAKE3 with its stat, and fails if the file changes while it is read; a remote source is
// identified by its URL (without the query) and the hash of the whole URL. now stamps the
// entry's upload time.
//
// AdoptEntry checks neither f's size nor its status: the caller decides what may be adopted.
func AdoptEntry(d *manifest.Desired, f plan.RemoteFile, now time.Time) (*state.Entry, error) {
	e := &state.Entry{
		FileID:     f.ID,
		ParentID:   f.ParentID,
		Status:     state.StatusComplete,
		CreatedAt:  f.CreatedAt.UTC(),
		UploadedAt: now.UTC(),
	}
	if d.Kind == manifest.Remote {
		e.Source = state.RemoteSource(d.URL)
		return e, nil
	}
	src, err := hashLocal(d)
	if err != nil {
		return nil, err
	}
	e.Source = src
	return e, nil
}

// hashLocal returns the identity of d's local file with its BLAKE3, read once; it fails when
// the file's stat moves while it is read.
func hashLocal(d *manifest.Desired) (state.Source, error) {
	f, err := os.Open(d.Path)
	if err != nil {
		return state.Source{}, fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return state.Source{}, fmt.Errorf("stat source: %w", err)
	}
	src := state.LocalSource(d.RelPath, fi, state.Digest{})
	digest, n, err := state.HashReader(io.NewSectionReader(f, 0, src.Size))
	if err != nil {
		return state.Source{}, fmt.Errorf("hash source %q: %w", d.RelPath, err)
	}
	if n != src.Size {
		return state.Source{}, fmt.Errorf("hash source %q: read %d bytes, want %d; run fiosync plan again", d.RelPath, n, src.Size)
	}
	if err := checkUnchanged(f, d.RelPath, src); err != nil {
		return state.Source{}, err
	}
	src.Hash = digest
	return src, nil
}
