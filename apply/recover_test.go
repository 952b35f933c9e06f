package apply_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// restart stops h's emulator and starts another on the same data directory, first putting
// back the copy of that directory in restore when it is set (an emulator restored from an
// older backup: whatever was made since is gone).
func (h *harness) restart(opts emulator.Options, restore string) {
	h.t.Helper()
	h.env.Close()
	if restore != "" {
		if err := os.RemoveAll(opts.DataDir); err != nil {
			h.t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", restore, opts.DataDir).CombinedOutput(); err != nil {
			h.t.Fatalf("restore the emulator's data: %v\n%s", err, out)
		}
	}
	e := emutest.Start(h.t, opts, testRetry)
	h.env, h.emu, h.client, h.seed = e, e.Emu, e.Client, e.Seed
}

// TestInterruptedCreateInVanishedFolder: a create interrupted before its answer was recorded,
// whose folder is gone since (here: the emulator restored from older data), is redone in a
// new folder instead of failing on every apply (issue 15, case 2).
func TestInterruptedCreateInVanishedFolder(t *testing.T) {
	opts := testEmulatorOptions()
	opts.DataDir = filepath.Join(t.TempDir(), "emu")
	h := newHarness(t, opts)
	older := filepath.Join(t.TempDir(), "older")
	h.restart(opts, "")
	if out, err := exec.Command("cp", "-a", opts.DataDir, older).CombinedOutput(); err != nil {
		t.Fatalf("copy the emulator's data: %v\n%s", err, out)
	}

	h.writeFile("a.mov", 2*64<<10, 1)
	h.writeFile("b.mov", 2*64<<10, 2)
	files := h.desired(spec{local: "a.mov", to: "/Day"}, spec{local: "b.mov", to: "/Day"})
	if _, err := h.apply(context.Background(), h.plan(files[:1], false), files[:1], apply.Options{}); err != nil {
		t.Fatal(err)
	}
	// b.mov's create was journaled, then the process died before its answer was saved.
	st := h.loadState()
	day := st.Entries["/Day/a.mov"].ParentID
	w := newWriter(h, st)
	if err := w.Update(context.Background(), func(*state.State) state.Change {
		return state.PutEntry("/Day/b.mov", &state.Entry{Source: files[1].Source, ParentID: day, Status: state.StatusPending, CreatedAt: time.Now().UTC()})
	}); err != nil {
		t.Fatal(err)
	}

	h.restart(opts, older) // /Day and a.mov are gone
	for round := range 2 {
		p := h.plan(files, false)
		if round == 1 {
			if len(p.Changes) != 0 {
				t.Fatalf("plan after the recovery has changes: %+v", p.Changes)
			}
			break
		}
		if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
			t.Fatalf("apply after the folder vanished: %v", err)
		}
	}
	h.verify(files, nil)
	if got := h.live(); got != 2 {
		t.Errorf("files in Frame.io = %d, want 2", got)
	}
}

// TestDroppedInterruptedUploadIsCleanedUp: an address dropped from the manifest while its
// upload was interrupted leaves a half-uploaded placeholder; the next plan says so and the
// next apply deletes it, even without prune (issue 15, case 3).
func TestDroppedInterruptedUploadIsCleanedUp(t *testing.T) {
	for _, lostAnswer := range []bool{false, true} {
		name := "placeholder recorded"
		if lostAnswer {
			name = "create answer lost"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			h.writeFile("a.mov", 2*64<<10, 1)
			h.writeFile("b.mov", 3*64<<10, 2)
			both := h.desired(spec{local: "a.mov", to: "/"}, spec{local: "b.mov", to: "/"})
			ctx := context.Background()
			if _, err := h.apply(ctx, h.plan(both[:1], false), both[:1], apply.Options{}); err != nil {
				t.Fatal(err)
			}
			// b.mov's upload started and was interrupted: a placeholder with one part.
			rf, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, h.seed.RootFolderID, "b.mov", both[1].Source.Size)
			if err != nil {
				t.Fatal(err)
			}
			e := &state.Entry{Source: both[1].Source, FileID: rf.ID, ParentID: h.seed.RootFolderID, Status: state.StatusPending,
				CreatedAt: time.Now().Add(-time.Second).UTC()}
			if lostAnswer {
				e.FileID = ""
			}
			st := h.loadState()
			if err := newWriter(h, st).Update(ctx, func(*state.State) state.Change { return state.PutEntry("/b.mov", e) }); err != nil {
				t.Fatal(err)
			}

			// The manifest drops b.mov; prune is off.
			p := h.plan(both[:1], false)
			if len(p.Changes) != 1 || p.Changes[0].Action != plan.Delete || p.Changes[0].Reason != plan.ReasonAbandoned || len(p.Untracked) != 0 {
				t.Fatalf("plan = %+v (untracked %v), want the placeholder's cleanup", p.Changes, p.Untracked)
			}
			if _, err := h.apply(ctx, p, both[:1], apply.Options{}); err != nil {
				t.Fatal(err)
			}
			if h.exists(rf.ID) {
				t.Error("the placeholder is still in Frame.io")
			}
			if _, ok := h.loadState().Entries["/b.mov"]; ok {
				t.Error("the state still tracks /b.mov")
			}
			if again := h.plan(both[:1], false); len(again.Changes) != 0 || len(again.Untracked) != 0 {
				t.Errorf("plan after the cleanup: %+v (untracked %v), want nothing", again.Changes, again.Untracked)
			}
		})
	}
}

