package plan

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
)

// DefaultMaxDelete is the default bound on a plan's deletes (the CLI's --max-delete): a plan
// that would delete more files than this fails instead.
const DefaultMaxDelete = 20

// Special values of Inputs.MaxDelete.
const (
	// NoDeleteLimit lets a plan delete any number of files.
	NoDeleteLimit = -1
	// NoDeletes lets a plan delete no file at all.
	NoDeletes = -2
)

// The reasons a Change gives, as they appear in every output.
const (
	ReasonNew         = "new"
	ReasonMissing     = "missing in Frame.io"
	ReasonResume      = "resume interrupted upload"
	ReasonRestart     = "restart upload"
	ReasonFoundDone   = "interrupted upload found complete"
	ReasonContent     = "content changed"
	ReasonURL         = "source URL changed"
	ReasonNotInConfig = "no longer in the manifest"
	ReasonDeletedDisk = "deleted on disk"
	ReasonAdopt       = "already in Frame.io"
	ReasonImport      = "imported by id"
	ReasonNotStacked  = "version not stacked yet"
	ReasonAbandoned   = "interrupted upload no longer in the manifest"
	ReasonConflict    = "a file of this name is already in Frame.io, not tracked"
	ReasonNotDeleted  = "replaced file not deleted yet"
	ReasonNotMoved    = "move not finished"
	ReasonReplace     = "replace requested"
)

// ErrTooManyDeletes matches (errors.Is) the *DeleteLimitError Build returns when a plan
// would delete more files than Inputs.MaxDelete allows.
var ErrTooManyDeletes = errors.New("too many deletes")

// DeleteLimitError is the error of a plan that would delete more files than its limit
// allows. Deletes lists the addresses, sorted, so the caller can show what was held back.
type DeleteLimitError struct {
	Deletes []string
	Limit   int
}

// Error implements error.
func (e *DeleteLimitError) Error() string {
	if e.Limit == 0 {
		return fmt.Sprintf("plan would delete %s, and no deletes are allowed", display.Count(len(e.Deletes), "file", "files"))
	}
	return fmt.Sprintf("plan would delete %s, more than the limit of %d", display.Count(len(e.Deletes), "file", "files"), e.Limit)
}

// Is makes errors.Is(err, ErrTooManyDeletes) true.
func (e *DeleteLimitError) Is(target error) bool { return target == ErrTooManyDeletes }

// Inputs is everything Build derives a Plan from. Build does no I/O: each field was read
// before, by manifest.Expand, Identify, the state backend and Refresh.
type Inputs struct {
	// Files is the expanded manifest, one entry per desired address, each with its identity
	// completed by Identify (a local file without a hash is planned from its stat alone).
	Files []manifest.Desired

	// Manifest is the manifest's file name, recorded in the plan (Plan.Manifest).
	Manifest string

	// Target is the manifest's target, used to notice a state made for another project
	// when there is no refresh to resolve it.
	Target manifest.Target

	// Prune is the manifest's prune: tracked addresses the manifest no longer lists are
	// deleted when true and only reported (Plan.Untracked) when false.
	Prune bool

	// State is what earlier applies delivered; nil stands for an empty state.
	State *state.State

	// Remote is the refreshed view of Frame.io, or nil when refresh is off: then the state
	// is trusted to describe Frame.io.
	Remote *Snapshot

	// MaxDelete bounds the number of deletes: 0 means DefaultMaxDelete, NoDeleteLimit no
	// bound and NoDeletes none at all.
	MaxDelete int

	// Tracked is, when it has one slot per file, each file's entry in State as IdentifyWith
	// found it (IdentifyOptions.Tracked) for these Files and this State; nil: each file is
	// looked up here.
	Tracked []*state.Entry

	// Parts holds, by address, how far the interrupted uploads that this machine's part
	// journal can resume got (Resumable); the plan says "resume upload (N of M parts sent)"
	// for them.
	Parts map[string]PartProgress

	// Adopt plans an adopt instead of a create for an address the state does not track when
	// its destination folder already holds a matching file (plan --adopt). It needs Remote.
	Adopt bool

	// Lists says which address the manifest gives a local file at a path relative to its
	// directory, whether or not the file exists (manifest.Manifest.Lists). A tracked address
	// that it still lists but Files lacks was deleted on disk (ReasonDeletedDisk, and
	// Plan.Deleted), not dropped from the manifest. Nil counts every such address as dropped.
	Lists func(relPath string) (address string, ok bool)
	// Now is the time the plan is made at: a local file whose entry sets stable_for and whose
	// mtime or ctime is more recent than Now minus stable_for is left waiting
	// (Plan.Waiting). Build needs it only when an entry sets stable_for.
	Now time.Time

	// Policy is what the manifest's top-level exclude and the default excludes left out of
	// the expansion (manifest.Expansion.Policy). A tracked address one of them covers is
	// listed in Plan.PolicyExcluded and never deleted, whatever prune says.
	Policy []manifest.PolicyHit

	// Select is the part of the manifest to plan (plan --target, --exclude). Addresses
	// outside it, desired or tracked, are left as they are and listed in Plan.Excluded: in
	// particular a tracked address outside it is never deleted.
	Select Selection

	// Moves says whether a tracked file whose content reappears at a new address is moved
	// (MovesFor). Identify and IdentifyMoves must have hashed the candidates.
	Moves Moves
	// MHL is the ASC MHL check of Files (CheckMHL), or nil: changes of files that no history
	// covers say so (Change.MHL).
	MHL *MHL
}

