package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
)

// moveMinSize is the move threshold of these tests: the big files are above it.
const moveMinSize = 100 << 10

// dayBefore delivers a day folder: three big clips, a small text file and a small cut that
// has two versions, all to /Day 01.
func dayBefore(h *harness) []manifest.Desired {
	h.t.Helper()
	h.writeFile("day01/A001.mov", 150<<10, 1)
	h.writeFile("day01/A002.mov", 130<<10, 2)
	h.writeFile("day01/A003.mov", 140<<10, 3)
	h.writeFile("day01/notes.txt", 100, 4)
	h.writeFile("day01/cut.mov", 200, 5)
	specs := func() []manifest.Desired {
		return h.desired(spec{local: "day01/A001.mov", to: "/Day 01"}, spec{local: "day01/A002.mov", to: "/Day 01"},
			spec{local: "day01/A003.mov", to: "/Day 01"}, spec{local: "day01/cut.mov", to: "/Day 01"},
			spec{local: "day01/notes.txt", to: "/Day 01"})
	}
	files := specs()
	if _, err := h.apply(context.Background(), h.plan(files, true), files, apply.Options{}); err != nil {
		h.t.Fatal(err)
	}
	h.writeFile("day01/cut.mov", 210, 6) // a second version of the cut
	files = specs()
	if _, err := h.apply(context.Background(), h.plan(files, true), files, apply.Options{}); err != nil {
		h.t.Fatal(err)
	}
	if e := h.loadState().Entries["/Day 01/cut.mov"]; e.VersionStackID == "" {
		h.t.Fatalf("cut.mov not stacked: %+v", e)
	}
	return files
}

// renameDay renames the local day folder and the manifest's destination with it; A003.mov
// is renamed as well.
func renameDay(h *harness) []manifest.Desired {
	h.t.Helper()
	if err := os.Rename(filepath.Join(h.dir, "day01"), filepath.Join(h.dir, "2026-11-26")); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(h.dir, "2026-11-26/A003.mov"), filepath.Join(h.dir, "2026-11-26/A003_alt.mov")); err != nil {
		h.t.Fatal(err)
	}
	return h.desired(spec{local: "2026-11-26/A001.mov", to: "/2026-11-26"}, spec{local: "2026-11-26/A002.mov", to: "/2026-11-26"},
		spec{local: "2026-11-26/A003_alt.mov", to: "/2026-11-26"}, spec{local: "2026-11-26/cut.mov", to: "/2026-11-26"},
		spec{local: "2026-11-26/notes.txt", to: "/2026-11-26"})
}

// stackParent asks the emulator for a version stack's parent folder.
func (h *harness) stackParent(id string) string {
	h.t.Helper()
	return h.stackParentVia(h.env.URL, id)
}

