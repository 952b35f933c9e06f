package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// adoptFile applies an adopt change: the file Frame.io already has becomes the address's
// complete entry, and nothing is uploaded. It trusts the plan's listing that the file is
// there and uploaded; if it was deleted since, the next plan's refresh finds it missing and
// uploads the address again. release is applyFile's.
func (r *run) adoptFile(ctx context.Context, ch plan.Change, release func()) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	if err := ctx.Err(); err != nil {
		res.Err = err
		return res
	}
	if ch.Existing == nil {
		return r.failed(ctx, res, fmt.Errorf("adopt %q: the plan names no Frame.io file", ch.Address))
	}
	o, err := originOf(r.opts.Manifest, ch)
	if err != nil {
		return r.failed(ctx, res, err)
	}
	e, err := adoptEntry(ch, o, r.opts.Now())
	if err != nil {
		return r.failed(ctx, res, err)
	}
	res.FileID, res.ViewURL = e.FileID, e.ViewURL
	done := Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind,
		FileID: e.FileID, ViewURL: e.ViewURL, Bytes: e.Source.Size, Note: "adopted"}
	if err := r.record(ctx, ch.Address, e, release, done); err != nil {
		return r.failed(ctx, res, err)
	}
	res.Outcome, res.Note = Adopted, "adopted"
	return res
}

// adoptEntry returns the complete state entry that records ch.Existing, a file already in
// Frame.io, as the delivery of ch's address, without uploading anything. A local source is
// read once to record its BLAKE3 with its stat, and fails if it is not the file the plan
// saw or if it changes while it is read; a remote source is identified by its URL (without
// the query) and the hash of the whole URL. now stamps the entry's upload time.
func adoptEntry(ch plan.Change, o origin, now time.Time) (*state.Entry, error) {
	f := ch.Existing
	e := &state.Entry{
		FileID:     f.ID,
		ParentID:   f.ParentID,
		ViewURL:    f.ViewURL,
		Status:     state.StatusComplete,
		CreatedAt:  f.CreatedAt.UTC(),
		UploadedAt: now.UTC(),
	}
	if ch.Kind == source.Remote {
		e.Source = source.OfURL(o.url)
		return e, nil
	}
	src, err := hashLocal(ch, o)
	if err != nil {
		return nil, err
	}
	e.Source = src
	return e, nil
}

// hashLocal returns the identity of ch's local file with its BLAKE3, read once; it fails when
// the file is not the one planned or its stat moves while it is read.
func hashLocal(ch plan.Change, o origin) (source.Identity, error) {
	f, err := os.Open(o.path)
	if err != nil {
		return source.Identity{}, fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return source.Identity{}, fmt.Errorf("stat source: %w", err)
	}
	src := source.OfFile(o.rel, fi)
	if err := checkPlanned(ch, src); err != nil {
		return source.Identity{}, err
	}
	digest, n, err := source.HashReader(io.NewSectionReader(f, 0, src.Size))
	if err != nil {
		return source.Identity{}, fmt.Errorf("hash source %q: %w", o.rel, err)
	}
	if n != src.Size {
		return source.Identity{}, fmt.Errorf("hash source %q: read %d bytes, want %d; run fiosync plan again", o.rel, n, src.Size)
	}
	if err := checkUnchanged(f, o.rel, src); err != nil {
		return source.Identity{}, err
	}
	src.Hash = digest
	return src, nil
}