// Build derives the Plan from in. It is pure: the same inputs always give the same Plan, and
// it reads neither the file system nor the network.
func Build(in Inputs) (*Plan, error) {
	st := in.State
	if st == nil {
		st = &state.State{}
	}
	p := &Plan{
		Manifest:  in.Manifest,
		Lineage:   st.Lineage,
		Serial:    st.Serial,
		Target:    st.Target,
		Folders:   map[string]string{},
		Untracked: []string{},
		Deleted:   []string{},
		Warnings:  []string{},
		Select:    in.Select,
		Moves:     in.Moves,
	}
	if in.Remote != nil {
		p.Target = in.Remote.Target
		p.Refreshed = true
		p.Warnings = append(p.Warnings, in.Remote.Warnings...)
		if err := CheckTarget(st.Target, in.Remote.Target); err != nil {
			return nil, err
		}
	} else if err := checkTargetNames(st.Target, in.Target); err != nil {
		return nil, err
	}

	if in.Adopt && in.Remote == nil {
		return nil, errors.New("build plan: adopting files needs a refresh of Frame.io")
	}
	var taken map[string]bool // file ids that no address may adopt: tracked, or adopted already
	if in.Remote != nil && len(in.Remote.Listed) > 0 {
		taken = st.FileIDs()
	}

	// In address order (Expand's already): duplicates are neighbours, adoption picks files in
	// a fixed order, and the addresses the manifest dropped are found by binary search. A
	// no-op plan over many files is mostly this loop, so it makes no map of its own.
	files, track := in.Files, in.Tracked
	if len(track) != len(files) {
		track = nil
	}
	if !manifest.SortedByAddress(files) {
		files, track = slices.Clone(files), nil // Tracked is in the order of in.Files
		slices.SortStableFunc(files, byAddress)
	}
	tracked := 0 // addresses of files that the state has an entry for
	var empty []string
	var moves *mover
	if in.Moves.Enabled {
		moves = newMover(files, st, in.Select, in.Moves, in.Remote)
	}
	movedFrom := map[string]bool{}
	var refused []Refusal // updates that on_change: error forbids
	for i := range files {
		d := &files[i] // not a copy: a no-op plan over many files is mostly this loop
		if i > 0 && files[i-1].Address == d.Address {
			return nil, fmt.Errorf("build plan: address %q is desired twice", d.Address)
		}
		var e *state.Entry
		if track != nil {
			e = track[i] // found by IdentifyWith already
		} else {
			e = st.Entries[d.Address]
		}
		if e != nil {
			tracked++
		}
		if !in.Select.Includes(d.Address) {
			p.Excluded = append(p.Excluded, d.Address)
			continue
		}
		if isEmpty(d) {
			// Frame.io refuses empty files: skip it, tracked or not, and say so once below.
			// It stays desired, so a tracked file that became empty is not pruned either.
			empty = append(empty, d.Address)
			continue
		}
		if e == nil {
			if c, ok := moves.take(*d); ok {
				if in.Remote != nil {
					// A move there would put the file beside an untracked one of its name.
					c.Conflict = conflictOf(*d, in.Remote.Listed[d.Folder], taken)
				}
				movedFrom[c.From] = true
				p.Changes = append(p.Changes, c)
				continue
			}
		}
		wait, held, err := stabilizing(d, in.Now)
		if err != nil {
			return nil, err
		}
		if held && e == nil {
			p.Waiting = append(p.Waiting, wait)
			continue
		}
		if in.Adopt && e == nil {
			c, warnings, ok := adoption(*d, in.Remote.Listed[d.Folder], taken)
			p.Warnings = append(p.Warnings, warnings...)
			if ok {
				taken[c.Existing.ID] = true
				p.Changes = append(p.Changes, c)
				continue
			}
		}
		replace := in.Select.Replacing(d.Address)
		c, ok := diff(d, e, in.Remote, in.Parts, replace)
		if ok && d.OnChange == manifest.OnChangeError && changesDelivered(c, *d, e) {
			if !replace {
				why := c.Reason + " since it was delivered"
				if c.Action == Create {
					why = ReasonContent + " since it was delivered, and that file is gone from Frame.io"
				}
				refused = append(refused, Refusal{Address: d.Address, Upload: d.Upload, Pos: d.Pos, Reason: why})
				continue
			}
			if c.Action == Update {
				c.OnChange = manifest.OnChangeVersion // explicit: the old file stays, as a version
			}
		}
		if ok && held && (c.Action == Create || c.Action == Update) {
			// Still being written: upload it once it has been left alone for stable_for.
			// It stays desired, so it is not pruned either.
			p.Waiting = append(p.Waiting, wait)
			continue
		}
		if ok && e == nil && in.Remote != nil {
			if f := conflictOf(*d, in.Remote.Listed[d.Folder], taken); f != nil {
				c.Reason, c.Conflict = ReasonConflict, f
			}
		}
		if !ok {
			p.Unchanged++
			if e != nil && d.Source.Kind == source.Local && !d.StatRule.Unchanged(e.Source, d.Source) && source.SameContent(d.Source, e.Source) {
				p.Restat = append(p.Restat, Restat{Address: d.Address, Source: d.Source})
			}
			continue
		}
		if d.Source.Kind == source.Local && in.MHL.NotCovered(d.Address) {
			c.MHL = NotInMHL
		}
		p.Changes = append(p.Changes, c)
	}

	if len(refused) > 0 {
		return nil, &RefusedError{Manifest: in.Manifest, Refused: refused}
	}

	var gone []string
	if tracked < len(st.Entries) {
		for addr := range st.Entries {
			if _, found := slices.BinarySearchFunc(files, addr, addressCmp); !found {
				gone = append(gone, addr)
			}
		}
		slices.Sort(gone)
	}
	var deletes []string
	for _, addr := range gone {
		if movedFrom[addr] {
			continue // its file moves to a new address
		}
		if !in.Select.Includes(addr) {
			// Outside the selection: not this plan's to prune, whatever the manifest says.
			p.Excluded = append(p.Excluded, addr)
			continue
		}
		e := st.Entries[addr]
		interrupted := e.Status == state.StatusPending
		onDisk := deletedOnDisk(in.Lists, addr, e)
		if hit, ok := policyHit(in.Policy, addr); ok && !interrupted {
			// Left out by policy, not by an edit of the entry: reported, never pruned.
			p.PolicyExcluded = append(p.PolicyExcluded, PolicyExclusion{Address: addr, Pattern: hit.Pattern, Default: hit.Default})
			continue
		}
		if !in.Prune && !interrupted {
			p.Untracked = append(p.Untracked, addr)
			if onDisk {
				p.Deleted = append(p.Deleted, addr)
			}
			continue
		}
		folder, name := splitAddress(addr)
		c := Change{
			Address: addr,
			Action:  Delete,
			Kind:    e.Source.Kind,
			Folder:  folder,
			Name:    name,
			Size:    e.Source.Size,
			Reason:  ReasonNotInConfig,
			Prior:   e.Clone(),
		}
		if onDisk {
			c.Reason = ReasonDeletedDisk
		}
		if interrupted {
			// Not a delivery but the placeholder of an upload that never finished: it is
			// cleaned up whatever prune says, and no delete bound counts it.
			c.Reason = ReasonAbandoned
			p.Changes = append(p.Changes, c)
			continue
		}
		p.Changes = append(p.Changes, c)
		deletes = append(deletes, addr)
	}
	if limit := maxDelete(in.MaxDelete); limit >= 0 && len(deletes) > limit {
		return nil, &DeleteLimitError{Deletes: deletes, Limit: limit}
	}
	if len(empty) > 0 {
		p.Warnings = append(p.Warnings, SkippedEmptyNote(empty))
	}
	slices.SortFunc(p.Changes, func(a, b Change) int { return cmp.Compare(a.Address, b.Address) })
	slices.Sort(p.Warnings)
	slices.Sort(p.Excluded)
	p.Emptied = emptied(p, files, st)

	entries, err := entryDigests(p, st)
	if err != nil {
		return nil, err
	}
	p.Entries = entries
	for _, c := range p.Changes {
		if c.Action == Delete {
			continue
		}
		for dir := c.Folder; ; dir = path.Dir(dir) {
			if _, ok := p.Folders[dir]; ok {
				break
			}
			p.Folders[dir] = folderID(dir, p.Target, st, in.Remote)
			if dir == "/" {
				break
			}
		}
	}
	return p, nil
}