// stackParentVia is stackParent through the server at url.
func (h *harness) stackParentVia(url, id string) string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", url+"/v4/accounts/"+h.seed.AccountID+"/version_stacks/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+h.seed.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			ParentID string `json:"parent_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("version stack %s: %d %v", id, resp.StatusCode, err)
	}
	return out.Data.ParentID
}

// TestMoveRenamedDay renames a delivered day folder: the big files and the versioned cut
// move in Frame.io with their ids and nothing uploaded, the small file uploads again, and a
// second plan has nothing to do.
func TestMoveRenamedDay(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.moves = plan.MovesFor(true, false, false, moveMinSize)
	before := dayBefore(h)
	old := h.loadState()
	files := renameDay(h)
	p := h.plan(files, true)
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Address)
	}
	want := []string{"move /2026-11-26/A001.mov", "move /2026-11-26/A002.mov", "move /2026-11-26/A003_alt.mov",
		"move /2026-11-26/cut.mov", "create /2026-11-26/notes.txt", "delete /Day 01/notes.txt"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	if !slices.Equal(p.Emptied, []string{"/Day 01"}) {
		t.Errorf("emptied %v, want /Day 01", p.Emptied)
	}
	stats := h.emu.Stats()
	if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	after := h.emu.Stats()
	if d := after.BytesReceived - stats.BytesReceived; d != 100 {
		t.Errorf("bytes uploaded by the rename: %d, want 100 (notes.txt only)", d)
	}
	if d := after.FilesCreated - stats.FilesCreated; d != 1 {
		t.Errorf("files created by the rename: %d, want 1", d)
	}
	if n := after.Requests["PATCH /v4/accounts/{a}/files/move"]["200"]; n != 1 {
		t.Errorf("bulk moves: %d, want 1 for the three clips", n)
	}
	h.verify(files, nil)
	st := h.loadState()
	newFolder := st.Folders["/2026-11-26"]
	for i, d := range files {
		e, was := st.Entries[d.Address], old.Entries[before[i].Address]
		if d.Name == "notes.txt" {
			continue
		}
		if e.FileID != was.FileID || e.Followup != nil {
			t.Errorf("%s: file %s (followup %v), want the id %s kept", d.Address, e.FileID, e.Followup, was.FileID)
		}
		info, _ := h.emu.FileInfo(e.FileID)
		if info.Name != d.Name {
			t.Errorf("%s: named %q in Frame.io", d.Address, info.Name)
		}
		if e.VersionStackID != "" {
			if e.VersionStackID != was.VersionStackID || info.ParentID != e.VersionStackID || h.stackParent(e.VersionStackID) != newFolder {
				t.Errorf("%s: the stack did not move with its versions: %+v", d.Address, e)
			}
			if prev, _ := h.emu.FileInfo(e.Previous[0]); prev.ParentID != e.VersionStackID {
				t.Errorf("%s: the old version left the stack", d.Address)
			}
		} else if info.ParentID != newFolder {
			t.Errorf("%s: in folder %s, want %s", d.Address, info.ParentID, newFolder)
		}
	}
	for addr := range old.Entries {
		if _, ok := st.Entries[addr]; ok {
			t.Errorf("%s is still tracked", addr)
		}
	}
	if again := h.plan(files, true); len(again.Changes) != 0 {
		t.Errorf("plan after the moves: %+v", again.Changes)
	}
}

// TestMoveOff holds that without moves a rename uploads again: --no-moves deletes and
// uploads, prune: false without --moves uploads and leaves the old files.
func TestMoveOff(t *testing.T) {
	for _, tt := range []struct {
		name      string
		prune     bool
		moves     plan.Moves
		wantLive  int
		untracked int
	}{
		{"--no-moves", true, plan.MovesFor(true, false, true, moveMinSize), 6, 0},
		{"prune: false", false, plan.MovesFor(false, false, false, moveMinSize), 11, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			dayBefore(h)
			files := renameDay(h)
			h.moves = tt.moves
			p := h.plan(files, tt.prune)
			if s := p.Summary(); s.Move != 0 || s.Create != 5 || len(p.Untracked) != tt.untracked {
				t.Fatalf("plan %+v, untracked %v", s, p.Untracked)
			}
			stats := h.emu.Stats()
			if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			after := h.emu.Stats()
			if d := after.BytesReceived - stats.BytesReceived; d != 150<<10+130<<10+140<<10+210+100 {
				t.Errorf("bytes uploaded: %d, want every file again", d)
			}
			if after.FilesMoved != 0 {
				t.Errorf("files moved: %d", after.FilesMoved)
			}
			if got := h.live(); got != tt.wantLive {
				t.Errorf("files in Frame.io: %d, want %d", got, tt.wantLive)
			}
		})
	}
}

// TestMoveConflict: a move into a folder that already holds an untracked file of its name is
// refused like a create (the old file stays where it was, nothing is doubled), and goes
// through with AllowDuplicates.
func TestMoveConflict(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.moves = plan.MovesFor(true, false, false, moveMinSize)
	dayBefore(h)
	old := h.loadState()
	files := renameDay(h)
	day, err := h.client.CreateFolder(context.Background(), h.seed.AccountID, h.seed.RootFolderID, "2026-11-26")
	if err != nil {
		t.Fatal(err)
	}
	stray := h.uploadOutside(day.ID, "2026-11-26/A001.mov")
	p := h.plan(files, true)
	if p.Changes[0].Action != plan.Move || p.Changes[0].Conflict == nil || p.Changes[0].Conflict.ID != stray {
		t.Fatalf("plan %+v, want the move of A001.mov in conflict with %s", p.Changes[0], stray)
	}
	res, err := h.apply(context.Background(), p, files, apply.Options{})
	var conflict *apply.ConflictError
	if err == nil || !errors.As(res.Files[0].Err, &conflict) || conflict.FileID != stray || !conflict.Move {
		t.Fatalf("apply: %v; %+v", err, res.Files[0])
	}
	st := h.loadState()
	if e := st.Entries["/Day 01/A001.mov"]; e == nil || e.FileID != old.Entries["/Day 01/A001.mov"].FileID {
		t.Errorf("the refused move changed the state: %+v", e)
	}
	if info, _ := h.emu.FileInfo(old.Entries["/Day 01/A001.mov"].FileID); info.ParentID == day.ID {
		t.Error("the refused move moved the file")
	}
	p = h.plan(files, true)
	if _, err := h.apply(context.Background(), p, files, apply.Options{AllowDuplicates: true}); err != nil {
		t.Fatal(err)
	}
	if e := h.loadState().Entries["/2026-11-26/A001.mov"]; e == nil || e.FileID != old.Entries["/Day 01/A001.mov"].FileID {
		t.Errorf("with AllowDuplicates: %+v, want the file moved", e)
	}
}
