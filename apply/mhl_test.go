package apply_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// mhlManifest parses yaml as the harness directory's manifest and expands it, the way the CLI
// does, and runs the ASC MHL check on the result.
func (h *harness) mhlManifest(yaml string) (*manifest.Manifest, []manifest.Desired, *plan.MHL, error) {
	h.t.Helper()
	m, err := manifest.Parse(filepath.Join(h.dir, "fiosync.yaml"), []byte(yaml), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	x, err := m.Expand()
	if err != nil {
		h.t.Fatal(err)
	}
	check, err := plan.CheckMHL(m, x.Files)
	return m, x.Files, check, err
}

// planMHL is plan with the ASC MHL check's view of files.
func (h *harness) planMHL(files []manifest.Desired, check *plan.MHL) *plan.Plan {
	h.t.Helper()
	ctx := context.Background()
	st := h.loadState()
	if err := plan.Identify(ctx, files, st, 2); err != nil {
		h.t.Fatal(err)
	}
	m := &manifest.Manifest{Target: manifest.Target{Project: h.seed.Project}}
	remote, err := plan.Refresh(ctx, h.client, m, files, st)
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := plan.Build(plan.Inputs{Files: files, Target: m.Target, State: st, Remote: remote, MHL: check})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// copyScenario copies an ASC MHL reference scenario into the harness directory and gives
// every file the modification time its history records, as a copy that keeps them would.
func (h *harness) copyScenario(name, into string) {
	h.t.Helper()
	dst := filepath.Join(h.dir, into)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "mhl", "testdata", "scenarios", name))); err != nil {
		h.t.Fatal(err)
	}
	f := mhl.NewFinder()
	err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		root := f.Root(p)
		if root == "" {
			return nil
		}
		hist, err := mhl.Load(root)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if r, ok := hist.Lookup(filepath.ToSlash(rel)); ok && !r.ModTime.IsZero() {
			return os.Chtimes(p, r.ModTime, r.ModTime)
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// The reference layout: a reel folder with its own history and two nested card histories.
// Every file checks out and uploads; a file no history lists is uploaded and reported as
// not in MHL; the histories' own files are uploaded as they are.
func TestMHLCleanCardsUpload(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.copyScenario("scenario_05/file_server", "")
	h.writeFile("Reels/A002R2EC/Clips/extra.mov", 100, 9)
	_, files, check, err := h.mhlManifest("version: 1\ntarget:\n  project: " + h.seed.Project + "\nuploads:\n  - local: Reels\n    to: /Day01\n    mhl: auto\n")
	if err != nil {
		t.Fatal(err)
	}
	p := h.planMHL(files, check)
	notIn := map[string]bool{}
	for _, c := range p.Changes {
		if c.MHL == plan.NotInMHL {
			notIn[c.Address] = true
		}
	}
	if len(notIn) != 1 || !notIn["/Day01/A002R2EC/Clips/extra.mov"] {
		t.Fatalf("not in MHL: %v; want only the extra file", notIn)
	}
	for _, addr := range []string{"/Day01/Summary.txt", "/Day01/A002R2EC/Sidecar.txt", "/Day01/A003R2EC/Clips/A003C011_141024_R2EC.mov"} {
		if _, ok := check.Expect(addr); !ok {
			t.Errorf("%s: no ASC MHL record found", addr)
		}
	}
	res, err := h.apply(context.Background(), p, files, apply.Options{MHL: check})
	if err != nil {
		t.Fatalf("apply: %v (%+v)", err, res)
	}
	if res.Done != len(files) {
		t.Fatalf("done %d of %d", res.Done, len(files))
	}
	for _, fr := range res.Files {
		info, ok := h.emu.FileInfo(fr.FileID)
		if !ok || info.Status != "uploaded" {
			t.Errorf("%s: emulator has %+v", fr.Address, info)
		}
	}
}

// A file changed after the DIT hashed it, to the same size: the content check in apply's
// read catches it, the last part is never sent, and the placeholder is deleted, so Frame.io
// never holds a complete file with unverified content.
func TestMHLCorruptionNeverCompletes(t *testing.T) {
	for _, format := range []mhl.Format{mhl.XXH128, mhl.MD5, mhl.C4} {
		t.Run(string(format), func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			const size = 4*64<<10 - 100 // four parts
			h.writeFile("CARD/Clips/A001.mov", size, 1)
			h.writeFile("CARD/Clips/A002.mov", 1000, 2)
			file := filepath.Join(h.dir, "CARD/Clips/A001.mov")
			dit(t, filepath.Join(h.dir, "CARD"), format, "Clips/A001.mov", "Clips/A002.mov")
			fi, _ := os.Stat(file)
			data, _ := os.ReadFile(file)
			want := mhl.Sum(format, data)
			data[size/2] ^= 1
			os.WriteFile(file, data, 0o644)
			os.Chtimes(file, fi.ModTime(), fi.ModTime())
			got := mhl.Sum(format, data)

			_, files, check, err := h.mhlManifest("version: 1\ntarget:\n  project: " + h.seed.Project + "\nuploads:\n  - local: CARD\n    to: /D\n    exclude: ['ascmhl/**']\n    mhl: CARD\n")
			if err != nil {
				t.Fatalf("plan refused a same-size change: %v", err)
			}
			p := h.planMHL(files, check)
			res, err := h.apply(context.Background(), p, files, apply.Options{MHL: check})
			if !errors.Is(err, apply.ErrFailed) || res.Failed != 1 || res.Done != 1 {
				t.Fatalf("apply = %v, %+v; want one failure", err, res)
			}
			var bad apply.FileResult
			for _, fr := range res.Files {
				if fr.Outcome == apply.Failed {
					bad = fr
				}
			}
			var mm *apply.MHLMismatchError
			if bad.Address != "/D/Clips/A001.mov" || !errors.As(bad.Err, &mm) {
				t.Fatalf("failed file %+v, want A001 with an MHLMismatchError", bad)
			}
			msg := bad.Err.Error()
			if !strings.Contains(msg, got) || !strings.Contains(msg, want) || !strings.Contains(msg, "0001_CARD_") || !strings.Contains(msg, "Clips/A001.mov") {
				t.Errorf("message %q lacks both hashes, the file or the history", msg)
			}
			st := h.emu.Stats()
			if st.FilesCreated != 2 || st.FilesDeleted != 1 {
				t.Errorf("emulator created %d, deleted %d files; want 2 and 1 (the placeholder)", st.FilesCreated, st.FilesDeleted)
			}
			// A002 is one part; A001 sent three of its four: the last one was held back.
			if n := st.Requests["PUT part"]["200"]; n != 1+3 {
				t.Errorf("%d parts accepted, want 4 (A002's one, A001's first three)", n)
			}
			if e := h.loadState().Entries["/D/Clips/A001.mov"]; e != nil {
				t.Errorf("state keeps %+v for the refused file", e)
			}
		})
	}
}

