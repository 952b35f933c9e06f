package apply

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// claimRetry is the pause before a runner tries again the changes other runners held.
const claimRetry = 100 * time.Millisecond

// claimed runs do on ch once this runner holds ch's address (Options.Claims); without Claims
// it just runs it. busy says another runner holds the address: try again later. Holding the
// claim, it reads the address's entry as stored now: when another runner (or an earlier one
// that died) got there since the plan was made, the change is done already (Elsewhere), or
// resumes the pending upload that runner left exactly as the next apply after a crash would,
// or fails as stale.
func (r *run) claimed(ctx context.Context, ch plan.Change, do func(plan.Change) FileResult) (res FileResult, busy bool) {
	c := r.opts.Claims
	if c == nil {
		return do(ch), false
	}
	res = FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	key := store.EntryKey(ch.Address)
	ok, _, err := c.Claim(ctx, key)
	if err != nil {
		return r.failed(ctx, res, err), false
	}
	if !ok {
		return res, true
	}
	defer c.Release(context.WithoutCancel(ctx), key)
	cur, err := c.Entry(ctx, ch.Address)
	if err != nil {
		return r.failed(ctx, res, err), false
	}
	if cur.Equal(ch.Prior) {
		return do(ch), false
	}
	if r.doneBy(ch, cur) {
		return r.elsewhere(ch, cur), false
	}
	if (ch.Action == plan.Create || ch.Action == plan.Update) && cur != nil && cur.Status == state.StatusPending {
		// A runner that died (or lost its claim) left this upload pending: recover it as
		// after a crash. Its part journal was on its own machine, so the file restarts here.
		ch.Prior = cur
		return do(ch), false
	}
	return r.failed(ctx, res, fmt.Errorf("%s changed in the state since the plan was made (another runner or apply); run fiosync plan again", ch.Address)), false
}

// doneBy reports whether cur, the entry stored at ch's address now and not the plan's
// Prior, is ch applied: deleted for a delete, complete with ch's content for the others.
func (r *run) doneBy(ch plan.Change, cur *state.Entry) bool {
	if ch.Action == plan.Delete {
		return cur == nil
	}
	return cur != nil && cur.Status == state.StatusComplete && cur.Followup == nil && r.delivered(ch, cur)
}

// elsewhere is the result of ch applied by another runner, which recorded cur.
func (r *run) elsewhere(ch plan.Change, cur *state.Entry) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Elsewhere, Note: "applied by another runner"}
	if cur != nil {
		res.FileID = cur.FileID
	}
	r.emit(Event{Type: EventFileElsewhere, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, FileID: res.FileID, Note: res.Note})
	return res
}

// settle takes out of work (indexes of changes) those another runner has applied since the
// plan was made, reading their entries at once rather than claiming each, and records their
// results. A complete entry is final for this run, so no claim is needed to see it.
func (r *run) settle(ctx context.Context, work []int, results []FileResult) []int {
	if r.opts.Claims == nil || len(work) == 0 {
		return work
	}
	addrs := make([]string, len(work))
	for k, i := range work {
		addrs[k] = r.plan.Changes[i].Address
	}
	stored, err := r.opts.Claims.Entries(ctx, addrs)
	if err != nil {
		return work // each is claimed and read one by one instead
	}
	left := work[:0:0]
	for _, i := range work {
		ch := r.plan.Changes[i]
		cur := stored[ch.Address]
		if !cur.Equal(ch.Prior) && r.doneBy(ch, cur) {
			results[i] = r.elsewhere(ch, cur)
			continue
		}
		left = append(left, i)
	}
	return left
}

// delivered reports whether cur, a complete entry another runner recorded, holds ch's
// content: the same URL, or for a local file the same size and, short of the same stat or
// hash in the plan, the BLAKE3 of this machine's copy.
func (r *run) delivered(ch plan.Change, cur *state.Entry) bool {
	if ch.Kind == source.Remote || cur.Source.Kind == source.Remote {
		return source.SameContent(cur.Source, ch.Source)
	}
	if cur.Source.Size != ch.Source.Size {
		return false
	}
	if source.SameContent(cur.Source, ch.Source) || source.Unchanged(cur.Source, ch.Source) {
		return true
	}
	o, err := originOf(r.opts.Manifest, ch)
	if err != nil {
		return false
	}
	f, err := os.Open(o.path)
	if err != nil {
		return false
	}
	defer f.Close()
	digest, _, err := source.HashReader(f)
	return err == nil && !cur.Source.Hash.IsZero() && digest == cur.Source.Hash
}

// claimFolder resolves the folder name under parentID at p for a runner: it waits for the
// folder's claim (another runner may be creating it), then uses the id stored meanwhile or
// creates the folder and records it before letting the claim go.
func (r *run) claimFolder(ctx context.Context, parentID, p, name string) (id string, created bool, err error) {
	c := r.opts.Claims
	key := store.FolderKey(p)
	for {
		ok, _, err := c.Claim(ctx, key)
		if err != nil {
			return "", false, err
		}
		if ok {
			break
		}
		if err := sleep(ctx, claimRetry); err != nil {
			return "", false, err
		}
	}
	defer c.Release(context.WithoutCancel(ctx), key)
	if id, err := c.Folder(ctx, p); err != nil || id != "" {
		return id, false, err
	}
	if id, err = r.createFolder(ctx, parentID, name); err != nil {
		return "", false, fmt.Errorf("create folder %q: %w", p, err)
	}
	return id, true, r.save(ctx, func(*state.State) state.Change { return state.PutFolders(map[string]string{p: id}) })
}
