package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// listed is a file in Frame.io as Refresh reports it, created n seconds after t0.
func listed(id, name string, size int64, status string, n int) RemoteFile {
	return RemoteFile{ID: id, Name: name, ParentID: "folder-a", Size: size, Status: status, CreatedAt: t0.Add(time.Duration(n) * time.Second)}
}

func TestBuildAdopt(t *testing.T) {
	a := local("/A/a.mov", 10, t0)
	b := local("/A/b.mov", 20, t0)
	r := remote("/A/reel.mp4", "https://cdn.example.com/reel.mp4?sig=1")

	one := listed("f-1", "a.mov", 10, "uploaded", 1)
	older := listed("f-0", "a.mov", 10, "transcoded", 0)
	newer := listed("f-2", "a.mov", 10, "uploaded", 2)
	otherSize := listed("f-9", "a.mov", 11, "uploaded", 1)
	partial := listed("f-p", "a.mov", 10, "created", 1)
	reel := listed("f-r", "reel.mp4", 999, "uploaded", 1)
	tracked := entry(localSource(b, "bbbb"), "f-1")

	adoptOf := func(d manifest.Desired, f RemoteFile) Change {
		c := Change{Address: d.Address, Action: Adopt, Kind: source.Local, Folder: d.Folder, Name: d.Name, Reason: ReasonAdopt, Existing: &f}
		if d.Source.Kind == source.Remote {
			c.Kind, c.Source = source.Remote, source.OfURL(d.URL)
		} else {
			c.Size, c.Source = d.Source.Size, d.Source
		}
		return c
	}
	conflictOf := func(d manifest.Desired, f RemoteFile) Change {
		return Change{Address: d.Address, Action: Create, Kind: source.Local, Folder: d.Folder, Name: d.Name, Size: d.Source.Size,
			Reason: ReasonConflict, Source: d.Source, Conflict: &f}
	}
	createOf := func(d manifest.Desired) Change {
		return Change{Address: d.Address, Action: Create, Kind: source.Local, Folder: d.Folder, Name: d.Name, Size: d.Source.Size, Reason: ReasonNew, Source: d.Source}
	}

	tests := []struct {
		name     string
		files    []manifest.Desired
		entries  map[string]*state.Entry
		listed   []RemoteFile
		noAdopt  bool
		want     []Change
		warnings []string
		unch     int
	}{
		{
			name:   "one match",
			files:  []manifest.Desired{a},
			listed: []RemoteFile{one, listed("f-x", "other.mov", 10, "uploaded", 0)},
			want:   []Change{adoptOf(a, one)},
		},
		{
			name:     "several matches adopt the oldest",
			files:    []manifest.Desired{a},
			listed:   []RemoteFile{newer, one, older},
			want:     []Change{adoptOf(a, older)},
			warnings: []string{`/A/a.mov: Frame.io has 3 files named "a.mov" that fit in /A; adopting the oldest (id f-0)`},
		},
		{
			name:  "none",
			files: []manifest.Desired{a},
			want:  []Change{createOf(a)},
		},
		{
			name:     "size mismatch is a conflict, with a warning",
			files:    []manifest.Desired{a},
			listed:   []RemoteFile{otherSize},
			want:     []Change{conflictOf(a, otherSize)},
			warnings: []string{`/A/a.mov: not adopted: Frame.io has only 1 file of another size (11 B, not 10 B) named "a.mov" in /A`},
		},
		{
			name:     "size mismatch beside a match",
			files:    []manifest.Desired{a},
			listed:   []RemoteFile{otherSize, newer},
			want:     []Change{adoptOf(a, newer)},
			warnings: []string{},
		},
		{
			name:     "an upload in progress is not adopted but a conflict",
			files:    []manifest.Desired{a},
			listed:   []RemoteFile{partial},
			want:     []Change{conflictOf(a, partial)},
			warnings: []string{`/A/a.mov: not adopted: Frame.io has only 1 file not completely uploaded named "a.mov" in /A`},
		},
		{
			name:     "a file tracked by another address is never adopted",
			files:    []manifest.Desired{a, b},
			entries:  map[string]*state.Entry{b.Address: tracked},
			listed:   []RemoteFile{one},
			want:     []Change{createOf(a)},
			warnings: []string{`/A/a.mov: not adopted: Frame.io has only 1 file tracked for another address named "a.mov" in /A`},
			unch:     1,
		},
		{
			name:  "a file kept as a previous version is never adopted",
			files: []manifest.Desired{a, b},
			entries: map[string]*state.Entry{b.Address: {Source: localSource(b, "bbbb"), FileID: "f-b", ParentID: "folder-a",
				Status: state.StatusComplete, Previous: []string{"f-1"}}},
			listed:   []RemoteFile{one},
			want:     []Change{createOf(a)},
			warnings: []string{`/A/a.mov: not adopted: Frame.io has only 1 file tracked for another address named "a.mov" in /A`},
			unch:     1,
		},
		{
			name:     "remote source by name alone",
			files:    []manifest.Desired{r},
			listed:   []RemoteFile{reel},
			want:     []Change{adoptOf(r, reel)},
			warnings: []string{"/A/reel.mp4: adopting file f-r by its name alone: the content of a remote source cannot be compared"},
		},
		{
			name:    "without --adopt a match is a conflict",
			files:   []manifest.Desired{a},
			listed:  []RemoteFile{one},
			noAdopt: true,
			want:    []Change{conflictOf(a, one)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &Snapshot{
				Target:  testTarget,
				Folders: map[string]string{"/": "root", "/A": "folder-a"},
				Files:   map[string]RemoteFile{"f-b": {ID: "f-b"}},
				Listed:  map[string][]RemoteFile{"/A": tt.listed},
			}
			for _, f := range tt.listed {
				snap.Files[f.ID] = f
			}
			p, err := Build(Inputs{Files: tt.files, State: newState(tt.entries), Remote: snap, Adopt: !tt.noAdopt})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, p.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(append([]string{}, tt.warnings...), p.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if p.Unchanged != tt.unch {
				t.Errorf("Unchanged = %d, want %d", p.Unchanged, tt.unch)
			}
			if diff := cmp.Diff(map[string]string{"/": "root", "/A": "folder-a"}, p.Folders); diff != "" {
				t.Errorf("folders (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildAdoptNeedsRefresh(t *testing.T) {
	_, err := Build(Inputs{Files: []manifest.Desired{local("/A/a.mov", 1, t0)}, Adopt: true})
	if err == nil {
		t.Fatal("Build with Adopt and no source.Remote succeeded, want an error")
	}
}

func TestAdoptSummary(t *testing.T) {
	a := local("/A/a.mov", 10, t0)
	n := local("/A/new.mov", 5, t0)
	p, err := Build(Inputs{Files: []manifest.Desired{a, n}, State: newState(nil), Adopt: true, Remote: &Snapshot{
		Target: testTarget, Folders: map[string]string{"/": "root", "/A": "folder-a"},
		Listed: map[string][]RemoteFile{"/A": {listed("f-1", "a.mov", 10, "uploaded", 1)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Create: 1, Adopt: 1, Bytes: 5}
	if diff := cmp.Diff(want, p.Summary()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if p.Empty() {
		t.Error("a plan with an adopt is Empty; apply must still record it")
	}
}

// TestPlanFileAdopt proves a plan file carries adopt changes, that a decoded plan is the
// same, and that CheckStale notices the adopted source changing.
func TestPlanFileAdopt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.mov")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	d := manifest.Desired{Address: "/A/a.mov", Folder: "/A", Name: "a.mov", Source: source.OfFile("a.mov", fi), Path: path}
	p, err := Build(Inputs{Files: []manifest.Desired{d}, Adopt: true, Remote: &Snapshot{
		Target: testTarget, Folders: map[string]string{"/": "root", "/A": "folder-a"},
		Listed: map[string][]RemoteFile{"/A": {listed("f-1", "a.mov", 10, "uploaded", 1)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Adopt {
		t.Fatalf("changes = %+v, want one adopt", p.Changes)
	}
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("decoded plan (-want +got):\n%s", diff)
	}
	if err := CheckStale(back, nil, []manifest.Desired{d}); err != nil {
		t.Errorf("CheckStale of a fresh plan: %v", err)
	}

	if err := os.WriteFile(path, []byte("01234567890"), 0o644); err != nil {
		t.Fatal(err)
	}
	grown, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Source = source.OfFile("a.mov", grown)
	if err := CheckStale(back, nil, []manifest.Desired{d}); !errors.Is(err, ErrStale) {
		t.Errorf("CheckStale after the source grew = %v, want ErrStale", err)
	}
	if err := CheckStale(back, nil, nil); !errors.Is(err, ErrStale) {
		t.Errorf("CheckStale after the address left the manifest = %v, want ErrStale", err)
	}
}

func TestDecodeRejectsBadAdopt(t *testing.T) {
	good := fileChange{Address: "/a.mov", Action: Adopt, Kind: source.Local, Folder: "/", Name: "a.mov", Existing: &RemoteFile{ID: "f"}}
	tests := []struct {
		name   string
		change func(*fileChange)
	}{
		{"no existing file", func(fc *fileChange) { fc.Existing = nil }},
		{"existing without id", func(fc *fileChange) { fc.Existing = &RemoteFile{} }},
		{"adopt with a prior entry", func(fc *fileChange) { fc.Prior = &state.Entry{FileID: "old"} }},
		{"create with an existing file", func(fc *fileChange) { fc.Action = Create }},
	}
	if err := validChange(good); err != nil {
		t.Fatalf("validChange(good) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := good
			tt.change(&fc)
			if err := validChange(fc); err == nil {
				t.Error("validChange accepted it")
			}
		})
	}
}

// TestRefreshListsForAdoption checks that only a refresh for adoption lists the folders of
// untracked addresses, and that Listed holds them oldest first.
func TestRefreshListsForAdoption(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const yaml = "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: shoot\n    to: /Day1\n"
	m, files := e.manifest(t, yaml, map[string]string{"shoot/a.mov": "aaaa"})
	day, err := e.c.CreateFolder(ctx, e.seed.AccountID, e.seed.RootFolderID, "Day1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		f, err := e.c.CreateLocalUpload(ctx, e.seed.AccountID, day.ID, "a.mov", 4)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}

	snap, err := Refresh(ctx, e.c, m, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range snap.Listed["/Day1"] {
		got = append(got, f.ID)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("Listed[/Day1] ids, oldest first (-want +got):\n%s", diff)
	}
}
