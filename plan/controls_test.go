package plan

import (
	"testing"

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