// entryDigests returns Plan.Entries: the digest of st's entry at every address that p writes.
func entryDigests(p *Plan, st *state.State) (map[string]source.Digest, error) {
	m := make(map[string]source.Digest, len(p.Changes)+len(p.Restat))
	for addr := range touched(p) {
		d, err := statefile.EntryDigest(st.Entries[addr])
		if err != nil {
			return nil, fmt.Errorf("build plan: %s: %w", addr, err)
		}
		m[addr] = d
	}
	return m, nil
}

// touched yields every address p writes a state entry at: each change's, a move's From, and
// each restat's.
func touched(p *Plan) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, c := range p.Changes {
			if !yield(c.Address) || c.Action == Move && !yield(c.From) {
				return
			}
		}
		for _, r := range p.Restat {
			if !yield(r.Address) {
				return
			}
		}
	}
}

// changesDelivered reports whether c would put other content at a delivered address: an
// update, or the upload again of a file gone from Frame.io whose content is not the one
// delivered (then c's reason says both).
func changesDelivered(c Change, d manifest.Desired, e *state.Entry) bool {
	switch {
	case c.Action == Update:
		return true
	case c.Action == Create && c.Reason == ReasonMissing && e.Status == state.StatusComplete && !source.SameContent(d.Source, e.Source):
		return true
	}
	return false
}