// dit writes the history a DIT's tool would: generation 1 of root, hashing files (relative
// to root) in format.
func dit(t *testing.T, root string, format mhl.Format, files ...string) {
	t.Helper()
	tr := mhl.Transfer{Creator: mhl.Creator{Tool: "dit-test"}, Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	for _, rel := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		tr.Files = append(tr.Files, mhl.FileHashes{Path: rel, Size: int64(len(data)), ModTime: fi.ModTime(),
			Hashes: map[mhl.Format]string{format: mhl.Sum(format, data)}})
	}
	if _, err := mhl.WriteTransfer(root, tr); err != nil {
		t.Fatal(err)
	}
}

// An upload interrupted at about 60% and resumed from the part journal goes through the same
// check: the resumed run hashes every byte (the accepted parts are read only to be hashed)
// and the file completes only after the hash matched.
func TestMHLResumedUploadIsChecked(t *testing.T) {
	const partSize, parts = 64 << 10, 20
	opts := testEmulatorOptions()
	opts.PartSize = partSize
	opts.Latency = time.Millisecond
	h := newHarness(t, opts)
	journal := partjournal.Open(filepath.Join(t.TempDir(), "parts"))
	h.parts = journal
	h.writeFile("CARD/A001.mov", parts*partSize, 1)
	dit(t, filepath.Join(h.dir, "CARD"), mhl.XXH128, "A001.mov")
	files := h.desired(spec{local: "CARD/A001.mov", to: "/Day"})
	m := &manifest.Manifest{Dir: h.dir, Uploads: []manifest.Upload{{Local: "CARD/A001.mov", To: "/Day", MHL: manifest.MHLAuto}}}
	check, err := plan.CheckMHL(m, files)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := check.Expect("/Day/A001.mov"); !ok {
		t.Fatal("no record for A001.mov")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	rec := &recorder{on: func(e apply.Event) {
		if e.Type == apply.EventProgress && e.Bytes >= parts*partSize*6/10 {
			once.Do(cancel)
		}
	}}
	aopts := apply.Options{Observer: rec, Parts: journal, PartConcurrency: 4, MHL: check}
	if _, err := h.apply(ctx, h.plan(files, false), files, aopts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted apply: %v", err)
	}
	p := h.plan(files, false)
	if len(p.Changes) != 1 || !strings.HasPrefix(p.Changes[0].Reason, "resume upload (") {
		t.Fatalf("plan after the interruption: %+v", p.Changes)
	}
	aopts.Observer = nil
	if _, err := h.apply(context.Background(), p, files, aopts); err != nil {
		t.Fatalf("resumed apply: %v", err)
	}
	h.verify(files, nil)
}

// A file an interrupted run completed while its entry had no mhl: yet, and that contradicts
// the history, is deleted rather than adopted once the entry names the history.
func TestMHLAdoptIsChecked(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	const size = 3 * 64 << 10
	h.writeFile("CARD/A.mov", size, 1)
	dit(t, filepath.Join(h.dir, "CARD"), mhl.XXH128, "A.mov")
	p := filepath.Join(h.dir, "CARD", "A.mov")
	fi, _ := os.Stat(p)
	h.writeFile("CARD/A.mov", size, 2) // other bytes, same size and mtime
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	files := h.desired(spec{local: "CARD/A.mov", to: "/"})
	ctx := context.Background()
	first := h.plan(files, false)

	// The interrupted run, without the check: every part is in, the state still says pending.
	rf, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, h.seed.RootFolderID, "A.mov", size)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.Open(p)
	defer src.Close()
	offs, _ := frameio.PartOffsets(rf.UploadURLs, rf.FileSize)
	for i, part := range rf.UploadURLs {
		if err := h.client.UploadPart(ctx, part, rf.MediaType, io.NewSectionReader(src, offs[i], part.Size)); err != nil {
			t.Fatal(err)
		}
	}
	w := store.NewWriter(store.NewFile(h.statePath), state.New(first.Target))
	if err := w.Update(ctx, func(*state.State) state.Change {
		return state.PutEntry("/A.mov", &state.Entry{Source: files[0].Source, FileID: rf.ID, ParentID: h.seed.RootFolderID,
			Status: state.StatusPending, CreatedAt: time.Now().Add(-time.Second)})
	}); err != nil {
		t.Fatal(err)
	}

	m := &manifest.Manifest{Dir: h.dir, Uploads: []manifest.Upload{{Local: "CARD/A.mov", To: "/", MHL: "CARD"}}}
	check, err := plan.CheckMHL(m, files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.apply(ctx, h.plan(files, false), files, apply.Options{MHL: check})
	var mm *apply.MHLMismatchError
	if err == nil || len(res.Files) != 1 || !errors.As(res.Files[0].Err, &mm) {
		t.Fatalf("apply = %v, %+v; want the adopt refused with an MHLMismatchError", err, res)
	}
	if info, ok := h.emu.FileInfo(rf.ID); !ok || info.Status != "deleted" {
		t.Errorf("the unverified complete file is %+v, want deleted", info)
	}
}
