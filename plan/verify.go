package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// ErrMismatch is wrapped by the error Verify returns when a saved plan asks for something the
// current manifest and state do not allow.
var ErrMismatch = errors.New("the saved plan does not match what the manifest and the state allow now")

// Verify refuses a saved plan that is not what the current manifest and the locked state
// allow. fresh is the plan Build derives from them now, made with the saved plan's choices
// (refresh, adopt) and no bound on deletes. A plan file is input from whoever could write it,
// and its checksum only catches accidents, so nothing in it is trusted on its own:
//   - its target must be fresh's, and so must its selection (--target, --exclude), with no
//     change outside it;
//   - every change must be one fresh makes too, equal in action, kind, folder and name, size,
//     on_change, source identity (stat, and the hash where the saved plan recorded one), prior
//     entry (which must be the state's) and, for an adopt, the file adopted;
//   - every folder id it holds must be fresh's (the state's, or a fresh lookup); a folder it
//     was to create ("") may exist now (another apply or runner created it since), and
//     UseFolders then gives the saved plan its id.
//
// Changes fresh makes and the saved plan lacks are fine: applying a saved plan does only what
// it says. Verify names the first difference it finds.
func Verify(saved, fresh *Plan) error {
	if saved.Manifest != fresh.Manifest {
		return fmt.Errorf("%w: the plan was made from manifest %q, not %q", ErrMismatch, saved.Manifest, fresh.Manifest)
	}
	if why := targetDiff(saved.Target, fresh.Target); why != "" {
		return fmt.Errorf("%w: %s", ErrMismatch, why)
	}
	if saved.Moves != fresh.Moves {
		return fmt.Errorf("%w: the plan was made with moves %+v, the check with %+v", ErrMismatch, saved.Moves, fresh.Moves)
	}
	if !saved.Select.Equal(fresh.Select) {
		// The caller derives fresh with the saved plan's selection; anything else would let a
		// plan made for a few addresses be checked against, and so vouched for by, another.
		return fmt.Errorf("%w: the plan selects targets %q, excludes %q and replaces %q, the check was made with targets %q, excludes %q and replaces %q",
			ErrMismatch, saved.Select.Targets, saved.Select.Excludes, saved.Select.Replaces, fresh.Select.Targets, fresh.Select.Excludes, fresh.Select.Replaces)
	}
	for _, c := range saved.Changes {
		if !saved.Select.Includes(c.Address) {
			return fmt.Errorf("%w: %s %s: the address is outside the plan's own selection", ErrMismatch, c.Action, c.Address)
		}
	}
	for _, c := range saved.Changes {
		i, found := slices.BinarySearchFunc(fresh.Changes, c.Address, func(f Change, addr string) int { return strings.Compare(f.Address, addr) })
		if !found {
			return fmt.Errorf("%w: %s %s: the manifest and the state call for no change there now", ErrMismatch, c.Action, c.Address)
		}
		if why := changeDiff(c, fresh.Changes[i]); why != "" {
			return fmt.Errorf("%w: %s %s: %s", ErrMismatch, c.Action, c.Address, why)
		}
	}
	for _, r := range saved.Restat {
		i, found := slices.BinarySearchFunc(fresh.Restat, r.Address, func(f Restat, addr string) int { return strings.Compare(f.Address, addr) })
		if !found || identityDiff(r.Source, fresh.Restat[i].Source) != "" || r.Source.Hash != fresh.Restat[i].Source.Hash {
			return fmt.Errorf("%w: %s: the plan records a new stat the file does not have now", ErrMismatch, r.Address)
		}
	}
	for _, dir := range sortedKeys(saved.Folders) {
		id, want := saved.Folders[dir], fresh.Folders[dir]
		if _, ok := fresh.Folders[dir]; !ok {
			return fmt.Errorf("%w: folder %s: the manifest needs no such folder now", ErrMismatch, dir)
		}
		if id != want && id != "" {
			return fmt.Errorf("%w: folder %s: the plan says id %q, Frame.io and the state say %q", ErrMismatch, dir, id, want)
		}
	}
	return nil
}

// UseFolders gives each folder that p, a saved plan, was to create ("" in Folders) the id
// fresh found for it, if any: a folder another apply or runner created since the plan was
// made is used, not created a second time beside it. Call it once Verify accepted p.
func (p *Plan) UseFolders(fresh *Plan) {
	for dir, id := range p.Folders {
		if id == "" {
			p.Folders[dir] = fresh.Folders[dir]
		}
	}
}

func targetDiff(a, b state.Target) string {
	switch {
	case a.AccountID != b.AccountID:
		return fmt.Sprintf("the plan is for account %s, the manifest targets account %s", a.AccountID, b.AccountID)
	case a.ProjectID != b.ProjectID:
		return fmt.Sprintf("the plan is for project %s, the manifest targets project %s", a.ProjectID, b.ProjectID)
	case a.WorkspaceID != b.WorkspaceID || a.RootFolderID != b.RootFolderID:
		return fmt.Sprintf("the plan's project %s has workspace %s and root folder %s, Frame.io says %s and %s",
			a.ProjectID, a.WorkspaceID, a.RootFolderID, b.WorkspaceID, b.RootFolderID)
	}
	return ""
}

// changeDiff says how the saved change c differs from f, the change derived now, or "".
func changeDiff(c, f Change) string {
	switch {
	case c.Action != f.Action:
		return fmt.Sprintf("the action now is %s", f.Action)
	case c.Kind != f.Kind:
		return fmt.Sprintf("the source is %s now", f.Kind)
	case c.Folder != f.Folder || c.Name != f.Name:
		return "its folder and name do not match its address"
	case c.Size != f.Size:
		return fmt.Sprintf("size %d, now %d", c.Size, f.Size)
	case c.OnChange != f.OnChange:
		return fmt.Sprintf("on_change %q, the manifest now says %q", c.OnChange, f.OnChange)
	case c.From != f.From:
		return fmt.Sprintf("it moves the file of %q, the state and the manifest now say %q", c.From, f.From)
	case c.Priority != f.Priority:
		return fmt.Sprintf("priority %d, the manifest now says %d", c.Priority, f.Priority)
	}
	if c.Action != Delete { // a delete reads no source
		if why := identityDiff(c.Source, f.Source); why != "" {
			return why
		}
	}
	if !c.Prior.Equal(f.Prior) {
		return "its prior entry is not the state's"
	}
	if !sameRemote(c.Existing, f.Existing) {
		return "the file it adopts is not the one Frame.io offers now"
	}
	if (c.Conflict == nil) != (f.Conflict == nil) {
		return "what it says of a file already at the address is not what Frame.io says now"
	}
	return ""
}

// identityDiff compares a saved source identity with the one derived now: the stat and the
// URL hash always, the content hash where the saved plan recorded one.
func identityDiff(saved, now source.Identity) string {
	if saved.Kind == source.Remote || now.Kind == source.Remote {
		if saved.Kind != now.Kind || saved.URLHash != now.URLHash || saved.URL != now.URL {
			return "its source URL is not the manifest's"
		}
		return ""
	}
	if saved.Path != now.Path {
		return fmt.Sprintf("source %q, the manifest now reads %q for it", saved.Path, now.Path)
	}
	if !source.Unchanged(saved, now) {
		return "its source's stat is not the file's: " + source.DescribeChange(saved, now)
	}
	if !saved.Hash.IsZero() && saved.Hash != now.Hash {
		return "its source's hash is not the file's"
	}
	return ""
}

func sameRemote(a, b *RemoteFile) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Name == b.Name && a.ParentID == b.ParentID && a.Size == b.Size &&
		a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
