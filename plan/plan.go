package plan

import (
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// FormatVersion is the version of the JSON plan output (plan --json). Version 2 added the
// finish action and the summary's finish and reread counts; within the same unshipped version
// 2, the targeting (select) and what it left out (excluded, and the summary's count). Version
// 3 added the move action with its from, the summary's move count and the folders the moves
// empty (emptied); the target, each change's source, on_change, file_id (updates, deletes,
// finishes) and drop (deletes), and the untracked addresses with their drop; the selection's
// replaces (--replace), what policy excludes kept from the plan (policy_excluded) and the
// files still being written (waiting, and the summary's count); each change's mhl ("not in
// MHL").
const FormatVersion = "3"

// FileFormatVersion is the version of plan files (plan --out). Version 2 added the manifest's
// name, a checksum of the content, the finish action, the entries' followups and the restats;
// within the same unshipped version 2, the targeting (select) and what it left out (excluded).
// Version 3 added the move action with its from, the moves setting and the emptied folders,
// the account's and workspace's names to the target, the selection's replaces,
// policy_excluded, waiting and each change's priority. Version 4 added the state entries the
// plan writes (entries, Plan.Entries), which replace the serial as what makes a plan stale.
const FileFormatVersion = "4"

// Action is what apply does for one address.
type Action string

// The actions a plan can hold. The JSON output uses these strings.
const (
	// Create uploads a file that Frame.io does not have for this address: a new entry, a
	// tracked file that vanished from Frame.io, or an interrupted upload to redo.
	Create Action = "create"
	// Update uploads changed content for a tracked address; the entry's on_change says
	// whether the old file is stacked under it (version), deleted (replace) or kept.
	Update Action = "update"
	// Delete removes a file fiosync uploaded that the manifest no longer lists (prune: true).
	Delete Action = "delete"
	// Finish runs the on_change step an earlier apply owes a tracked address and could not
	// finish (its entry's Followup): stack the address's file onto its earlier version, or
	// delete the earlier file it replaced. Nothing is uploaded.
	Finish Action = "finish"
	// Adopt records a file already in Frame.io for an address the state does not track, so
	// nothing is uploaded (plan --adopt). The Change's Existing names the file: one in the
	// destination folder with the address's name, uploaded, of the same size (local sources)
	// and tracked by no other address.
	Adopt Action = "adopt"
	// Move moves (and, when the name changed, renames) a tracked file in Frame.io to the
	// address its content now has, keeping its id, comments and versions, instead of
	// uploading it again. From is the old address, which the manifest no longer lists; Prior
	// is its entry. Nothing is uploaded.
	Move Action = "move"
)

// Plan is the ordered list of changes that apply will make, with what it was computed from.
// A Plan is plain data: it can be rendered, saved to a plan file and applied later, and the
// same inputs always give the same Plan.
type Plan struct {
	// Lineage and Serial identify the state the plan was made from. Applying a saved plan to a
	// state with another lineage is refused as stale; the serial is only reported, since
	// other applies (other runners) move it on for addresses the plan does not touch.
	Lineage string
	Serial  uint64

	// Entries records, for every address the plan writes a state entry at (each change's
	// address, a move's From too, and each Restat), what the state held there when the plan
	// was made: the BLAKE3 of the entry's canonical encoding (statefile.EntryDigest), or the
	// zero digest for no entry. CheckStale refuses a saved plan when any of them differs
	// from the state's now; entries of other addresses may change freely. Set by Build.
	Entries map[string]source.Digest

	// Manifest is the file name of the manifest the plan was made from (without its
	// directory, which differs between checkouts). A saved plan is applied only with it.
	Manifest string

	// Target is the resolved account, workspace, project and root folder.
	Target state.Target

	// Changes are sorted by address.
	Changes []Change

	// Folders maps every destination folder path that the changes need, and each of its
	// ancestors, to its Frame.io id, or to "" when the folder does not exist yet and apply
	// must create it (parents before children). "/" is the project's root folder. Deletes
	// need no folder.
	Folders map[string]string

	// Unchanged counts the desired files that need nothing.
	Unchanged int

	// Restat lists unchanged files whose stat moved (touched, copied with cp -al, a share
	// that renumbers inodes): Identify read them and found the recorded content. Apply
	// records their new stat, so the next plan trusts the stat cache again instead of
	// reading them every time. Sorted by address.
	Restat []Restat

	// Untracked lists addresses that fiosync uploaded and the manifest no longer lists, when
	// the manifest does not set prune: true. They are reported, never touched.
	Untracked []string

	// Deleted lists the addresses of Untracked whose manifest entry still lists them: their
	// local file was deleted on disk, rather than dropped from the manifest. Sorted.
	Deleted []string

	// Select is the selection the plan was made with (plan --target, --exclude); a saved
	// plan is re-derived with it.
	Select Selection

	// Excluded lists the addresses, desired or tracked, that Select left out: the plan does
	// nothing for them. Sorted.
	Excluded []string

	// Moves is whether and from what size the plan moves files (MovesFor); a saved plan is
	// re-derived with it.
	Moves Moves

	// Emptied lists the folders the plan's moves leave without any file fiosync tracks or
	// the manifest lists, sorted. They are reported, never deleted.
	Emptied []string

	// Waiting lists the local files left out of this plan because they changed within their
	// entry's stable_for: still being written, they are uploaded by a later plan. They stay
	// desired, so nothing is pruned for them. Sorted by address.
	Waiting []Waiting

	// PolicyExcluded lists the tracked addresses that the manifest's top-level exclude or a
	// default exclude now leaves out: the plan reports them and never deletes them. Sorted.
	PolicyExcluded []PolicyExclusion

	// Refreshed says whether the plan looked at Frame.io (false with --refresh=false).
	Refreshed bool

	// Warnings are things the user should know that do not stop the plan, such as two
	// folders in Frame.io sharing the name of a destination folder. Sorted. The renderers
	// leave them out: the caller prints them as diagnostics.
	Warnings []string
}

// Waiting is a file held back by stable_for: when it last changed (the later of its mtime
// and ctime), how long before the plan that was, and the entry's stable_for.
type Waiting struct {
	Address   string        `json:"address"`
	Changed   time.Time     `json:"changed"`
	Age       time.Duration `json:"age_ns"`
	StableFor time.Duration `json:"stable_for_ns"`
}

// PolicyExclusion is a tracked address a policy exclude leaves out, and the pattern that
// does; Default says it is one of manifest.DefaultExcludes.
type PolicyExclusion struct {
	Address string `json:"address"`
	Pattern string `json:"pattern"`
	Default bool   `json:"default"`
}

// Restat is the new identity of an unchanged file: its current stat with the recorded hash.
type Restat struct {
	Address string          `json:"address"`
	Source  source.Identity `json:"source"`
}

// Change is one thing apply does for one address.
type Change struct {
	Address string
	Action  Action
	Kind    source.Kind

	// Folder and Name split the address: the destination folder path and the file name.
	Folder string
	Name   string

	// Size is the number of bytes to upload (local), the recorded size for a delete, or the
	// local file's size for an adopt (nothing is uploaded); 0 when unknown (a remote source).
	Size int64

	// Reason says why, in words for people: "new", "content changed", "missing in Frame.io",
	// "resume interrupted upload", "source URL changed", "no longer in the manifest",
	// "already in Frame.io".
	Reason string

	// OnChange is the manifest's on_change for the entry (updates only).
	OnChange manifest.OnChange

	// Priority is the entry's priority: apply starts the uploads of higher ones first.
	Priority int

	// Source is the content identity seen at plan time, and what apply reads. A local source
	// carries its path relative to the manifest's directory, its stat and, when the plan
	// computed one, its hash; apply opens that path below the manifest's directory (a saved
	// plan is first held to the manifest's current expansion by CheckStale) and refuses a
	// file whose stat is no longer the one recorded here. A remote source carries the URL
	// without its query and the hash of the whole URL; apply takes the URL itself from the
	// manifest and checks it against the hash.
	Source source.Identity

	// From is the address a move takes the file from (moves only).
	From string `json:",omitempty"`

	// Prior is the state entry this change replaces, deletes or moves, if any.
	Prior *state.Entry `json:",omitempty"`

	// Existing is the Frame.io file an adopt records for the address (adopts only).
	Existing *RemoteFile `json:",omitempty"`

	// MHL is NotInMHL for a local file of an entry with mhl: that no ASC MHL history covers
	// (it is uploaded unchecked), and empty otherwise. Plan output only: apply takes what a
	// history records from CheckMHL, never from a plan file.
	MHL string `json:",omitempty"`

	// Conflict is a file the refresh found at the address that the state does not track
	// (creates and moves only): apply refuses to put a second copy beside it unless told to. It is
	// what a lost state or a `state rm` leaves; plan --adopt records such a file instead.
	Conflict *RemoteFile `json:",omitempty"`
}