// newWriter returns a writer of h's state file holding st, for tests that arrange a state.
func newWriter(h *harness, st *state.State) *store.Writer {
	h.t.Helper()
	if st == nil {
		st = state.New(state.Target{AccountID: h.seed.AccountID, ProjectID: h.seed.ProjectID, RootFolderID: h.seed.RootFolderID, Project: h.seed.Project})
	}
	return store.NewWriter(store.NewFile(h.statePath), st)
}

// TestStatCacheHeals: files whose stat moved but whose content did not (touch, cp -al) are
// read again by one plan, which says so, and a no-op apply records their new stat in one
// save, so the next plan reads nothing (issue 15, case 8).
func TestStatCacheHeals(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("a.mov", 2*64<<10, 1)
	h.writeFile("b.mov", 64<<10, 2)
	files := h.desired(spec{local: "a.mov", to: "/"}, spec{local: "b.mov", to: "/"})
	ctx := context.Background()
	if _, err := h.apply(ctx, h.plan(files, false), files, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	for _, d := range files {
		if err := os.Chtimes(d.Path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	files = h.desired(spec{local: "a.mov", to: "/"}, spec{local: "b.mov", to: "/"})
	p := h.plan(files, false)
	if len(p.Changes) != 0 || len(p.Restat) != 2 || p.Summary().Reread != 2 {
		t.Fatalf("plan after touch: %d changes, %d restats; want none and 2", len(p.Changes), len(p.Restat))
	}
	serial := h.loadState().Serial
	res, err := h.apply(ctx, p, files, apply.Options{})
	if err != nil || res.Restated != 2 {
		t.Fatalf("no-op apply: %v, restated %d; want 2", err, res.Restated)
	}
	st := h.loadState()
	if st.Serial != serial+1 {
		t.Errorf("serial %d -> %d, want one save", serial, st.Serial)
	}
	for _, d := range files {
		if e := st.Entries[d.Address]; !e.Source.ModTime.Equal(d.Source.ModTime) {
			t.Errorf("%s: recorded mtime %v, want the new %v", d.Address, e.Source.ModTime, d.Source.ModTime)
		}
	}
	if again := h.plan(files, false); len(again.Changes) != 0 || len(again.Restat) != 0 {
		t.Errorf("plan after the healing: %d changes, %d restats; want none", len(again.Changes), len(again.Restat))
	}
}

// TestStatCacheSizeMtime: on a share that renumbers inodes (here: the file copied over
// itself with its times kept), stat_cache: size_mtime trusts size and mtime and reads
// nothing, where the full rule reads the file again (issue 15, case 8).
func TestStatCacheSizeMtime(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("a.mov", 64<<10, 1)
	files := h.desired(spec{local: "a.mov", to: "/"})
	ctx := context.Background()
	if _, err := h.apply(ctx, h.plan(files, false), files, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	path := files[0].Path
	if out, err := exec.Command("cp", "-p", path, path+".copy").CombinedOutput(); err != nil {
		t.Fatalf("cp -p: %v\n%s", err, out)
	}
	if err := os.Rename(path+".copy", path); err != nil { // a new inode, the same size and mtime
		t.Fatal(err)
	}
	full := h.desired(spec{local: "a.mov", to: "/"})
	if p := h.plan(full, false); len(p.Changes) != 0 || len(p.Restat) != 1 {
		t.Fatalf("full rule: %d changes, %d restats; want the file read again (one restat)", len(p.Changes), len(p.Restat))
	}
	loose := h.desired(spec{local: "a.mov", to: "/"})
	loose[0].StatRule = source.SizeMtime
	if p := h.plan(loose, false); len(p.Changes) != 0 || len(p.Restat) != 0 {
		t.Fatalf("size_mtime rule: %d changes, %d restats; want nothing read", len(p.Changes), len(p.Restat))
	}
}
