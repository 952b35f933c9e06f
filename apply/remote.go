package apply

import (
	"context"
	"fmt"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// remote has Frame.io fetch a URL and waits, polling the status, until the file is complete,
// failed, or Options.RemoteTimeout has passed.
func (r *run) remote(ctx context.Context, ch plan.Change, o origin, folderID string) (delivery, error) {
	src := source.OfURL(o.url)
	if prior := ch.Prior; prior != nil && prior.Status == state.StatusPending {
		adopt, err := r.reconcile(ctx, prior, folderID, ch.Name, -1, func(*frameio.File) bool {
			return prior.Source.Kind == source.Remote && prior.Source.URLHash == src.URLHash
		})
		if err != nil {
			return delivery{}, err
		}
		if adopt {
			e := prior.Clone()
			e.Status = state.StatusComplete
			e.UploadedAt = r.opts.Now().UTC()
			return delivery{entry: e, adopted: true}, nil
		}
	}

	rf, e, err := r.createFile(ctx, ch, folderID, src, -1, func() (*frameio.File, error) {
		return r.client.CreateRemoteUpload(ctx, r.account, folderID, ch.Name, o.url)
	})
	if err != nil {
		return delivery{}, err
	}
	if err := r.awaitRemote(ctx, rf.ID); err != nil {
		r.abandon(ctx, ch, rf.ID)
		return delivery{}, err
	}
	e.Status = state.StatusComplete
	e.UploadedAt = r.opts.Now().UTC()
	return delivery{entry: e}, nil
}

// awaitRemote polls the status of fileID until it is complete, failed or timed out.
func (r *run) awaitRemote(ctx context.Context, fileID string) error {
	deadline := r.opts.Now().Add(r.opts.RemoteTimeout)
	for {
		st, err := r.client.FileStatus(ctx, r.account, fileID)
		if err != nil {
			return fmt.Errorf("await remote upload %s: %w", fileID, err)
		}
		switch {
		case st.UploadFailed:
			return fmt.Errorf("await remote upload %s: Frame.io could not fetch the URL", fileID)
		case st.UploadComplete:
			return nil
		case r.opts.Now().After(deadline):
			return fmt.Errorf("await remote upload %s: not complete after %s", fileID, r.opts.RemoteTimeout)
		}
		if err := sleep(ctx, r.opts.PollInterval); err != nil {
			return fmt.Errorf("await remote upload %s: %w", fileID, err)
		}
	}
}
