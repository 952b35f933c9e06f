// Package plan computes what apply must do: the diff between the desired files of a manifest,
// the state of what fiosync delivered before, and (after a refresh) what is really in
// Frame.io.
//
// Planning happens in three steps. Refresh reads the remote side: it resolves the target and
// the destination folders and lists the files that the state and the manifest touch. Identify
// reads the local side: it completes the identity each desired file already carries from the
// manifest's walk (source.Identity), hashing only the tracked files that source.Unchanged
// cannot vouch for. The identity then travels in each Change to apply, which reads the
// change's own source path and needs nothing but the plan and the manifest. Build is pure: from those facts it derives a Plan, a
// sorted list of Changes with a reason for each, which renders as text, JSON or markdown and
// can be saved to a plan file that apply refuses once it has gone stale.
//
// # Refresh
//
// Refresh turns the manifest's target (account id or none, workspace and project by name or
// id) into a state.Target and refuses, with an error that names both projects, a state that
// was made for another project: a changed target is a mistake to fix, not a reason to upload
// everything again. It then resolves each destination folder path by walking /folders
// listings from the project's root, adopting folders that already exist (someone may have
// made them by hand; of two with the same name it takes the oldest and says so in a
// warning), and lists /files of the folders that hold tracked entries. A tracked file absent
// from its folder's listing may sit inside a version stack, so it is looked up by id; a 404
// means it was deleted in Frame.io. Refresh never uses /children, which Frame.io limits to
// 100 calls a minute; the frameio client paces every call it makes. The result is a
// Snapshot. With --refresh=false there is no Snapshot and the state is trusted.
//
// Refresh also lists /files of the destination folder of
// every address the state does not track, so that Build can adopt what is already there.
// Without it, a first plan lists nothing it does not need.
//
// # Identify
//
// A no-op plan over a large tree must cost about as much as `git status`, so Identify reads
// file contents only when it must. A tracked file whose size, mtime, inode and ctime match
// the state keeps the recorded hash (source.Unchanged, the one home of that rule); a tracked file
// whose size changed is changed, no hash needed; a new file is uploaded whatever its content,
// and apply hashes it while uploading. Only a tracked file of the same size whose stat moved
// (touched, restored, rewritten in place) is hashed, a bounded number at a time. A remote
// source is identified by its URL without the query plus the BLAKE3 of the whole URL, so a
// re-signed URL counts as a change without its signature ever being stored.
//
// # ASC MHL
//
// CheckMHL, run before the other steps, holds the files of entries with mhl: to the ASC MHL
// history that covers each (package mhl): size and modification time as recorded, every file
// the history lists below the entry present, the history's chain intact. It reads histories
// and stats, never content, and refuses the plan with *MHLError listing every problem. Files
// no history covers are marked "not in MHL" (Change.MHL); the hashes go to apply, which
// checks them in its one read.
//
// # Build
//
// Build compares each desired file with its state entry and the Snapshot:
//
//	no entry                                 create  "new"
//	no entry, the content of a dropped address, moves on
//	                                         move    "same content as an address no longer in the manifest"
//	no entry, --adopt, a fitting file there  adopt   "already in Frame.io"
//	entry still pending (interrupted apply)  create  "resume interrupted upload"
//	refresh did not find the file            create  "missing in Frame.io"
//	local content differs                    update  "content changed" (with on_change)
//	remote URL differs                       update  "source URL changed"
//	otherwise                                unchanged
//
// Tracked addresses the manifest no longer lists are deleted ("no longer in the manifest",
// or "deleted on disk" when an entry still lists the file's path: Inputs.Lists) when the
// manifest sets prune: true, else listed in Plan.Untracked and left alone; more
// deletes than Inputs.MaxDelete fail the plan with a *DeleteLimitError listing them. Every
// change that creates or updates a file also enters its folder and the folder's ancestors
// into Plan.Folders, with the folder's id or "" for apply to create. Changes that replace or
// resume a state entry carry it as Prior, so apply can stack onto, delete or reconcile it.
//
// # Moves
//
// With Inputs.Moves enabled (MovesFor: prune: true or --moves, not --no-moves), an address the
// state does not track whose local content (BLAKE3) is that of a tracked address the manifest
// dropped is planned as a move from it, when that entry is complete and at least
// Moves.MinSize bytes or in a version stack; the dropped address is then neither deleted nor
// reported. IdentifyMoves hashes the candidates beforehand: only new files of a dropped
// address's size. Both addresses must be in the selection, and with a refresh the file must
// still be in Frame.io. Plan.Emptied names the folders the moves leave with nothing in them.
//
// # Adoption
//
// A first plan against a half-delivered folder would upload everything again. With
// Inputs.Adopt, an address without a state entry adopts a file of its destination folder
// instead, when one fits: the same name, uploaded (status uploaded or transcoded), tracked by
// no state entry (current or previous file) and adopted by no other address of the plan,
// and, for a local source, of the same size. Of several that fit, the oldest wins and a
// warning names it. Frame.io offers no content hash, so size is the only content check; a
// remote source has no size before it is fetched, so it is matched by name alone, with a
// warning saying so (a user who asked for --adopt gets the match, and is told how weak it
// is). Files of the name that do not fit are explained in a warning, and the address is
// created as usual. Apply records an adopt as a complete entry without uploading; a local
// source is hashed then, so the state holds its digest like any delivery.
//
// Build does no I/O and iterates no map in an order that could leak into its result: the same
// inputs always give the same Plan, and so byte-identical text, JSON and plan files.
//
// # Output and plan files
//
// WriteText prints the human form (product.md "Plan output"), WriteJSON the documented JSON
// object, and WriteMarkdown a summary for pull requests that stays under MarkdownLimit bytes.
// WriteFile saves a Plan with the state's lineage and serial and the identity of every
// source; CheckStale refuses to apply it once the state or any source it uploads has changed,
// naming what changed. Plan files never hold a remote URL's query string: apply takes the
// URL from the manifest and checks it against the recorded hash.
package plan
