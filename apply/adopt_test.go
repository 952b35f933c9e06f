package apply_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// planAdopt is harness.plan with --adopt.
func (h *harness) planAdopt(files []manifest.Desired) *plan.Plan {
	h.t.Helper()
	return h.buildPlan(files, false, true)
}

// uploadOutside uploads the local file rel into folderID with the frameio client alone, as
// another tool or a person would, and returns the new file's id.
func (h *harness) uploadOutside(folderID, rel string) string {
	h.t.Helper()
	ctx := context.Background()
	path := filepath.Join(h.dir, filepath.FromSlash(rel))
	fi, err := os.Stat(path)
	if err != nil {
		h.t.Fatal(err)
	}
	f, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, folderID, filepath.Base(path), fi.Size())
	if err != nil {
		h.t.Fatal(err)
	}
	src, err := os.Open(path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer src.Close()
	offsets, err := frameio.PartOffsets(f.UploadURLs, f.FileSize)
	if err != nil {
		h.t.Fatal(err)
	}
	for i, part := range f.UploadURLs {
		if err := h.client.UploadPart(ctx, part, f.MediaType, io.NewSectionReader(src, offsets[i], part.Size)); err != nil {
			h.t.Fatal(err)
		}
	}
	return f.ID
}

func TestAdoptUploadsNothing(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	ctx := context.Background()
	h.writeFile("shoot/a.mov", 200<<10, 1) // several parts
	h.writeFile("shoot/b.mov", 10<<10, 2)
	h.writeFile("shoot/c.mov", 5<<10, 3) // not in Frame.io: uploaded
	h.writeFile("reel.mp4", 3<<10, 4)

	// Someone delivered a, b and the reel before fiosync was used, through the API. (The
	// reel went up as a local upload: a remote source is adopted by name alone.)
	day, err := h.client.CreateFolder(ctx, h.seed.AccountID, h.seed.RootFolderID, "Day1")
	if err != nil {
		t.Fatal(err)
	}
	aID := h.uploadOutside(day.ID, "shoot/a.mov")
	bID := h.uploadOutside(day.ID, "shoot/b.mov")
	reelID := h.uploadOutside(day.ID, "reel.mp4")

	files := h.desired(
		spec{local: "shoot/a.mov", to: "/Day1"},
		spec{local: "shoot/b.mov", to: "/Day1"},
		spec{local: "shoot/c.mov", to: "/Day1"},
		spec{url: "https://cdn.example.com/reel.mp4?sig=1", name: "reel.mp4", to: "/Day1"},
	)
	p := h.planAdopt(files)
	got := map[string]string{}
	for _, c := range p.Changes {
		id := ""
		if c.Existing != nil {
			id = c.Existing.ID
		}
		got[c.Address] = string(c.Action) + " " + id
	}
	want := map[string]string{
		"/Day1/a.mov":    "adopt " + aID,
		"/Day1/b.mov":    "adopt " + bID,
		"/Day1/c.mov":    "create ",
		"/Day1/reel.mp4": "adopt " + reelID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("plan --adopt (-want +got):\n%s", diff)
	}

	before := h.emu.Stats()
	var rec recorder
	res, err := h.apply(ctx, p, files, apply.Options{Observer: &rec})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	after := h.emu.Stats()
	if n := after.FilesCreated - before.FilesCreated; n != 1 {
		t.Errorf("apply created %d files, want 1 (c.mov only)", n)
	}
	if got, want := after.BytesReceived-before.BytesReceived, int64(5<<10); got != want {
		t.Errorf("apply sent %d bytes, want %d (c.mov only)", got, want)
	}
	if got, want := parts(after)-parts(before), int64(1); got != want {
		t.Errorf("apply PUT %d parts, want %d (c.mov only)", got, want)
	}
	if res.Adopted != 3 || res.Done != 1 {
		t.Errorf("result: %d adopted, %d done; want 3 and 1", res.Adopted, res.Done)
	}
	var notes []string
	rec.mu.Lock()
	for _, e := range rec.events {
		if e.Type == apply.EventFileDone && e.Note == "adopted" {
			notes = append(notes, e.Address)
		}
	}
	rec.mu.Unlock()
	if len(notes) != 3 {
		t.Errorf("file_done events noted adopted: %v, want 3", notes)
	}

	st := h.loadState()
	a := st.Entries["/Day1/a.mov"]
	wantHash, _, err := source.HashFile(filepath.Join(h.dir, "shoot", "a.mov"))
	if err != nil {
		t.Fatal(err)
	}
	if a == nil || a.FileID != aID || a.ParentID != day.ID || a.Status != state.StatusComplete || a.Source.Hash != wantHash {
		t.Errorf("entry of a.mov = %+v, want file %s in %s, complete, hash %s", a, aID, day.ID, wantHash)
	}
	if r := st.Entries["/Day1/reel.mp4"]; r == nil || r.FileID != reelID || r.Source.Kind != source.Remote {
		t.Errorf("entry of reel.mp4 = %+v, want remote file %s", r, reelID)
	}

	if p := h.planAdopt(files); !p.Empty() {
		t.Errorf("the plan after adopting has %d changes, want none: %+v", len(p.Changes), p.Changes)
	}
	if p := h.plan(files, false); !p.Empty() {
		t.Errorf("the plan (without --adopt) after adopting has %d changes, want none", len(p.Changes))
	}
}

// TestAdoptStaleSource refuses to record an adopt whose local file changed since the plan.
func TestAdoptStaleSource(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	ctx := context.Background()
	h.writeFile("a.mov", 10<<10, 1)
	h.uploadOutside(h.seed.RootFolderID, "a.mov")
	files := h.desired(spec{local: "a.mov", to: "/"})
	p := h.planAdopt(files)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Adopt {
		t.Fatalf("changes = %+v, want one adopt", p.Changes)
	}
	h.writeFile("a.mov", 11<<10, 1)
	files = h.desired(spec{local: "a.mov", to: "/"})
	res, err := h.apply(ctx, p, files, apply.Options{})
	if err == nil || res.Failed != 1 {
		t.Fatalf("apply of an adopt whose source grew: err %v, %d failed; want one failure", err, res.Failed)
	}
	if st := h.loadState(); st != nil && st.Entries["/a.mov"] != nil {
		t.Errorf("the failed adopt was recorded: %+v", st.Entries["/a.mov"])
	}
}

// parts counts the part PUTs the emulator answered, whatever their status.
func parts(s emulator.Stats) int64 {
	var n int64
	for _, c := range s.Requests["PUT part"] {
		n += c
	}
	return n
}
