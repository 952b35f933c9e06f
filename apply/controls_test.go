package apply_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/manifest"
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

// TestStableForHoldsBackAFileBeingAppended: a render still being written (a writer appends
// to it while the plan runs) waits; once the writer is done and stable_for has passed on the
// plan's clock, the whole file is uploaded.
func TestStableForHoldsBackAFileBeingAppended(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("render.mov", 64<<10, 1)
	h.writeFile("done.mov", 10<<10, 2)
	p := filepath.Join(h.dir, "render.mov")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // the renderer
		defer close(stopped)
		chunk := bytes.Repeat([]byte("frame"), 2<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Write(chunk); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	stableFor := func(files []manifest.Desired) []manifest.Desired {
		for i := range files {
			files[i].StableFor = time.Hour
		}
		return files
	}
	// done.mov's entry sets no stable_for: it goes now, while render.mov waits.
	files := append(stableFor(h.desired(spec{local: "render.mov", to: "/R"})), h.desired(spec{local: "done.mov", to: "/R"})...)
	pl := h.planWith(files, func(in *plan.Inputs) { in.Now = time.Now() })
	close(stop)
	<-stopped
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(pl.Waiting) != 1 || pl.Waiting[0].Address != "/R/render.mov" {
		t.Fatalf("waiting = %+v, want the file being written", pl.Waiting)
	}
	if len(pl.Changes) != 1 || pl.Changes[0].Address != "/R/done.mov" {
		t.Fatalf("changes while the render is written = %+v, want only done.mov", pl.Changes)
	}
	res, err := h.apply(context.Background(), pl, files, apply.Options{})
	if err != nil || res.Bytes != 10<<10 || h.emu.Stats().FilesCreated != 1 {
		t.Fatalf("applying the plan: %v, %d bytes sent, want done.mov's %d alone", err, res.Bytes, 10<<10)
	}

	// The writer is done; on the plan's clock, stable_for passes.
	files = append(stableFor(h.desired(spec{local: "render.mov", to: "/R"})), h.desired(spec{local: "done.mov", to: "/R"})...)
	later := time.Now().Add(2 * time.Hour)
	pl = h.planWith(files, func(in *plan.Inputs) { in.Now = later })
	if len(pl.Waiting) != 0 || len(pl.Changes) != 1 || pl.Changes[0].Address != "/R/render.mov" {
		t.Fatalf("two hours after the last write: waiting %+v, changes %+v; want render.mov planned", pl.Waiting, pl.Changes)
	}
	if _, err := h.apply(context.Background(), pl, files, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	h.verify(files, nil)
	if fi, _ := os.Stat(p); fi.Size() <= 64<<10 {
		t.Errorf("the render did not grow (%d bytes): the writer never ran", fi.Size())
	}
}
