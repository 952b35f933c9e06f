package plan

import (
	"bytes"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// fileInfo is a hand-made fs.FileInfo for pure tests; Sys is nil, so inode and ctime are
// zero on both sides of every comparison.
type fileInfo struct {
	name  string
	size  int64
	mtime time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return 0o644 }
func (f fileInfo) ModTime() time.Time { return f.mtime }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func digest(s string) source.Digest {
	d, _, _ := source.HashReader(strings.NewReader(s))
	return d
}

// local returns the desired local file at addr with size bytes, modified at mtime.
func local(addr string, size int64, mtime time.Time) manifest.Desired {
	folder, name := splitAddress(addr)
	return manifest.Desired{
		Address:  addr,
		Folder:   folder,
		Name:     name,
		Source:   source.OfFile("src"+addr, fileInfo{name: name, size: size, mtime: mtime}),
		Path:     "/src" + addr,
		OnChange: manifest.OnChangeVersion,
	}
}

func remote(addr, url string) manifest.Desired {
	folder, name := splitAddress(addr)
	return manifest.Desired{Address: addr, Folder: folder, Name: name, Source: source.OfURL(url), URL: url, OnChange: manifest.OnChangeVersion}
}

// localSource is the source Identify reports for d with content.
func localSource(d manifest.Desired, content string) source.Identity {
	src := d.Source
	src.Hash = digest(content)
	return src
}

// withSource returns d with the identity src, as Identify leaves it.
func withSource(d manifest.Desired, src source.Identity) manifest.Desired {
	d.Source = src
	return d
}

// entry is a complete state entry for a source.
func entry(src source.Identity, fileID string) *state.Entry {
	return &state.Entry{Source: src, FileID: fileID, ParentID: "folder-" + fileID, Status: state.StatusComplete}
}

var testTarget = state.Target{AccountID: "acc", WorkspaceID: "ws", ProjectID: "proj", RootFolderID: "root", Project: "Dailies", Account: "Acme Post", Workspace: "Post"}

func newState(entries map[string]*state.Entry) *state.State {
	return &state.State{
		Version: state.FormatVersion, Serial: 7, Lineage: "lin", Target: testTarget,
		Folders: map[string]string{"/A": "folder-a"},
		Entries: entries,
	}
}

func TestBuildActions(t *testing.T) {
	a := local("/A/a.mov", 10, t0)
	aGrown := local("/A/a.mov", 12, t0.Add(time.Hour))
	aTouched := local("/A/a.mov", 10, t0.Add(time.Hour))
	r := remote("/R/reel.mp4", "https://cdn.example.com/reel.mp4?sig=1")
	rSigned := remote("/R/reel.mp4", "https://cdn.example.com/reel.mp4?sig=2")

	tracked := entry(localSource(a, "aaaa"), "f-a")
	trackedRemote := entry(source.OfURL(r.URL), "f-r")
	pending := &state.Entry{Source: localSource(a, ""), FileID: "f-a", ParentID: "folder-a", Status: state.StatusPending}

	tests := []struct {
		name    string
		in      Inputs
		want    []Change
		unch    int
		untrack []string
	}{
		{
			name: "new local file",
			in:   Inputs{Files: []manifest.Desired{a}},
			want: []Change{{Address: a.Address, Action: Create, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonNew, Source: a.Source}},
		},
		{
			name: "new remote file",
			in:   Inputs{Files: []manifest.Desired{r}},
			want: []Change{{Address: r.Address, Action: Create, Kind: source.Remote, Folder: "/R", Name: "reel.mp4", Reason: ReasonNew, Source: source.OfURL(r.URL)}},
		},
		{
			name: "unchanged local file",
			in: Inputs{Files: []manifest.Desired{withSource(a, localSource(a, "aaaa"))},
				State: newState(map[string]*state.Entry{a.Address: tracked})},
			unch: 1,
		},
		{
			name: "unchanged local file without Identify: matching stat",
			in:   Inputs{Files: []manifest.Desired{a}, State: newState(map[string]*state.Entry{a.Address: tracked})},
			unch: 1,
		},
		{
			name: "touched local file with the same hash is unchanged",
			in: Inputs{Files: []manifest.Desired{withSource(aTouched, localSource(aTouched, "aaaa"))},
				State: newState(map[string]*state.Entry{a.Address: tracked})},
			unch: 1,
		},
		{
			name: "content changed",
			in: Inputs{Files: []manifest.Desired{withSource(aTouched, localSource(aTouched, "bbbb"))},
				State: newState(map[string]*state.Entry{a.Address: tracked})},
			want: []Change{{Address: a.Address, Action: Update, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonContent,
				OnChange: manifest.OnChangeVersion, Source: localSource(aTouched, "bbbb"), Prior: tracked}},
		},
		{
			name: "size changed needs no hash",
			in: Inputs{Files: []manifest.Desired{withSource(aGrown, aGrown.Source)},
				State: newState(map[string]*state.Entry{a.Address: tracked})},
			want: []Change{{Address: a.Address, Action: Update, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 12, Reason: ReasonContent,
				OnChange: manifest.OnChangeVersion, Source: aGrown.Source, Prior: tracked}},
		},
		{
			name: "stat changed and not hashed is changed",
			in:   Inputs{Files: []manifest.Desired{aTouched}, State: newState(map[string]*state.Entry{a.Address: tracked})},
			want: []Change{{Address: a.Address, Action: Update, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonContent,
				OnChange: manifest.OnChangeVersion, Source: aTouched.Source, Prior: tracked}},
		},
		{
			name: "on_change replace is carried",
			in: Inputs{Files: []manifest.Desired{withOnChange(aGrown, manifest.OnChangeReplace)},
				State: newState(map[string]*state.Entry{a.Address: tracked})},
			want: []Change{{Address: a.Address, Action: Update, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 12, Reason: ReasonContent,
				OnChange: manifest.OnChangeReplace, Source: aGrown.Source, Prior: tracked}},
		},
		{
			name: "pending entry resumes",
			in:   Inputs{Files: []manifest.Desired{a}, State: newState(map[string]*state.Entry{a.Address: pending})},
			want: []Change{{Address: a.Address, Action: Create, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonResume,
				Source: a.Source, Prior: pending}},
		},
		{
			name: "missing in Frame.io after refresh",
			in: Inputs{Files: []manifest.Desired{withSource(a, localSource(a, "aaaa"))},
				State:  newState(map[string]*state.Entry{a.Address: tracked}),
				Remote: &Snapshot{Target: testTarget, Folders: map[string]string{"/": "root", "/A": "folder-a"}, Files: map[string]RemoteFile{}}},
			want: []Change{{Address: a.Address, Action: Create, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonMissing,
				Source: localSource(a, "aaaa"), Prior: tracked}},
		},
		{
			name: "present in Frame.io after refresh",
			in: Inputs{Files: []manifest.Desired{withSource(a, localSource(a, "aaaa"))},
				State:  newState(map[string]*state.Entry{a.Address: tracked}),
				Remote: &Snapshot{Target: testTarget, Files: map[string]RemoteFile{"f-a": {ID: "f-a"}}}},
			unch: 1,
		},
		{
			name: "source URL changed",
			in:   Inputs{Files: []manifest.Desired{rSigned}, State: newState(map[string]*state.Entry{r.Address: trackedRemote})},
			want: []Change{{Address: r.Address, Action: Update, Kind: source.Remote, Folder: "/R", Name: "reel.mp4", Reason: ReasonURL,
				OnChange: manifest.OnChangeVersion, Source: source.OfURL(rSigned.URL), Prior: trackedRemote}},
		},
		{
			name: "same source URL",
			in:   Inputs{Files: []manifest.Desired{r}, State: newState(map[string]*state.Entry{r.Address: trackedRemote})},
			unch: 1,
		},
		{
			name: "no longer in the manifest without prune",
			in:   Inputs{State: newState(map[string]*state.Entry{a.Address: tracked, r.Address: trackedRemote})},
			untrack: []string{
				a.Address, r.Address,
			},
		},
		{
			name: "no longer in the manifest with prune",
			in:   Inputs{Prune: true, State: newState(map[string]*state.Entry{a.Address: tracked, r.Address: trackedRemote})},
			want: []Change{
				{Address: a.Address, Action: Delete, Kind: source.Local, Folder: "/A", Name: "a.mov", Size: 10, Reason: ReasonNotInConfig, Prior: tracked},
				{Address: r.Address, Action: Delete, Kind: source.Remote, Folder: "/R", Name: "reel.mp4", Reason: ReasonNotInConfig, Prior: trackedRemote},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(tt.in)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, p.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if p.Unchanged != tt.unch {
				t.Errorf("Unchanged = %d, want %d", p.Unchanged, tt.unch)
			}
			if diff := cmp.Diff(append([]string{}, tt.untrack...), p.Untracked); diff != "" {
				t.Errorf("untracked (-want +got):\n%s", diff)
			}
		})
	}
}

func withOnChange(d manifest.Desired, oc manifest.OnChange) manifest.Desired {
	d.OnChange = oc
	return d
}

func TestBuildFolders(t *testing.T) {
	files := []manifest.Desired{
		local("/A/B/new.mov", 1, t0),
		local("/A/old.mov", 1, t0),
		local("/top.mov", 1, t0),
	}
	tests := []struct {
		name   string
		remote *Snapshot
		want   map[string]string
	}{
		{
			name: "from the state without refresh",
			want: map[string]string{"/": "root", "/A": "folder-a", "/A/B": ""},
		},
		{
			name:   "from the refresh",
			remote: &Snapshot{Target: testTarget, Folders: map[string]string{"/": "root", "/A": "adopted-a"}},
			want:   map[string]string{"/": "root", "/A": "adopted-a", "/A/B": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(Inputs{Files: files, State: newState(nil), Remote: tt.remote})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Folders); diff != "" {
				t.Errorf("folders (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildMaxDelete(t *testing.T) {
	entries := map[string]*state.Entry{}
	for _, addr := range []string{"/a", "/b", "/c"} {
		entries[addr] = entry(source.Identity{Kind: source.Local, Size: 1}, addr)
	}
	tests := []struct {
		name      string
		maxDelete int
		wantErr   bool
	}{
		{name: "under the limit", maxDelete: 3},
		{name: "over the limit", maxDelete: 2, wantErr: true},
		{name: "default limit", maxDelete: 0},
		{name: "no limit", maxDelete: NoDeleteLimit},
		{name: "no deletes", maxDelete: NoDeletes, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(Inputs{Prune: true, State: newState(entries), MaxDelete: tt.maxDelete})
			if tt.wantErr {
				var le *DeleteLimitError
				if !errors.Is(err, ErrTooManyDeletes) || !errors.As(err, &le) || len(le.Deletes) != 3 || le.Limit != maxDelete(tt.maxDelete) {
					t.Fatalf("Build error = %v, want a DeleteLimitError listing the 3 deletes", err)
				}
				if strings.Contains(err.Error(), "--") {
					t.Errorf("Build error %q names a flag; only cmd does", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Summary().Delete; got != 3 {
				t.Errorf("deletes = %d, want 3", got)
			}
		})
	}
	t.Run("default is 20", func(t *testing.T) {
		many := map[string]*state.Entry{}
		for i := range 21 {
			addr := "/f" + strings.Repeat("x", i)
			many[addr] = entry(source.Identity{Kind: source.Local}, addr)
		}
		_, err := Build(Inputs{Prune: true, State: newState(many)})
		if err == nil || !strings.Contains(err.Error(), "plan would delete 21 files, more than the limit of 20") {
			t.Fatalf("Build error = %v", err)
		}
	})
}

func TestBuildTargetChanged(t *testing.T) {
	tests := []struct {
		name    string
		in      Inputs
		wantErr string
	}{
		{
			name:    "refresh resolved another project",
			in:      Inputs{State: newState(nil), Remote: &Snapshot{Target: state.Target{AccountID: "acc", ProjectID: "other", Project: "Reels"}}},
			wantErr: `the manifest now targets project "Reels" (id other) but the state was made for project "Dailies" (id proj)`,
		},
		{
			name:    "manifest names another project without refresh",
			in:      Inputs{State: newState(nil), Target: manifest.Target{Project: "Reels"}},
			wantErr: `the manifest now targets project "Reels" but the state was made for project "Dailies" (id proj)`,
		},
		{
			name:    "manifest names another account without refresh",
			in:      Inputs{State: newState(nil), Target: manifest.Target{Account: "acc2", Project: "Dailies"}},
			wantErr: "the manifest now targets account acc2 but the state was made for account acc",
		},
		{
			name: "same project by name",
			in:   Inputs{State: newState(nil), Target: manifest.Target{Project: "Dailies"}},
		},
		{
			name: "same project by id",
			in:   Inputs{State: newState(nil), Target: manifest.Target{Project: "proj"}},
		},
		{
			name: "fresh state takes any target",
			in:   Inputs{State: &state.State{}, Remote: &Snapshot{Target: testTarget}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Build error:\n got %s\nwant %s", got, tt.wantErr)
			}
		})
	}
}

// TestBuildDeterministic builds the same plan twice from inputs whose maps hold many keys
// and checks that the encoded plans are byte-identical.
func TestBuildDeterministic(t *testing.T) {
	var files []manifest.Desired
	entries := map[string]*state.Entry{}
	for i := range 200 {
		d := local("/D"+strings.Repeat("d", i%7)+"/f"+strings.Repeat("x", i), int64(i), t0)
		files = append(files, d)
		if i%3 == 0 {
			entries["/gone"+strings.Repeat("g", i)] = entry(source.Identity{Kind: source.Local, Size: 1}, "g")
		}
	}
	slices.SortFunc(files, func(a, b manifest.Desired) int { return strings.Compare(a.Address, b.Address) })
	in := Inputs{Files: files, State: newState(entries), Prune: true, MaxDelete: NoDeleteLimit}
	var first []byte
	for i := range 5 {
		p, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("run %d encoded differently", i)
		}
	}
}

// TestBuildInAnyOrder: Build sorts what it is given, each file with its identity, so their order
// changes nothing, and a desired address repeated anywhere in it is refused.
func TestBuildInAnyOrder(t *testing.T) {
	var files []manifest.Desired
	entries := map[string]*state.Entry{}
	for i := range 60 {
		d := local("/D/f"+strings.Repeat("x", i), int64(i), t0)
		files = append(files, d)
		switch i % 3 {
		case 0: // tracked and unchanged
			d.Source = localSource(d, "same")
			files[len(files)-1] = d
			entries[d.Address] = entry(d.Source, "id")
		case 1: // tracked, but the manifest dropped it
			entries["/gone"+strings.Repeat("g", i)] = entry(source.Identity{Kind: source.Local, Size: 1}, "g")
		}
	}
	encode := func(files []manifest.Desired) string {
		t.Helper()
		p, err := Build(Inputs{Files: files, State: newState(entries), Prune: true, MaxDelete: NoDeleteLimit})
		if err != nil {
			t.Fatal(err)
		}
		data, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	sorted := slices.SortedFunc(slices.Values(files), byAddress)
	want := encode(sorted)
	if !strings.Contains(want, ReasonNotInConfig) || !strings.Contains(want, ReasonNew) {
		t.Fatalf("the plan lacks deletes or creates:\n%s", want)
	}
	reversed := slices.Clone(sorted)
	slices.Reverse(reversed)
	if diff := cmp.Diff(want, encode(reversed)); diff != "" {
		t.Errorf("files in reverse order planned differently (-sorted +reversed):\n%s", diff)
	}

	twice := append(slices.Clone(reversed), sorted[7])
	_, err := Build(Inputs{Files: twice, State: newState(entries)})
	if err == nil || !strings.Contains(err.Error(), "is desired twice") {
		t.Errorf("a repeated address: got error %v, want one saying it is desired twice", err)
	}
}

// TestBuildSkipsEmptyFiles: Frame.io does not accept empty files, so an empty local file is
// no change, tracked or not, and is not pruned either; the plan notes them once.
func TestBuildSkipsEmptyFiles(t *testing.T) {
	full := local("/A/full.mov", 10, t0)
	fresh := local("/A/fresh.txt", 0, t0)
	emptied := local("/A/emptied.mov", 0, t0)
	st := newState(map[string]*state.Entry{
		full.Address:    entry(localSource(full, "0123456789"), "f1"),
		emptied.Address: entry(source.Identity{Kind: source.Local, Path: emptied.Source.Path, Size: 5, Hash: digest("12345")}, "f2"),
	})
	files := []manifest.Desired{emptied, fresh, withSource(full, localSource(full, "0123456789"))}
	p, err := Build(Inputs{Files: files, State: st, Prune: true, Target: manifest.Target{Project: "Dailies"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 {
		t.Errorf("changes = %+v, want none", p.Changes)
	}
	want := []string{"skipped 2 empty files (Frame.io does not accept empty files): /A/emptied.mov, /A/fresh.txt"}
	if diff := cmp.Diff(want, p.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if p.Unchanged != 1 {
		t.Errorf("unchanged = %d, want 1 (the empty files are neither changes nor up to date)", p.Unchanged)
	}
	if got := SkippedEmptyNote([]string{"/a", "/b", "/c", "/d", "/e", "/f", "/g"}); got !=
		"skipped 7 empty files (Frame.io does not accept empty files): /a, /b, /c, /d, /e and 2 more" {
		t.Errorf("note of many = %q", got)
	}
}

// TestDeletedOnDisk tells a file deleted on disk (the manifest still lists it) from an
// address dropped from the manifest, in Plan.Deleted, a delete's reason and the outputs.
func TestDeletedOnDisk(t *testing.T) {
	kept := local("/A/kept.mov", 100, t0)
	entries := map[string]*state.Entry{
		kept.Address:   entry(localSource(kept, "x"), "f-kept"),
		"/A/gone.mov":  entry(source.Identity{Kind: source.Local, Path: "media/A/gone.mov", Size: 1}, "f-gone"),
		"/B/moved.mov": entry(source.Identity{Kind: source.Local, Path: "old/B/moved.mov", Size: 1}, "f-moved"),
	}
	lists := func(rel string) (string, bool) {
		a, ok := strings.CutPrefix(rel, "media")
		return a, ok
	}
	for _, prune := range []bool{false, true} {
		p, err := Build(Inputs{Files: []manifest.Desired{kept}, State: newState(entries), Lists: lists, Prune: prune})
		if err != nil {
			t.Fatal(err)
		}
		var text, js bytes.Buffer
		if err := WriteText(&text, p, Style{}); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, p); err != nil {
			t.Fatal(err)
		}
		if !prune {
			if diff := cmp.Diff([]string{"/A/gone.mov"}, p.Deleted); diff != "" {
				t.Errorf("Deleted (-want +got):\n%s", diff)
			}
			for _, want := range []string{"1 file was deleted on disk, and the manifest still lists it", "1 file is no longer in the manifest", `{"address":"/A/gone.mov","drop":"deleted_on_disk"}`} {
				if !strings.Contains(text.String()+js.String(), want) {
					t.Errorf("output lacks %q:\n%s%s", want, text.String(), js.String())
				}
			}
			continue
		}
		got := map[string]string{}
		for _, c := range p.Changes {
			got[c.Address] = c.Reason
		}
		if diff := cmp.Diff(map[string]string{"/A/gone.mov": ReasonDeletedDisk, "/B/moved.mov": ReasonNotInConfig}, got); diff != "" {
			t.Errorf("delete reasons (-want +got):\n%s", diff)
		}
		for _, want := range []string{"- /A/gone.mov   prune    deleted on disk", `"drop":"deleted_on_disk"`, `"drop":"removed_from_manifest"`, `"file_id":"f-gone"`, `"source":"media/A/gone.mov"`} {
			if !strings.Contains(text.String()+js.String(), want) {
				t.Errorf("output lacks %q:\n%s%s", want, text.String(), js.String())
			}
		}
	}
}
