package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state"
)

// TestBuildReplace: --replace turns an unchanged delivered address into an update that follows
// on_change, leaves a new address a create and everything else as it was, and never reaches
// outside the selection.
func TestBuildReplace(t *testing.T) {
	a := local("/A/a.mov", 4, t0)
	b := local("/A/b.mov", 4, t0)
	n := local("/A/new.mov", 4, t0)
	a.OnChange = manifest.OnChangeKeep
	st := newState(map[string]*state.Entry{
		a.Address: entry(localSource(a, "aaaa"), "f-a"),
		b.Address: entry(localSource(b, "bbbb"), "f-b"),
	})
	files := []manifest.Desired{withSource(a, localSource(a, "aaaa")), withSource(b, localSource(b, "bbbb")), n}

	p, err := Build(Inputs{Files: files, State: st, Select: Selection{Replaces: []string{"/A/*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 3 {
		t.Fatalf("changes = %+v, want 3", p.Changes)
	}
	for i, want := range []struct {
		action   Action
		reason   string
		onChange manifest.OnChange
	}{{Update, ReasonReplace, manifest.OnChangeKeep}, {Update, ReasonReplace, manifest.OnChangeVersion}, {Create, ReasonNew, ""}} {
		c := p.Changes[i]
		if c.Action != want.action || c.Reason != want.reason || c.OnChange != want.onChange {
			t.Errorf("%s: %s %q (%s), want %s %q (%s)", c.Address, c.Action, c.Reason, c.OnChange, want.action, want.reason, want.onChange)
		}
	}
	if p.Changes[0].Prior == nil || p.Changes[0].Prior.FileID != "f-a" {
		t.Errorf("the replace does not carry its prior entry: %+v", p.Changes[0].Prior)
	}

	// Targeting wins: a replace pattern does not widen the selection.
	p, err = Build(Inputs{Files: files, State: st, Select: Selection{Targets: []string{"/A/b.mov"}, Replaces: []string{"/A"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Address != b.Address || p.Changes[0].Reason != ReasonReplace {
		t.Errorf("targeted replace: changes = %+v, want only the replace of %s", p.Changes, b.Address)
	}
	if len(p.Excluded) != 2 {
		t.Errorf("targeted replace: excluded = %v, want 2", p.Excluded)
	}

	// A saved plan made with --replace is checked only against a fresh plan with the same.
	saved, _ := Build(Inputs{Files: files, State: st, Select: Selection{Replaces: []string{"/A/a.mov"}}})
	fresh, _ := Build(Inputs{Files: files, State: st})
	if err := Verify(saved, fresh); err == nil {
		t.Error("Verify accepted a plan with replaces against one without")
	}
}

// TestBuildPolicyNeverPrunes: a tracked address that a policy exclude (top-level or default)
// now leaves out is reported and not deleted, prune or not; one that the manifest simply no
// longer lists is pruned. A saved plan keeps the report.
func TestBuildPolicyNeverPrunes(t *testing.T) {
	keep := local("/A/a.mov", 4, t0)
	ds := local("/A/.DS_Store", 4, t0)
	cached := local("/A/cache/c.bin", 4, t0)
	gone := local("/A/gone.mov", 4, t0)
	st := newState(map[string]*state.Entry{
		keep.Address:   entry(localSource(keep, "aaaa"), "f-a"),
		ds.Address:     entry(localSource(ds, "dddd"), "f-d"),
		cached.Address: entry(localSource(cached, "cccc"), "f-c"),
		gone.Address:   entry(localSource(gone, "gggg"), "f-g"),
	})
	hits := []manifest.PolicyHit{
		{Address: "/A/.DS_Store", Pattern: ".DS_Store", Default: true},
		{Address: "/A/cache", Dir: true, Pattern: "cache"},
	}
	p, err := Build(Inputs{Files: []manifest.Desired{withSource(keep, localSource(keep, "aaaa"))}, State: st, Prune: true, Policy: hits})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Delete || p.Changes[0].Address != gone.Address {
		t.Errorf("changes = %+v, want only the delete of %s", p.Changes, gone.Address)
	}
	want := []PolicyExclusion{{Address: "/A/.DS_Store", Pattern: ".DS_Store", Default: true}, {Address: "/A/cache/c.bin", Pattern: "cache"}}
	if diff := cmp.Diff(want, p.PolicyExcluded); diff != "" {
		t.Errorf("PolicyExcluded (-want +got):\n%s", diff)
	}
	data, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back.PolicyExcluded); diff != "" {
		t.Errorf("PolicyExcluded after a plan file round trip (-want +got):\n%s", diff)
	}
}

// TestBuildStableFor, on a fake clock: a file changed within its entry's stable_for waits
// (neither uploaded nor pruned), by its mtime or its ctime, and is planned once it has been
// left alone that long. An unchanged delivered file never waits.
func TestBuildStableFor(t *testing.T) {
	fresh := local("/A/render.mov", 10, t0)
	fresh.StableFor = time.Minute
	byCtime := local("/A/copied.mov", 10, t0.Add(-time.Hour))
	byCtime.StableFor = time.Minute
	byCtime.Source.Ctime = t0.Add(-5 * time.Second) // copied with its old mtime kept
	done := local("/A/done.mov", 10, t0)
	done.StableFor = time.Minute
	grown := local("/A/grown.mov", 20, t0.Add(-3*time.Second))
	grown.StableFor = time.Minute
	st := newState(map[string]*state.Entry{
		done.Address:  entry(localSource(done, "dddd"), "f-d"),
		grown.Address: entry(localSource(local("/A/grown.mov", 10, t0.Add(-time.Hour)), "gggg"), "f-g"),
	})
	files := []manifest.Desired{byCtime, withSource(done, localSource(done, "dddd")), withSource(grown, localSource(grown, "gggggggg")), fresh}

	p, err := Build(Inputs{Files: files, State: st, Prune: true, Now: t0.Add(12 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || p.Unchanged != 1 {
		t.Errorf("changes %+v, %d unchanged; want none, 1 unchanged", p.Changes, p.Unchanged)
	}
	want := []Waiting{
		{Address: byCtime.Address, Changed: byCtime.Source.Ctime, Age: 17 * time.Second, StableFor: time.Minute},
		{Address: grown.Address, Changed: grown.Source.ModTime, Age: 15 * time.Second, StableFor: time.Minute},
		{Address: fresh.Address, Changed: t0, Age: 12 * time.Second, StableFor: time.Minute},
	}
	if diff := cmp.Diff(want, p.Waiting); diff != "" {
		t.Errorf("Waiting (-want +got):\n%s", diff)
	}
	var text strings.Builder
	if err := WriteText(&text, p, Style{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "  /A/render.mov  waiting: modified 12 s ago (stable_for 1m0s)\n") {
		t.Errorf("plan text does not say the file waits:\n%s", text.String())
	}

	// A minute after the last change, each is planned.
	p, err = Build(Inputs{Files: files, State: st, Prune: true, Now: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Waiting) != 0 || len(p.Changes) != 3 || p.Changes[1].Action != Update {
		t.Errorf("a minute later: waiting %+v, changes %+v; want 3 changes, grown.mov an update", p.Waiting, p.Changes)
	}

	if _, err := Build(Inputs{Files: files}); err == nil || !strings.Contains(err.Error(), "stable_for needs the time") {
		t.Errorf("Build without Now: %v, want an error", err)
	}
}

// TestBuildOnChangeError: on_change: error refuses an update of a delivered file, and the
// upload again of one gone from Frame.io when its content is not the one delivered; the same
// content may go again, and --replace wins (as a version).
func TestBuildOnChangeError(t *testing.T) {
	a := local("/A/a.mov", 4, t0)
	a.OnChange = manifest.OnChangeError
	a.Pos = manifest.Pos{Line: 7, Column: 5}
	a.Upload = 1
	st := newState(map[string]*state.Entry{a.Address: entry(localSource(a, "aaaa"), "f-a")})
	changed := withSource(a, localSource(a, "bbbb"))
	same := withSource(a, localSource(a, "aaaa"))
	present := &Snapshot{Target: testTarget, Files: map[string]RemoteFile{"f-a": {ID: "f-a", Status: "uploaded"}}}
	gone := &Snapshot{Target: testTarget, Files: map[string]RemoteFile{}}

	for _, tt := range []struct {
		name   string
		d      manifest.Desired
		remote *Snapshot
		sel    Selection
		refuse string // "" for no refusal
		want   Action
	}{
		{"changed", changed, present, Selection{}, "fiosync.yaml:7:5: uploads[1]: /A/a.mov: content changed since it was delivered", ""},
		{"changed and gone", changed, gone, Selection{}, "fiosync.yaml:7:5: uploads[1]: /A/a.mov: content changed since it was delivered, and that file is gone from Frame.io", ""},
		{"same content, gone", same, gone, Selection{}, "", Create},
		{"unchanged", same, present, Selection{}, "", ""},
		{"changed, replaced", changed, present, Selection{Replaces: []string{"/A"}}, "", Update},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(Inputs{Manifest: "fiosync.yaml", Files: []manifest.Desired{tt.d}, State: st, Remote: tt.remote, Select: tt.sel})
			if tt.refuse != "" {
				var re *RefusedError
				if !errors.As(err, &re) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "\n  "+tt.refuse) {
					t.Fatalf("Build: %v, want a refusal %q", err, tt.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(p.Changes) != 0 {
					t.Errorf("changes %+v, want none", p.Changes)
				}
				return
			}
			if len(p.Changes) != 1 || p.Changes[0].Action != tt.want {
				t.Fatalf("changes %+v, want one %s", p.Changes, tt.want)
			}
			if c := p.Changes[0]; c.Action == Update && c.OnChange != manifest.OnChangeVersion {
				t.Errorf("a replace under on_change: error follows %q, want version", c.OnChange)
			}
		})
	}
}
