package plan

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
)

// Snapshot is what a refresh saw in Frame.io: the resolved target, the destination folders
// that exist, and which tracked files are still there.
type Snapshot struct {
	// Target is the resolved account, workspace, project and root folder.
	Target state.Target

	// Folders maps every folder path the manifest or the state touches, and that exists in
	// Frame.io, to its id. "/" is the project's root folder. A path absent from the map
	// does not exist yet.
	Folders map[string]string

	// Files holds the tracked files found in Frame.io, by file id. A tracked file whose id
	// is absent was deleted in Frame.io.
	Files map[string]RemoteFile

	// Listed holds the files directly inside the
	// destination folder of every address the state does not track, by folder path, oldest
	// first. A folder that does not exist has no key. Build adopts from these.
	Listed map[string][]RemoteFile

	// Warnings are sorted messages about ambiguities the refresh resolved on its own.
	Warnings []string
}

// RemoteFile is what a refresh learned about one file in Frame.io. Plan files carry it for
// adopt changes, under these JSON names.
type RemoteFile struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ParentID  string    `json:"parent_id"`
	Size      int64     `json:"size"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// ViewURL is the file's Frame.io page, which an adopt records in the state.
	ViewURL string `json:"view_url,omitempty"`
}

// Uploaded reports whether every byte of f is in Frame.io: its status is uploaded, or past
// that (transcoded).
func (f RemoteFile) Uploaded() bool {
	return f.Status == frameio.StatusUploaded || f.Status == frameio.StatusTranscoded
}

// Has reports whether the tracked file with this id exists in Frame.io.
func (r *Snapshot) Has(fileID string) bool {
	_, ok := r.Files[fileID]
	return fileID != "" && ok
}

// Refresh reads the remote side of a plan. It resolves the manifest's target, refuses a
// state made for another project, resolves every destination folder that files or st touch
// by walking /folders listings from the project root, and finds which tracked files still
// exist by listing /files of their folders (and GET file for any not listed there, since a
// file stacked into a version stack leaves its folder's listing). It lists the folders of
// untracked addresses too, into Snapshot.Listed: a file already there under the address's
// name is one to adopt (plan --adopt) or a conflict, never a reason to upload a duplicate.
//
// It never uses /children, which Frame.io limits to 100 calls a minute; the client paces the
// calls it makes.
func Refresh(ctx context.Context, c *frameio.Client, m *manifest.Manifest, files []manifest.Desired, st *state.State) (*Snapshot, error) {
	return RefreshWith(ctx, c, m, files, st, RefreshOptions{})
}

// RefreshOptions tune RefreshWith.
type RefreshOptions struct {
	// Progress, when set, is told when the step begins and of each listing and lookup
	// Frame.io answers (StepRefresh).
	Progress StepFunc
}

// RefreshWith is Refresh with options: a progress report of the calls it makes.
func RefreshWith(ctx context.Context, c *frameio.Client, m *manifest.Manifest, files []manifest.Desired, st *state.State, opts RefreshOptions) (*Snapshot, error) {
	if st == nil {
		st = &state.State{}
	}
	if opts.Progress != nil {
		opts.Progress(Step{Name: StepRefresh}) // the step begins: finding the target comes first
	}
	t, err := ResolveTarget(ctx, c, m.Target)
	if err != nil {
		return nil, err
	}
	if err := CheckTarget(st.Target, t); err != nil {
		return nil, err
	}
	w := &walker{
		ctx:      ctx,
		c:        c,
		progress: opts.Progress,
		account:  t.AccountID,
		listings: map[string][]frameio.File{},
		resolved: map[string]string{"/": t.RootFolderID},
	}
	r := &Snapshot{Target: t, Folders: map[string]string{}, Files: map[string]RemoteFile{}}

	touched := map[string]bool{"/": true}
	for _, d := range files {
		touched[d.Folder] = true
	}
	for addr := range st.Entries {
		folder, _ := splitAddress(addr)
		touched[folder] = true
	}
	for _, dir := range slices.Sorted(maps.Keys(touched)) {
		id, err := w.resolve(dir)
		if err != nil {
			return nil, err
		}
		if id != "" {
			r.Folders[dir] = id
		}
	}
	for dir, id := range w.resolved {
		if id != "" {
			r.Folders[dir] = id
		}
	}

	adopt := []string{} // folder paths of untracked addresses
	seen := map[string]bool{}
	for _, d := range files {
		if st.Entries[d.Address] == nil && !seen[d.Folder] {
			seen[d.Folder] = true
			adopt = append(adopt, d.Folder)
		}
	}
	slices.Sort(adopt)
	if err := w.findFiles(st, r, adopt); err != nil {
		return nil, err
	}
	r.Warnings = w.warnings
	slices.Sort(r.Warnings)
	return r, nil
}

// walker resolves folder paths with cached /folders listings.
type walker struct {
	ctx      context.Context
	c        *frameio.Client
	account  string
	listings map[string][]frameio.File // folder id -> its subfolders
	resolved map[string]string         // path -> id, "" when it does not exist
	warnings []string

	progress StepFunc
	mu       sync.Mutex
	calls    int // listings and lookups answered
}

// answered counts one listing or lookup done and reports it.
func (w *walker) answered() {
	if w.progress == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	w.progress(Step{Name: StepRefresh, Done: w.calls})
}

// resolve returns the id of the folder at dir, or "" when it does not exist.
func (w *walker) resolve(dir string) (string, error) {
	if id, ok := w.resolved[dir]; ok {
		return id, nil
	}
	parentID, err := w.resolve(path.Dir(dir))
	if err != nil || parentID == "" {
		w.resolved[dir] = ""
		return "", err
	}
	subs, err := w.subfolders(parentID)
	if err != nil {
		return "", err
	}
	name := path.Base(dir)
	var same []frameio.File
	for _, f := range subs {
		if f.Name == name {
			same = append(same, f)
		}
	}
	if len(same) == 0 {
		w.resolved[dir] = ""
		return "", nil
	}
	slices.SortFunc(same, func(a, b frameio.File) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	if len(same) > 1 {
		w.warnings = append(w.warnings, fmt.Sprintf("Frame.io has %d folders at %s; using the oldest (id %s)", len(same), dir, same[0].ID))
	}
	w.resolved[dir] = same[0].ID
	return same[0].ID, nil
}

// subfolders lists the folders directly inside folder id, once per refresh.
func (w *walker) subfolders(id string) ([]frameio.File, error) {
	if subs, ok := w.listings[id]; ok {
		return subs, nil
	}
	var subs []frameio.File
	for f, err := range w.c.Folders(w.ctx, w.account, id) {
		if err != nil {
			return nil, fmt.Errorf("list folders of %s: %w", id, err)
		}
		if f.Type == "" || f.Type == frameio.TypeFolder {
			subs = append(subs, f)
		}
	}
	w.listings[id] = subs
	w.answered()
	return subs, nil
}

// refreshParallel is how many listings and lookups Refresh keeps in flight. The client paces
// them under Frame.io's limits; a few in flight keep that pace despite network latency.
const refreshParallel = 4

// findFiles records in r every tracked file of st that still exists. It lists /files of each
// folder that holds tracked entries, then looks up the entries not listed there one by one.
// The folders at the paths in adopt are listed too, into r.Listed; each folder is listed
// once, whichever reasons it has.
func (w *walker) findFiles(st *state.State, r *Snapshot, adopt []string) error {
	byFolder := map[string][]*state.Entry{}
	for addr, e := range st.Entries {
		if e.FileID == "" {
			continue
		}
		parent := e.ParentID
		if parent == "" {
			folder, _ := splitAddress(addr)
			parent = r.Folders[folder]
		}
		byFolder[parent] = append(byFolder[parent], e)
	}
	toList := map[string]bool{}
	for id := range byFolder {
		toList[id] = true
	}
	for _, dir := range adopt {
		toList[r.Folders[dir]] = true
	}
	delete(toList, "")
	folders := slices.Sorted(maps.Keys(toList))
	listed := make([][]frameio.File, len(folders))
	p := pool.New().WithContext(w.ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(refreshParallel)
	for i, id := range folders {
		p.Go(func(ctx context.Context) error {
			var err error
			listed[i], err = w.listFiles(ctx, id)
			return err
		})
	}
	if err := p.Wait(); err != nil {
		return err
	}
	byID := make(map[string][]RemoteFile, len(folders))
	for i, files := range listed {
		for _, f := range files {
			rf := remoteFile(f)
			r.Files[f.ID] = rf
			byID[folders[i]] = append(byID[folders[i]], rf)
		}
	}
	if adopt != nil {
		r.Listed = map[string][]RemoteFile{}
		for _, dir := range adopt {
			id := r.Folders[dir]
			if id == "" {
				continue
			}
			files := slices.Clone(byID[id])
			slices.SortFunc(files, oldestFirst)
			r.Listed[dir] = files
		}
	}

	var lookups []string
	for _, entries := range byFolder {
		for _, e := range entries {
			if !r.Has(e.FileID) && e.Status != state.StatusPending {
				lookups = append(lookups, e.FileID)
			}
		}
	}
	slices.Sort(lookups)
	found := make([]*frameio.File, len(lookups))
	p = pool.New().WithContext(w.ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(refreshParallel)
	for i, id := range lookups {
		p.Go(func(ctx context.Context) error {
			f, err := w.c.File(ctx, w.account, id)
			if err == nil || frameio.IsNotFound(err) {
				w.answered()
			}
			if frameio.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("look up file %s: %w", id, err)
			}
			found[i] = f
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return err
	}
	for _, f := range found {
		if f != nil {
			r.Files[f.ID] = remoteFile(*f)
		}
	}
	return nil
}

// listFiles lists the files directly inside folder id. A folder deleted in Frame.io holds
// nothing.
func (w *walker) listFiles(ctx context.Context, id string) ([]frameio.File, error) {
	var out []frameio.File
	for f, err := range w.c.Files(ctx, w.account, id) {
		if frameio.IsNotFound(err) {
			w.answered()
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list files of folder %s: %w", id, err)
		}
		if f.Type == "" || f.Type == frameio.TypeFile {
			out = append(out, f)
		}
	}
	w.answered()
	return out, nil
}

// oldestFirst orders files by creation time, then id, so "the oldest" is well defined.
func oldestFirst(a, b RemoteFile) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
}

func remoteFile(f frameio.File) RemoteFile {
	return RemoteFile{ID: f.ID, Name: f.Name, ParentID: f.ParentID, Size: f.FileSize, Status: f.Status, CreatedAt: f.CreatedAt.UTC(), ViewURL: f.ViewURL}
}

// ResolveTarget finds the account, workspace and project that t names. The account is given
// by id, or omitted when the token sees exactly one; the workspace by name or id, optional
// unless the project's name exists in several workspaces; the project by name or id.
func ResolveTarget(ctx context.Context, c *frameio.Client, t manifest.Target) (state.Target, error) {
	var out state.Target
	account, err := resolveAccount(ctx, c, t.Account)
	if err != nil {
		return out, err
	}
	out.AccountID, out.Account = account.ID, account.DisplayName

	var workspaces []frameio.Workspace
	for ws, err := range c.Workspaces(ctx, account.ID) {
		if err != nil {
			return out, fmt.Errorf("list workspaces: %w", err)
		}
		workspaces = append(workspaces, ws)
	}
	if t.Workspace != "" {
		ws, err := pickWorkspace(workspaces, t.Workspace)
		if err != nil {
			return out, err
		}
		workspaces = []frameio.Workspace{ws}
	}

	type found struct {
		ws frameio.Workspace
		p  frameio.Project
	}
	var byID, byName []found
	var names []string // every project seen, for the error when none matches
	for _, ws := range workspaces {
		for p, err := range c.Projects(ctx, account.ID, ws.ID) {
			if err != nil {
				return out, fmt.Errorf("list projects of workspace %q: %w", ws.Name, err)
			}
			names = append(names, p.Name)
			switch t.Project {
			case p.ID:
				byID = append(byID, found{ws, p})
			case p.Name:
				byName = append(byName, found{ws, p})
			}
		}
	}
	matches := byID
	if len(matches) == 0 {
		matches = byName
	}
	switch len(matches) {
	case 0:
		if len(workspaces) == 0 {
			return out, fmt.Errorf("resolve target: no project %q: the account has no workspace", t.Project)
		}
		return out, fmt.Errorf("resolve target: no project %q in %s, which %s", t.Project, describeWorkspaces(workspaces),
			noneNamed("project", "projects", t.Project, names))
	case 1:
	default:
		var names []string
		for _, m := range matches {
			names = append(names, fmt.Sprintf("%q (id %s)", m.ws.Name, m.ws.ID))
		}
		return out, fmt.Errorf("resolve target: project %q exists in workspaces %s; set target.workspace to one of them",
			t.Project, strings.Join(names, ", "))
	}
	m := matches[0]
	out.WorkspaceID = m.ws.ID
	out.ProjectID = m.p.ID
	out.RootFolderID = m.p.RootFolderID
	out.Project = m.p.Name
	out.Workspace = m.ws.Name
	if out.RootFolderID == "" {
		return out, fmt.Errorf("resolve target: project %q (id %s) has no root folder", m.p.Name, m.p.ID)
	}
	return out, nil
}

func resolveAccount(ctx context.Context, c *frameio.Client, want string) (frameio.Account, error) {
	var accounts []frameio.Account
	for a, err := range c.Accounts(ctx) {
		if err != nil {
			return frameio.Account{}, fmt.Errorf("list accounts: %w", err)
		}
		if want != "" && a.ID == want {
			return a, nil
		}
		accounts = append(accounts, a)
	}
	var seen []string
	for _, a := range accounts {
		seen = append(seen, fmt.Sprintf("%q (id %s)", a.DisplayName, a.ID))
	}
	switch {
	case want != "" && len(accounts) == 0:
		return frameio.Account{}, fmt.Errorf("resolve target: account %s not found: the token sees no account", want)
	case want != "":
		return frameio.Account{}, fmt.Errorf("resolve target: account %s not found; the token sees %s", want, strings.Join(seen, ", "))
	case len(accounts) == 1:
		return accounts[0], nil
	case len(accounts) == 0:
		return frameio.Account{}, fmt.Errorf("resolve target: the token sees no account")
	default:
		return frameio.Account{}, fmt.Errorf("resolve target: the token sees %d accounts, set target.account to one of %s", len(accounts), strings.Join(seen, ", "))
	}
}

func pickWorkspace(all []frameio.Workspace, want string) (frameio.Workspace, error) {
	var byName []frameio.Workspace
	for _, ws := range all {
		if ws.ID == want {
			return ws, nil
		}
		if ws.Name == want {
			byName = append(byName, ws)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		var names []string
		for _, ws := range all {
			names = append(names, ws.Name)
		}
		return frameio.Workspace{}, fmt.Errorf("resolve target: no workspace %q; the account %s", want, noneNamed("workspace", "workspaces", want, names))
	default:
		var ids []string
		for _, ws := range byName {
			ids = append(ids, ws.ID)
		}
		return frameio.Workspace{}, fmt.Errorf("resolve target: %d workspaces are named %q (ids %s); set target.workspace to an id",
			len(byName), want, strings.Join(ids, ", "))
	}
}

// maxNamesListed bounds the names a "no such workspace or project" error lists.
const maxNamesListed = 20

// noneNamed is the one way a target error lists what there is instead of want and suggests
// the closest name: `has projects "Dailies", "Sandbox"; did you mean "Dailies"?` (for
// several workspaces, "have" would read better; "has" is kept for one rule). Names come
// from Frame.io: report escapes the error for the terminal.
func noneNamed(one, many, want string, names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return "has no " + one
	}
	quoted := make([]string, 0, min(len(names), maxNamesListed))
	for _, n := range names[:min(len(names), maxNamesListed)] {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	msg := "has " + display.Pick(len(names), one, many) + " " + strings.Join(quoted, ", ")
	if n := len(names) - maxNamesListed; n > 0 {
		msg += fmt.Sprintf(" and %d more", n)
	}
	if s := manifest.SuggestName(want, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

func describeWorkspaces(all []frameio.Workspace) string {
	if len(all) == 0 {
		return "no workspace"
	}
	var names []string
	for _, ws := range all {
		names = append(names, fmt.Sprintf("%q", ws.Name))
	}
	if len(all) == 1 {
		return "workspace " + names[0]
	}
	return "workspaces " + strings.Join(names, ", ")
}