// stabilizing reports whether d, a local file of an entry with stable_for, changed (mtime
// or ctime: any write, a size change included) less than stable_for before now, and returns
// what the plan says of it then.
func stabilizing(d *manifest.Desired, now time.Time) (Waiting, bool, error) {
	if d.StableFor <= 0 || d.Source.Kind != source.Local {
		return Waiting{}, false, nil
	}
	if now.IsZero() {
		return Waiting{}, false, fmt.Errorf("build plan: %s: stable_for needs the time the plan is made at", d.Address)
	}
	changed := d.Source.ModTime
	if d.Source.Ctime.After(changed) {
		changed = d.Source.Ctime
	}
	age := now.Sub(changed)
	if age >= d.StableFor {
		return Waiting{}, false, nil
	}
	return Waiting{Address: d.Address, Changed: changed, Age: age, StableFor: d.StableFor}, true, nil
}

// policyHit returns the hit of hits (sorted by address) that covers addr: the file itself,
// or a directory above it.
func policyHit(hits []manifest.PolicyHit, addr string) (manifest.PolicyHit, bool) {
	if len(hits) == 0 {
		return manifest.PolicyHit{}, false
	}
	if i, found := slices.BinarySearchFunc(hits, addr, func(h manifest.PolicyHit, a string) int { return strings.Compare(h.Address, a) }); found && !hits[i].Dir {
		return hits[i], true
	}
	for dir := path.Dir(addr); ; dir = path.Dir(dir) {
		if i, found := slices.BinarySearchFunc(hits, dir, func(h manifest.PolicyHit, a string) int { return strings.Compare(h.Address, a) }); found && hits[i].Covers(addr) {
			return hits[i], true
		}
		if dir == "/" {
			return manifest.PolicyHit{}, false
		}
	}
}

