package apply_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/plan"
)

// TestReplaceStacksVersion: --replace uploads an unchanged delivered file again, and with
// on_change: version the fresh copy is stacked on the old one, which stays as a version. The
// other files are not touched, and the next plan without --replace has nothing to do.
func TestReplaceStacksVersion(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("A001.mov", 200<<10, 1)
	h.writeFile("A002.mov", 100<<10, 2)
	files := h.desired(spec{local: "A001.mov", to: "/Day1"}, spec{local: "A002.mov", to: "/Day1"})
	ctx := context.Background()
	if _, err := h.apply(ctx, h.plan(files, false), files, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	before := h.loadState()
	created := h.emu.Stats().FilesCreated

	sel := plan.Selection{Replaces: []string{"/Day1/A001.*"}}
	p := h.planWith(files, func(in *plan.Inputs) { in.Select = sel })
	if len(p.Changes) != 1 {
		t.Fatalf("plan with --replace has %d changes, want 1: %+v", len(p.Changes), p.Changes)
	}
	if c := p.Changes[0]; c.Address != "/Day1/A001.mov" || c.Action != plan.Update || c.Reason != plan.ReasonReplace || c.OnChange != "version" {
		t.Fatalf("change = %s %s %q (%s), want update /Day1/A001.mov %q (version)", c.Action, c.Address, c.Reason, c.OnChange, plan.ReasonReplace)
	}
	res, err := h.apply(ctx, p, files, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Note != "version stacked" || res.Bytes != 200<<10 {
		t.Errorf("result note %q, %d bytes sent; want \"version stacked\", %d", res.Files[0].Note, res.Bytes, 200<<10)
	}
	if got := h.emu.Stats().FilesCreated - created; got != 1 {
		t.Errorf("the emulator saw %d files created, want 1", got)
	}

	after := h.loadState()
	old, e := before.Entries["/Day1/A001.mov"], after.Entries["/Day1/A001.mov"]
	if e.FileID == old.FileID || e.VersionStackID == "" || !slices.Equal(e.Previous, []string{old.FileID}) {
		t.Fatalf("entry after replace: file %s (was %s), stack %q, previous %v; want a new file stacked on the old", e.FileID, old.FileID, e.VersionStackID, e.Previous)
	}
	// The version stack holds both versions: the old file and the fresh copy.
	for _, id := range []string{old.FileID, e.FileID} {
		info, ok := h.emu.FileInfo(id)
		if !ok || info.ParentID != e.VersionStackID || info.Status != "uploaded" {
			t.Errorf("file %s: parent %q, status %q; want uploaded in stack %s", id, info.ParentID, info.Status, e.VersionStackID)
		}
	}
	if o, n := before.Entries["/Day1/A002.mov"], after.Entries["/Day1/A002.mov"]; n.FileID != o.FileID || n.VersionStackID != "" || !n.UploadedAt.Equal(o.UploadedAt) {
		t.Errorf("the file not replaced changed: %+v, was %+v", n, o)
	}
	h.verify(files, nil)
	if again := h.plan(files, false); len(again.Changes) != 0 {
		t.Errorf("plan after the replace has changes: %+v", again.Changes)
	}
}
