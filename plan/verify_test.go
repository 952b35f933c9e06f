package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/source"
)

// TestVerify holds a saved plan to the plan derived now: the same plan passes, and each field
// tampered with in turn (as an attacker who can rewrite the file and its checksum would) is
// refused, naming the first difference.
func TestVerify(t *testing.T) {
	fresh := examplePlan(t)
	if err := Verify(examplePlan(t), fresh); err != nil {
		t.Fatalf("Verify of the plan derived now: %v", err)
	}
	index := func(p *Plan, addr string) int {
		for i, c := range p.Changes {
			if c.Address == addr {
				return i
			}
		}
		t.Fatalf("no change for %s", addr)
		return -1
	}
	const (
		create = "/2026-11-26/A-Cam/A001.mov"
		update = "/2026-11-26/Grades/G01.mov"
		prune  = "/2026-11-20/old.mov"
		reel   = "/Reels/reel_v3.mp4"
	)
	tests := []struct {
		name   string
		tamper func(p *Plan)
		want   string
	}{
		{"manifest", func(p *Plan) { p.Manifest = "day04.yaml" }, "made from manifest"},
		{"target account", func(p *Plan) { p.Target.AccountID = "other" }, "for account other"},
		{"target project", func(p *Plan) { p.Target.ProjectID = "other" }, "for project other"},
		{"target root folder", func(p *Plan) { p.Target.RootFolderID = "elsewhere" }, "root folder elsewhere"},
		{"folder id", func(p *Plan) { p.Folders["/2026-11-26/A-Cam"] = "another-folder" }, `folder /2026-11-26/A-Cam: the plan says id "another-folder"`},
		{"extra folder", func(p *Plan) { p.Folders["/Elsewhere"] = "x" }, "folder /Elsewhere: the manifest needs no such folder now"},
		{"action", func(p *Plan) { p.Changes[index(p, update)].Action = Delete }, "the action now is update"},
		{"kind", func(p *Plan) { p.Changes[index(p, create)].Kind = source.Remote }, "the source is local now"},
		{"size", func(p *Plan) { p.Changes[index(p, create)].Size = 1 }, "size 1, now"},
		{"on_change", func(p *Plan) { p.Changes[index(p, update)].OnChange = "replace" }, `on_change "replace"`},
		{"source path", func(p *Plan) { p.Changes[index(p, create)].Source.Path = "../../etc/passwd" }, `source "../../etc/passwd"`},
		{"source stat", func(p *Plan) { p.Changes[index(p, create)].Source.Inode = 99 }, "stat is not the file's"},
		{"source hash", func(p *Plan) { p.Changes[index(p, update)].Source.Hash = digest("forged") }, "hash is not the file's"},
		{"source URL", func(p *Plan) { p.Changes[index(p, reel)].Source = source.OfURL("https://evil.example/x") }, "source URL is not the manifest's"},
		{"prior of a delete", func(p *Plan) { p.Changes[index(p, prune)].Prior.FileID = "another-delivery" }, "prior entry is not the state's"},
		{"prior of an update", func(p *Plan) { p.Changes[index(p, update)].Prior.FileID = "another-delivery" }, "prior entry is not the state's"},
		{"address of a change", func(p *Plan) {
			c := &p.Changes[index(p, create)]
			c.Address, c.Folder, c.Name = "/2026-11-26/A-Cam/A001 copy.mov", "/2026-11-26/A-Cam", "A001 copy.mov"
		}, "no change there now"},
		{"added delete", func(p *Plan) {
			c := p.Changes[index(p, prune)]
			c.Address, c.Name, c.Folder = "/2026-11-20/NDA.pdf", "NDA.pdf", "/2026-11-20"
			c.Prior = c.Prior.Clone()
			c.Prior.FileID = "another-delivery"
			p.Changes = append(p.Changes, c)
		}, "delete /2026-11-20/NDA.pdf: the manifest and the state call for no change there now"},
		{"adopt", func(p *Plan) {
			c := &p.Changes[index(p, create)]
			c.Action, c.Existing = Adopt, &RemoteFile{ID: "someone-elses"}
		}, "the action now is create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := examplePlan(t)
			tt.tamper(saved)
			// Sorted again, as a tampered file must be to decode.
			sortChanges(saved)
			err := Verify(saved, fresh)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want ErrMismatch naming %q", err, tt.want)
			}
		})
	}
}

// TestVerifyFewerChanges: a saved plan may do less than the plan derived now (a file that
// changed in Frame.io since is left for the next plan), never more.
func TestVerifyFewerChanges(t *testing.T) {
	saved := examplePlan(t)
	saved.Changes = saved.Changes[:1]
	if err := Verify(saved, examplePlan(t)); err != nil {
		t.Fatalf("Verify of a plan with fewer changes: %v", err)
	}
}

func sortChanges(p *Plan) {
	slices.SortFunc(p.Changes, func(a, b Change) int { return strings.Compare(a.Address, b.Address) })
}

// TestVerifySelection holds a saved plan to the targeting it was made with: checked against a
// plan derived with another, or holding a change outside its own, it is refused.
func TestVerifySelection(t *testing.T) {
	saved := examplePlan(t)
	saved.Select = Selection{Targets: []string{"/"}}
	fresh := examplePlan(t)
	fresh.Select = saved.Select
	if err := Verify(saved, fresh); err != nil {
		t.Fatalf("Verify with the same selection: %v", err)
	}
	fresh.Select = Selection{}
	if err := Verify(saved, fresh); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify with another selection = %v, want ErrMismatch", err)
	}
	saved.Select = Selection{Excludes: []string{saved.Changes[0].Address}}
	fresh.Select = saved.Select
	if err := Verify(saved, fresh); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify of a change outside its selection = %v, want ErrMismatch", err)
	}
}

func TestSelectionIncludes(t *testing.T) {
	for _, tc := range []struct {
		sel  Selection
		addr string
		want bool
	}{
		{Selection{}, "/a/b.mov", true},
		{Selection{Targets: []string{"/a"}}, "/a/b.mov", true},
		{Selection{Targets: []string{"/a/*.mov"}}, "/a/b.mov", true},
		{Selection{Targets: []string{"/a/*.mov"}}, "/a/b.wav", false},
		{Selection{Targets: []string{"/b"}}, "/a/b.mov", false},
		{Selection{Targets: []string{"/a"}, Excludes: []string{"/a/b.*"}}, "/a/b.mov", false},
		{Selection{Excludes: []string{"/*/b.mov"}}, "/a/b.mov", false},
	} {
		if got := tc.sel.Includes(tc.addr); got != tc.want {
			t.Errorf("%+v.Includes(%q) = %v, want %v", tc.sel, tc.addr, got, tc.want)
		}
	}
}