// deletedOnDisk reports whether the tracked address addr, which the expanded manifest lacks,
// is still listed by the manifest: then its local file was deleted (or moved) on disk.
func deletedOnDisk(lists func(string) (string, bool), addr string, e *state.Entry) bool {
	if lists == nil || e.Source.Kind != source.Local || e.Source.Path == "" {
		return false
	}
	a, ok := lists(e.Source.Path)
	return ok && a == addr
}

func byAddress(a, b manifest.Desired) int { return strings.Compare(a.Address, b.Address) }

func addressCmp(d manifest.Desired, addr string) int { return strings.Compare(d.Address, addr) }

// diff compares one desired file with its state entry and the refreshed view. It returns the
// change to make, or false when the address is up to date. replace (plan --replace) turns an
// up-to-date delivered address into an update that uploads it again, following on_change.
func diff(d *manifest.Desired, e *state.Entry, remote *Snapshot, parts map[string]PartProgress, replace bool) (Change, bool) {
	src := &d.Source
	if e != nil && e.Status == state.StatusComplete && src.Kind == source.Local && src.Hash.IsZero() {
		// Identify did not read the file: the stat cache may still vouch for it. On a copy:
		// Build leaves its inputs as they are.
		own := *src
		source.Reuse(d.StatRule, &e.Source, &own)
		src = &own
	}
	// The change is made only once there is one: most files of a no-op plan have none.
	var (
		action   Action
		reason   string
		onChange manifest.OnChange
	)
	switch {
	case e == nil:
		action, reason = Create, ReasonNew
	case e.Status == state.StatusPending:
		action, reason = Create, resumeReason(d, e, remote, parts)
	case remote != nil && !remote.Has(e.FileID):
		action, reason = Create, ReasonMissing
	case !source.SameContent(*src, e.Source):
		action, reason, onChange = Update, ReasonContent, d.OnChange
		if src.Kind == source.Remote {
			reason = ReasonURL
		}
	case e.Followup != nil:
		action, reason = Finish, ReasonNotStacked
		switch e.Followup.Step {
		case state.StepDelete:
			reason = ReasonNotDeleted
		case state.StepMove:
			reason = ReasonNotMoved
		}
	case replace:
		action, reason, onChange = Update, ReasonReplace, d.OnChange
	default:
		return Change{}, false
	}
	c := changeOf(*d)
	c.Source = *src
	c.Action, c.Reason, c.OnChange = action, reason, onChange
	if action == Finish {
		c.Size = 0
	}
	if e != nil {
		c.Prior = e.Clone()
	}
	return c, true
}

// resumeReason says truthfully what apply does with the interrupted upload e: send only the
// missing parts (this machine journaled them), adopt the file (Frame.io has it complete),
// or start again; without a refresh, that the upload resumes one way or the other.
func resumeReason(d *manifest.Desired, e *state.Entry, remote *Snapshot, parts map[string]PartProgress) string {
	if p, ok := parts[d.Address]; ok {
		return fmt.Sprintf("resume upload (%d of %d parts sent)", p.Sent, p.Total)
	}
	if remote == nil {
		return ReasonResume
	}
	if f, ok := remote.Files[e.FileID]; ok && e.FileID != "" && f.Uploaded() && source.Unchanged(e.Source, d.Source) {
		return ReasonFoundDone
	}
	return ReasonRestart
}

