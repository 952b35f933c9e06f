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

// claimMoves is what a runner (Options.Claims) does before the moves at idx into the folder
// folderID: for each, it claims both addresses, From and Address, and reads both entries as
// stored now. It returns the moves to make here (claimed, and stored as the plan saw them:
// the entry at From, none at Address), the moves another runner holds (busy: try again
// later), and release, which gives up the claims of the moves to make once they are settled.
// Of the others, holding their claims:
//   - a move another runner made (the entry at Address is the file's, settled) is Elsewhere;
//   - a move a runner wrote ahead and did not settle (it died or lost its claim between the
//     write-ahead and the end; the entry at Address owes StepMove) is finished here as the
//     next apply after a crash finishes it: the file is looked at and moved or renamed only
//     where it is not yet, so it is neither lost nor moved twice;
//   - anything else fails, as the state changed since the plan was made.
func (r *run) claimMoves(ctx context.Context, folderID string, idx []int, results []FileResult) (todo, busy []int, release func()) {
	c := r.opts.Claims
	var held []int
	for _, i := range idx {
		ch := r.plan.Changes[i]
		ok, err := r.claimBoth(ctx, ch.From, ch.Address)
		switch {
		case err != nil:
			results[i] = r.failed(ctx, results[i], err)
		case !ok:
			busy = append(busy, i)
		default:
			held = append(held, i)
		}
	}
	unclaim := func(ch plan.Change) {
		c.Release(context.WithoutCancel(ctx), store.EntryKey(ch.From))
		c.Release(context.WithoutCancel(ctx), store.EntryKey(ch.Address))
	}
	if len(held) == 0 {
		return nil, busy, func() {}
	}
	addrs := make([]string, 0, 2*len(held))
	for _, i := range held {
		addrs = append(addrs, r.plan.Changes[i].From, r.plan.Changes[i].Address)
	}
	stored, err := c.Entries(ctx, addrs)
	for _, i := range held {
		ch := r.plan.Changes[i]
		from, to := stored[ch.From], stored[ch.Address]
		switch {
		case err != nil:
			results[i] = r.failed(ctx, results[i], err)
		case from.Equal(ch.Prior) && to == nil:
			todo = append(todo, i)
			continue // released once made
		case from != nil || to == nil || to.FileID != ch.Prior.FileID:
			results[i] = r.failed(ctx, results[i], fmt.Errorf("move %s to %s: the state changed since the plan was made (another runner or apply); run fiosync plan again", ch.From, ch.Address))
		case to.Followup == nil:
			results[i] = r.elsewhere(ch, to)
		case to.Followup.Step == state.StepMove:
			results[i] = r.finishMoveOf(ctx, ch, folderID, to)
		default:
			results[i] = r.failed(ctx, results[i], fmt.Errorf("move %s to %s: the entry there owes %s, not the move; run fiosync plan again", ch.From, ch.Address, to.Followup.Step))
		}
		unclaim(ch)
	}
	return todo, busy, func() {
		for _, i := range todo {
			unclaim(r.plan.Changes[i])
		}
	}
}

// claimBoth claims the entry keys of a and b for this runner, or neither: false when another
// runner holds one of them.
func (r *run) claimBoth(ctx context.Context, a, b string) (bool, error) {
	c := r.opts.Claims
	ok, _, err := c.Claim(ctx, store.EntryKey(a))
	if err != nil || !ok {
		return false, err
	}
	if ok, _, err = c.Claim(ctx, store.EntryKey(b)); err != nil || !ok {
		c.Release(context.WithoutCancel(ctx), store.EntryKey(a))
		return false, err
	}
	return true, nil
}

// finishMoveOf finishes the move ch that another runner wrote ahead as cur, the entry at ch's
// Address that owes StepMove, and settles it (see claimMoves).
func (r *run) finishMoveOf(ctx context.Context, ch plan.Change, folderID string, cur *state.Entry) FileResult {
	res := FileResult{Address: ch.Address, Action: ch.Action, Kind: ch.Kind, Outcome: Skipped}
	r.emit(Event{Type: EventFileStart, Address: ch.Address, Action: ch.Action, Kind: ch.Kind})
	if _, err := r.followup(ctx, ch.Address, folderID, cur.Clone(), true); err != nil {
		return r.failed(ctx, res, err)
	}
	res.Outcome, res.FileID, res.Note = Done, cur.FileID, "moved from "+ch.From+" (finished for a runner that stopped)"
	r.emit(Event{Type: EventFileDone, Address: ch.Address, Action: ch.Action, Kind: ch.Kind, FileID: cur.FileID, Note: res.Note})
	return res
}
