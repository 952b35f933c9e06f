package plan

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// DefaultMoveMinSize is the size from which a file whose content reappears at a new address
// is moved in Frame.io rather than uploaded again. Frame.io allows 100 moves a minute, 5
// uploads a second: below a few MiB uploading again is as fast, and needs no hashing at plan
// time. A file with versions is moved whatever its size, as only a move keeps its stack.
const DefaultMoveMinSize = 8 << 20

// ReasonMoved is the reason of a move.
const ReasonMoved = "same content as an address no longer in the manifest"

// Moves says whether a plan moves files and which. A tracked file whose content (BLAKE3) now
// sits at a new address of the manifest, its old address gone from it, is moved in Frame.io
// when Enabled and the file is at least MinSize bytes or has versions; otherwise the new
// address is uploaded and the old one pruned or reported as usual.
type Moves struct {
	Enabled bool  `json:"enabled"`
	MinSize int64 `json:"min_size"`
}

// MovesFor is the moves of a plan: on with prune: true (a move removes the file from its old
// place, which prune: false forbids) or when asked for (--moves), off when refused
// (--no-moves), which wins. minSize 0 means DefaultMoveMinSize.
func MovesFor(prune, moves, noMoves bool, minSize int64) Moves {
	if minSize <= 0 {
		minSize = DefaultMoveMinSize
	}
	return Moves{Enabled: (prune || moves) && !noMoves, MinSize: minSize}
}

// qualifies reports whether the tracked entry e may be moved to a new address: a complete
// local delivery with a recorded hash and a file id, big enough or versioned, owing nothing
// but an earlier move.
func (m Moves) qualifies(e *state.Entry) bool {
	return m.Enabled && e.Status == state.StatusComplete && e.Source.Kind == source.Local && !e.Source.Hash.IsZero() &&
		e.FileID != "" && (e.Followup == nil || e.Followup.Step == state.StepMove) &&
		(e.Source.Size >= m.MinSize || e.VersionStackID != "")
}

// moveSources returns, sorted, the tracked addresses that the manifest (files, sorted by
// address) no longer lists, that sel includes and whose entries could move.
func moveSources(files []manifest.Desired, st *state.State, sel Selection, m Moves) []string {
	if st == nil || !m.Enabled {
		return nil
	}
	if !manifest.SortedByAddress(files) {
		files = slices.Clone(files)
		slices.SortStableFunc(files, byAddress)
	}
	var out []string
	for addr, e := range st.Entries {
		if _, found := slices.BinarySearchFunc(files, addr, addressCmp); found || !sel.Includes(addr) || !m.qualifies(e) {
			continue
		}
		out = append(out, addr)
	}
	slices.Sort(out)
	return out
}

// IdentifyMoves hashes the desired files that may be the new address of a tracked file: local
// files at untracked addresses inside sel whose size equals that of a tracked address the
// manifest dropped and that could move (m). Nothing else is read, so a plan over terabytes of
// new files hashes only the few that can match; Build then moves those whose hash is a
// dropped address's. Call it after Identify, with the same files (sorted by address).
func IdentifyMoves(ctx context.Context, files []manifest.Desired, st *state.State, sel Selection, m Moves, parallel int) error {
	sources := moveSources(files, st, sel, m)
	if len(sources) == 0 {
		return nil
	}
	sizes := map[int64]bool{}
	for _, addr := range sources {
		sizes[st.Entries[addr].Source.Size] = true
	}
	var items []source.Item
	var index []int
	for i := range files {
		d := &files[i]
		if d.Source.Kind != source.Local || !d.Source.Hash.IsZero() || st.Entries[d.Address] != nil ||
			!sel.Includes(d.Address) || !sizes[d.Source.Size] {
			continue
		}
		items = append(items, source.Item{Path: d.Path, Identity: d.Source, Rule: d.StatRule})
		index = append(index, i)
	}
	if parallel < 1 {
		parallel = DefaultParallel
	}
	if err := identifyLocal(ctx, items, source.IdentifyOptions{Parallel: parallel}); err != nil {
		return fmt.Errorf("identify moved files: %w", err)
	}
	for j, it := range items {
		files[index[j]].Source = it.Identity
	}
	return nil
}

// mover pairs new addresses with the dropped addresses whose content they hold.
type mover struct {
	byHash map[source.Digest][]string // dropped addresses by content, sorted; taken ones removed
	st     *state.State
	remote *Snapshot
}

func newMover(files []manifest.Desired, st *state.State, sel Selection, m Moves, remote *Snapshot) *mover {
	mv := &mover{byHash: map[source.Digest][]string{}, st: st, remote: remote}
	for _, addr := range moveSources(files, st, sel, m) {
		e := st.Entries[addr]
		if remote != nil && !remote.Has(e.FileID) {
			continue // gone from Frame.io: nothing to move, the new address uploads
		}
		mv.byHash[e.Source.Hash] = append(mv.byHash[e.Source.Hash], addr)
	}
	return mv
}

// take returns the move of d, a desired local file at an untracked address, from the first
// dropped address with its content, and false when there is none.
func (mv *mover) take(d manifest.Desired) (Change, bool) {
	if mv == nil || d.Source.Kind != source.Local || d.Source.Hash.IsZero() {
		return Change{}, false
	}
	from := mv.byHash[d.Source.Hash]
	if len(from) == 0 {
		return Change{}, false
	}
	mv.byHash[d.Source.Hash] = from[1:]
	c := changeOf(d)
	c.Action, c.Reason, c.From = Move, ReasonMoved, from[0]
	c.Prior = mv.st.Entries[from[0]].Clone()
	return c, true
}

// emptied returns, sorted, the folders that held the moved-away addresses and that hold
// nothing after the plan: no desired file and no tracked address left below them.
func emptied(p *Plan, files []manifest.Desired, st *state.State) []string {
	movedFrom := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == Move {
			movedFrom[c.From] = true
		}
	}
	if len(movedFrom) == 0 {
		return nil
	}
	deleted := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action == Delete {
			deleted[c.Address] = true
		}
	}
	busy := map[string]bool{}
	mark := func(addr string) {
		for dir := path.Dir(addr); !busy[dir]; dir = path.Dir(dir) {
			busy[dir] = true
			if dir == "/" {
				break
			}
		}
	}
	for _, d := range files {
		mark(d.Address)
	}
	for addr := range st.Entries {
		if !movedFrom[addr] && !deleted[addr] {
			mark(addr)
		}
	}
	var out []string
	for from := range movedFrom {
		for dir := path.Dir(from); dir != "/" && !busy[dir] && !slices.Contains(out, dir); dir = path.Dir(dir) {
			out = append(out, dir)
		}
	}
	slices.SortFunc(out, strings.Compare)
	return out
}
