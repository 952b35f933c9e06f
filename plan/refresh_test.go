package plan

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// env is an emulator served over HTTP, a client for it and a manifest directory.
type env struct {
	emu  *emulator.Emulator
	seed emulator.Seed
	c    *frameio.Client
	dir  string
}

func newEnv(t *testing.T) *env { return newEnvLimited(t, false) }

// newEnvLimited is newEnv with the documented rate limits on and a pacing client when
// limited is true.
func newEnvLimited(t *testing.T, limited bool) *env {
	t.Helper()
	opts := emulator.DefaultOptions()
	var copts []frameio.Option
	if !limited {
		opts.RateLimitScale = 0
		copts = append(copts, frameio.WithoutPacing())
	}
	// Every timestamp is one second after the last, so "the oldest folder" is well defined.
	var tick atomic.Int64
	opts.Now = func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	e := emutest.Start(t, opts, copts...)
	return &env{emu: e.Emu, seed: e.Seed, c: e.Client, dir: t.TempDir()}
}

// manifest writes the files (name -> content) and fiosync.yaml, then loads and expands it.
func (e *env) manifest(t *testing.T, yaml string, files map[string]string) (*manifest.Manifest, []manifest.Desired) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(e.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mpath := filepath.Join(e.dir, "fiosync.yaml")
	if err := os.WriteFile(mpath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	x, err := m.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return m, x.Files
}

// deliver uploads every local file of p the simplest way and records it in st, standing in
// for apply (which is written elsewhere).
func (e *env) deliver(t *testing.T, p *Plan, files []manifest.Desired, st *state.State) {
	t.Helper()
	ctx := t.Context()
	byAddr := map[string]manifest.Desired{}
	for _, d := range files {
		byAddr[d.Address] = d
	}
	folders := map[string]string{}
	var folderID func(dir string) string
	folderID = func(dir string) string {
		if id := p.Folders[dir]; id != "" {
			return id
		}
		if id := folders[dir]; id != "" {
			return id
		}
		f, err := e.c.CreateFolder(ctx, e.seed.AccountID, folderID(path.Dir(dir)), path.Base(dir))
		if err != nil {
			t.Fatal(err)
		}
		folders[dir] = f.ID
		st.Folders[dir] = f.ID
		return f.ID
	}
	st.Target = p.Target
	for _, c := range p.Changes {
		d := byAddr[c.Address]
		parent := folderID(c.Folder)
		f, err := e.c.CreateLocalUpload(ctx, e.seed.AccountID, parent, c.Name, d.Source.Size)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.Open(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range f.UploadURLs {
			if err := e.c.UploadPart(ctx, part, f.MediaType, src); err != nil {
				t.Fatal(err)
			}
		}
		src.Close()
		sum, _, err := source.HashFile(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		st.Entries[c.Address] = &state.Entry{
			Source: withHash(d.Source, sum), FileID: f.ID, ParentID: parent, Status: state.StatusComplete,
		}
	}
}

// plan runs the three steps as `fiosync plan` does, failing the test on any error.
func (e *env) plan(t *testing.T, m *manifest.Manifest, files []manifest.Desired, st *state.State) *Plan {
	t.Helper()
	ctx := t.Context()
	remote, err := Refresh(ctx, e.c, m, files, st)
	if err != nil {
		t.Fatal(err)
	}
	err = Identify(ctx, files, st, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(Inputs{Files: files, Target: m.Target, Prune: m.Prune, State: st, Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const dailies = `version: 1
target:
  project: Sandbox
uploads:
  - local: shoot
    to: /Day01
`

var shoot = map[string]string{
	"shoot/A-Cam/A001.mov": "a001 content",
	"shoot/A-Cam/A002.mov": "a002 content, longer",
	"shoot/B-Cam/B001.mov": "b001",
}

func actions(p *Plan) map[string]string {
	out := map[string]string{}
	for _, c := range p.Changes {
		out[c.Address] = string(c.Action) + " " + c.Reason
	}
	return out
}

func TestRefreshDeletedInFrameio(t *testing.T) {
	e := newEnv(t)
	m, files := e.manifest(t, dailies, shoot)
	st := state.New(state.Target{})
	p := e.plan(t, m, files, st)
	if got := p.Summary().Create; got != 3 {
		t.Fatalf("first plan creates %d files, want 3", got)
	}
	e.deliver(t, p, files, st)

	p = e.plan(t, m, files, st)
	if !p.Empty() || p.Unchanged != 3 {
		t.Fatalf("plan after delivery: %v, %d unchanged; want no changes", actions(p), p.Unchanged)
	}

	gone := st.Entries["/Day01/A-Cam/A002.mov"].FileID
	if err := e.c.DeleteFile(t.Context(), e.seed.AccountID, gone); err != nil {
		t.Fatal(err)
	}
	p = e.plan(t, m, files, st)
	want := map[string]string{"/Day01/A-Cam/A002.mov": "create missing in Frame.io"}
	if diff := cmp.Diff(want, actions(p)); diff != "" {
		t.Errorf("plan after a delete in Frame.io (-want +got):\n%s", diff)
	}
	if p.Changes[0].Prior == nil || p.Changes[0].Prior.FileID != gone {
		t.Errorf("the change does not carry the prior entry: %+v", p.Changes[0].Prior)
	}
	for route := range e.emu.Stats().Requests {
		if strings.Contains(route, "children") {
			t.Errorf("refresh used %s", route)
		}
	}
}

// TestRefreshVersionStack: a tracked file stacked into a version stack leaves its folder's
// /files listing; refresh finds it with GET file and does not plan it again.
func TestRefreshVersionStack(t *testing.T) {
	e := newEnv(t)
	m, files := e.manifest(t, dailies, shoot)
	st := state.New(state.Target{})
	p := e.plan(t, m, files, st)
	e.deliver(t, p, files, st)
	old := st.Entries["/Day01/B-Cam/B001.mov"]
	other, err := e.c.CreateLocalUpload(t.Context(), e.seed.AccountID, old.ParentID, "B001 v2.mov", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateVersionStack(t.Context(), e.seed.AccountID, old.ParentID, []string{old.FileID, other.ID}); err != nil {
		t.Fatal(err)
	}
	p = e.plan(t, m, files, st)
	if !p.Empty() {
		t.Errorf("plan after stacking: %v; want no changes", actions(p))
	}
}

func TestRefreshAdoptsFolders(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m, files := e.manifest(t, dailies, shoot)
	day, err := e.c.CreateFolder(ctx, e.seed.AccountID, e.seed.RootFolderID, "Day01")
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.c.CreateFolder(ctx, e.seed.AccountID, day.ID, "A-Cam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateFolder(ctx, e.seed.AccountID, day.ID, "A-Cam"); err != nil {
		t.Fatal(err)
	}
	p := e.plan(t, m, files, state.New(state.Target{}))
	want := map[string]string{
		"/":            e.seed.RootFolderID,
		"/Day01":       day.ID,
		"/Day01/A-Cam": first.ID,
		"/Day01/B-Cam": "",
	}
	if diff := cmp.Diff(want, p.Folders); diff != "" {
		t.Errorf("folders (-want +got):\n%s", diff)
	}
	wantWarn := []string{"Frame.io has 2 folders at /Day01/A-Cam; using the oldest (id " + first.ID + ")"}
	if diff := cmp.Diff(wantWarn, p.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	wantTarget := state.Target{AccountID: e.seed.AccountID, WorkspaceID: e.seed.WorkspaceID, ProjectID: e.seed.ProjectID,
		RootFolderID: e.seed.RootFolderID, Project: "Sandbox", Account: "Emulator Account", Workspace: "Sandbox"}
	if diff := cmp.Diff(wantTarget, p.Target); diff != "" {
		t.Errorf("target (-want +got):\n%s", diff)
	}
}

func TestRefreshTarget(t *testing.T) {
	e := newEnv(t)
	other, _ := e.emu.AddProject(e.seed.WorkspaceID, "Other")
	ws2 := e.emu.AddWorkspace("Second")
	e.emu.AddProject(ws2, "Twin")
	e.emu.AddProject(e.seed.WorkspaceID, "Twin")
	seedTarget := state.Target{AccountID: e.seed.AccountID, WorkspaceID: e.seed.WorkspaceID, ProjectID: e.seed.ProjectID,
		RootFolderID: e.seed.RootFolderID, Project: "Sandbox", Account: "Emulator Account", Workspace: "Sandbox"}

	tests := []struct {
		name    string
		target  manifest.Target
		state   state.Target
		wantID  string
		wantErr string
	}{
		{name: "project by name", target: manifest.Target{Project: "Sandbox"}, wantID: e.seed.ProjectID},
		{name: "project by id", target: manifest.Target{Project: other}, wantID: other},
		{name: "workspace and account by id", target: manifest.Target{Account: e.seed.AccountID, Workspace: ws2, Project: "Twin"}},
		{name: "workspace by name", target: manifest.Target{Workspace: "Sandbox", Project: "Twin"}},
		{
			name:    "project in two workspaces",
			target:  manifest.Target{Project: "Twin"},
			wantErr: `resolve target: project "Twin" exists in workspaces`,
		},
		{
			name:    "no such project",
			target:  manifest.Target{Project: "Nope"},
			wantErr: `resolve target: no project "Nope" in workspaces "Sandbox", "Second"`,
		},
		{
			name:    "no such account",
			target:  manifest.Target{Account: "acc-x", Project: "Sandbox"},
			wantErr: `resolve target: account acc-x not found; the token sees "Emulator Account" (id ` + e.seed.AccountID + ")",
		},
		{
			name:    "state made for another project",
			target:  manifest.Target{Project: "Other"},
			state:   seedTarget,
			wantErr: `the manifest now targets project "Other" (id ` + other + `) but the state was made for project "Sandbox" (id ` + e.seed.ProjectID + ")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &manifest.Manifest{Target: tt.target}
			r, err := Refresh(t.Context(), e.c, m, nil, state.New(tt.state))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Refresh error:\n got %v\nwant %s...", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantID != "" && r.Target.ProjectID != tt.wantID {
				t.Errorf("project id = %s, want %s", r.Target.ProjectID, tt.wantID)
			}
			if r.Folders["/"] != r.Target.RootFolderID || r.Target.RootFolderID == "" {
				t.Errorf("root folder = %q, folders %v", r.Target.RootFolderID, r.Folders)
			}
		})
	}
}

// TestStalePlanFile saves a plan, then changes the state or a source, and checks that the
// saved plan is refused when an entry it writes or a source it reads changed, and only then:
// a save that moved the serial for another address leaves it fresh.
func TestStalePlanFile(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m, files := e.manifest(t, dailies, shoot)
	backend := store.NewFile(filepath.Join(e.dir, "fiosync.state.json"))
	st := state.New(state.Target{})
	p := e.plan(t, m, files[:1], st)
	e.deliver(t, p, files[:1], st)
	if err := backend.Save(ctx, st); err != nil {
		t.Fatal(err)
	}

	planFile := filepath.Join(e.dir, "tfplan")
	p = e.plan(t, m, files, st)
	if err := WriteFile(planFile, p); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T) error {
		t.Helper()
		saved, err := ReadFile(planFile)
		if err != nil {
			t.Fatal(err)
		}
		st, err := backend.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, files := e.manifest(t, dailies, nil)
		return CheckStale(saved, st, files)
	}
	t.Run("fresh", func(t *testing.T) {
		if err := check(t); err != nil {
			t.Fatalf("CheckStale of a fresh plan: %v", err)
		}
	})
	save := func(t *testing.T, edit func(entries map[string]*state.Entry)) {
		t.Helper()
		edit(st.Entries)
		if err := backend.Save(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("state serial moved, for an entry the plan does not write", func(t *testing.T) {
		save(t, func(entries map[string]*state.Entry) { entries[files[0].Address].VerifiedAt = t0 })
		if err := check(t); err != nil {
			t.Fatalf("CheckStale after a save that changed no address of the plan: %v", err)
		}
	})
	t.Run("an entry the plan writes appeared", func(t *testing.T) {
		save(t, func(entries map[string]*state.Entry) { entries[files[1].Address] = entries[files[0].Address].Clone() })
		err := check(t)
		want := "plan is stale: " + files[1].Address + " changed in the state since the plan was made (a file is recorded there now); run fiosync plan again"
		if err == nil || err.Error() != want || !errors.Is(err, ErrStale) {
			t.Fatalf("CheckStale error:\n got %v\nwant %s", err, want)
		}
		save(t, func(entries map[string]*state.Entry) { delete(entries, files[1].Address) })
		if err := check(t); err != nil {
			t.Fatalf("CheckStale once the entry is gone again: %v", err)
		}
	})
	t.Run("local file changed", func(t *testing.T) {
		path := filepath.Join(e.dir, "shoot", "B-Cam", "B001.mov")
		if err := os.WriteFile(path, []byte("b001, rewritten"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := check(t)
		want := "plan is stale: /Day01/B-Cam/B001.mov changed since the plan was made (size 4 -> 15); run fiosync plan again"
		if err == nil || err.Error() != want {
			t.Fatalf("CheckStale error:\n got %v\nwant %s", err, want)
		}
	})
}

// TestRefreshUnderRateLimits refreshes a delivered tree with the documented rate limits on:
// the client's pacing keeps every call under them.
func TestRefreshUnderRateLimits(t *testing.T) {
	e := newEnvLimited(t, true)
	m, files := e.manifest(t, dailies, shoot)
	st := state.New(state.Target{})
	p := e.plan(t, m, files, st)
	e.deliver(t, p, files, st)
	p = e.plan(t, m, files, st)
	if !p.Empty() {
		t.Errorf("plan after delivery: %v; want no changes", actions(p))
	}
	for route, byStatus := range e.emu.Stats().Requests {
		if n := byStatus["429"]; n > 0 {
			t.Errorf("%s answered 429 %d times", route, n)
		}
	}
}

// withHash returns src with the hash sum, as apply records it after the upload.
func withHash(src source.Identity, sum source.Digest) source.Identity {
	src.Hash = sum
	return src
}