// adoption looks in listed (the files of d's destination folder) for one that d, untracked,
// can adopt: named d.Name, uploaded, not taken, and for a local source of d's size. Of
// several, the oldest wins. It returns the adopt change and true, or false when nothing
// fits; the warnings tell the user about a choice made, a remote file matched by name alone,
// or files of the name that did not fit.
func adoption(d manifest.Desired, listed []RemoteFile, taken map[string]bool) (Change, []string, bool) {
	var fits []RemoteFile
	var notUploaded, tracked int
	var otherSizes []string
	for _, f := range listed {
		switch {
		case f.Name != d.Name:
		case taken[f.ID]:
			tracked++
		case !f.Uploaded():
			notUploaded++
		case d.Source.Kind == source.Local && f.Size != d.Source.Size:
			otherSizes = append(otherSizes, display.Bytes(f.Size))
		default:
			fits = append(fits, f)
		}
	}
	if len(fits) == 0 {
		var why []string
		if n := len(otherSizes); n > 0 {
			why = append(why, fmt.Sprintf("%s of another size (%s, not %s)", display.Count(n, "file", "files"), strings.Join(otherSizes, ", "), display.Bytes(d.Source.Size)))
		}
		if notUploaded > 0 {
			why = append(why, display.Count(notUploaded, "file", "files")+" not completely uploaded")
		}
		if tracked > 0 {
			why = append(why, display.Count(tracked, "file", "files")+" tracked for another address")
		}
		if len(why) == 0 {
			return Change{}, nil, false
		}
		return Change{}, []string{fmt.Sprintf("%s: not adopted: Frame.io has only %s named %q in %s",
			d.Address, strings.Join(why, " and "), d.Name, d.Folder)}, false
	}
	slices.SortFunc(fits, oldestFirst)
	f := fits[0]
	var warnings []string
	if len(fits) > 1 {
		warnings = append(warnings, fmt.Sprintf("%s: Frame.io has %d files named %q that fit in %s; adopting the oldest (id %s)",
			d.Address, len(fits), d.Name, d.Folder, f.ID))
	}
	if d.Source.Kind == source.Remote {
		warnings = append(warnings, fmt.Sprintf("%s: adopting file %s by its name alone: the content of a remote source cannot be compared",
			d.Address, f.ID))
	}
	c := changeOf(d)
	c.Action, c.Reason, c.Existing = Adopt, ReasonAdopt, &f
	return c, warnings, true
}

// conflictOf returns the oldest file of listed (the files of d's destination folder) named
// d.Name that no address tracks, or nil: creating d would put a second copy beside it.
func conflictOf(d manifest.Desired, listed []RemoteFile, taken map[string]bool) *RemoteFile {
	for _, f := range listed { // oldest first
		if f.Name == d.Name && !taken[f.ID] {
			return &f
		}
	}
	return nil
}

// changeOf returns the change of d, before its action and reason are known. Only a local
// source has a size to plan: Frame.io learns a remote one's.
func changeOf(d manifest.Desired) Change {
	c := Change{
		Address:  d.Address,
		Kind:     d.Source.Kind,
		Folder:   d.Folder,
		Name:     d.Name,
		Source:   d.Source,
		Priority: d.Priority,
	}
	if c.Kind == source.Local {
		c.Size = d.Source.Size
	}
	return c
}

// isEmpty reports whether d is a local file of no bytes, which Frame.io does not accept.
func isEmpty(d *manifest.Desired) bool {
	return d.Source.Kind == source.Local && d.Source.Size == 0
}

// EmptyFiles returns the addresses of the empty local files among files, which a plan skips.
func EmptyFiles(files []manifest.Desired) []string {
	var out []string
	for i := range files {
		if isEmpty(&files[i]) {
			out = append(out, files[i].Address)
		}
	}
	return out
}

// SkippedEmptyNote is the one note that plan and validate give about the empty local files at
// addrs: Frame.io does not accept them, so they are skipped (neither uploaded nor counted as
// changes) until they have content. It names the first few.
func SkippedEmptyNote(addrs []string) string {
	const shown = 5
	if len(addrs) == 1 {
		return "skipped " + addrs[0] + ": Frame.io does not accept empty files"
	}
	list := strings.Join(addrs[:min(shown, len(addrs))], ", ")
	if len(addrs) > shown {
		list += fmt.Sprintf(" and %d more", len(addrs)-shown)
	}
	return fmt.Sprintf("skipped %d empty files (Frame.io does not accept empty files): %s", len(addrs), list)
}

// folderID returns the Frame.io id of the folder at dir, or "" when apply must create it.
func folderID(dir string, t state.Target, st *state.State, remote *Snapshot) string {
	if dir == "/" {
		return t.RootFolderID
	}
	if remote != nil {
		return remote.Folders[dir]
	}
	return st.Folders[dir]
}

func maxDelete(n int) int {
	switch n {
	case 0:
		return DefaultMaxDelete
	case NoDeletes:
		return 0
	}
	return n
}

// splitAddress splits "/A/B/c.mov" into "/A/B" and "c.mov".
func splitAddress(addr string) (folder, name string) {
	i := strings.LastIndexByte(addr, '/')
	if i <= 0 {
		return "/", addr[i+1:]
	}
	return addr[:i], addr[i+1:]
}

// ErrRefused matches (errors.Is) the *RefusedError Build returns when the manifest forbids an
// update the plan would make.
var ErrRefused = errors.New("update refused by on_change: error")

// Refusal is one update that on_change: error forbids: a delivered file whose content (or
// source URL) changed.
type Refusal struct {
	Address string
	// Upload and Pos are the manifest entry that sets on_change: error: its index in the
	// uploads list and its position.
	Upload int
	Pos    manifest.Pos
	// Reason says what changed: "content changed since it was delivered".
	Reason string
}

// RefusedError is the failure of a plan that would update delivered files whose entry says
// on_change: error. Refused is in address order.
type RefusedError struct {
	Manifest string // the manifest's file name, for FILE:LINE:COL
	Refused  []Refusal
}

// Error implements error: a line naming the count, then one line per file as
// "FILE:LINE:COL: uploads[N]: ADDRESS: REASON".
func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan refused: %s delivered and changed since, and the manifest says on_change: error",
		display.Count(len(e.Refused), "file was", "files were"))
	for _, r := range e.Refused {
		fmt.Fprintf(&b, "\n  %s:%s: uploads[%d]: %s: %s", e.Manifest, r.Pos, r.Upload, r.Address, r.Reason)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// TargetError is the error of a state made for one project meeting a manifest that targets
// another: use another state, or fix the manifest's target.
type TargetError struct{ msg string }

// Error implements error.
func (e *TargetError) Error() string { return e.msg }

// CheckTarget returns a *TargetError when a state made for one project meets a manifest that now
// resolves to another. A fresh state (no project id yet) matches any target.
func CheckTarget(recorded, resolved state.Target) error {
	if recorded.ProjectID == "" {
		return nil
	}
	if recorded.AccountID != resolved.AccountID || recorded.ProjectID != resolved.ProjectID {
		return &TargetError{fmt.Sprintf("the manifest now targets project %s but the state was made for project %s",
			describeTarget(resolved), describeTarget(recorded))}
	}
	return nil
}

// checkTargetNames is CheckTarget without a refresh: the manifest names the project by name
// or id, and the state remembers both.
func checkTargetNames(recorded state.Target, want manifest.Target) error {
	if recorded.ProjectID == "" {
		return nil
	}
	if want.Account != "" && want.Account != recorded.AccountID {
		return &TargetError{fmt.Sprintf("the manifest now targets account %s but the state was made for account %s",
			want.Account, recorded.AccountID)}
	}
	if want.Project == "" || want.Project == recorded.ProjectID || want.Project == recorded.Project {
		return nil
	}
	return &TargetError{fmt.Sprintf("the manifest now targets project %q but the state was made for project %s",
		want.Project, describeTarget(recorded))}
}

func describeTarget(t state.Target) string {
	if t.Project == "" {
		return fmt.Sprintf("(id %s)", t.ProjectID)
	}
	return fmt.Sprintf("%q (id %s)", t.Project, t.ProjectID)
}
