package apply_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// serveBytes starts a server that answers GET and HEAD of any path with data.
func serveBytes(t testing.TB, data []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "reel.mp4", time.Time{}, bytesReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), 0xaa})
	rng.Read(b)
	return b
}

// verify checks that every desired file is complete in the state and that Frame.io holds
// exactly its bytes, and that Frame.io holds nothing else fiosync made.
func (h *harness) verify(files []manifest.Desired, remoteContent map[string][]byte) {
	h.t.Helper()
	st := h.loadState()
	if st == nil {
		h.t.Fatal("no state saved")
	}
	for _, d := range files {
		e := st.Entries[d.Address]
		if e == nil {
			h.t.Errorf("%s: no state entry", d.Address)
			continue
		}
		if e.Status != state.StatusComplete {
			h.t.Errorf("%s: status %q, want complete", d.Address, e.Status)
		}
		info, ok := h.emu.FileInfo(e.FileID)
		if !ok || info.Status == "deleted" {
			h.t.Errorf("%s: file %s not in Frame.io", d.Address, e.FileID)
			continue
		}
		var want string
		if d.Source.Kind == source.Remote {
			dg, _, _ := source.HashReader(bytesReader(remoteContent[d.URL]))
			want = dg.Hex()
		} else {
			dg, _, err := source.HashFile(d.Path)
			if err != nil {
				h.t.Fatal(err)
			}
			want = dg.Hex()
			if got := e.Source.Hash.Hex(); got != want {
				h.t.Errorf("%s: state hash %s, want %s", d.Address, got, want)
			}
		}
		if info.BLAKE3 != want {
			h.t.Errorf("%s: Frame.io BLAKE3 %s, want %s", d.Address, info.BLAKE3, want)
		}
	}
}

// exists reports whether Frame.io holds the file (not deleted).
func (h *harness) exists(id string) bool {
	info, ok := h.emu.FileInfo(id)
	return ok && info.Status != "deleted"
}

// live returns the number of files that exist in Frame.io: created minus deleted.
func (h *harness) live() int {
	s := h.emu.Stats()
	return int(s.FilesCreated - s.FilesDeleted)
}

func TestApplyMixed(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
	}{
		{name: "clean"},
		{name: "part faults and rate limits", faults: emulator.Faults{PartFaultRate: 0.2, RateLimitScale: 1}},
		{name: "API faults and resets", faults: emulator.Faults{APIFaultRate: 0.2, ResetRate: 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			h.writeFile("shoot/small.txt", 1000, 2)
			h.writeFile("shoot/cam/A001.mov", 5*64<<10+123, 3)
			h.writeFile("shoot/cam/A002.mov", 2*64<<10, 4)
			h.writeFile("grade.mxf", 300<<10, 5)
			reel := randomBytes(200<<10, 6)
			reelSrv := serveBytes(t, reel)
			reelURL := reelSrv.URL + "/reel.mp4?X-Amz-Signature=secret"
			files := h.desired(
				spec{local: "shoot/small.txt", to: "/Day 01"},
				spec{local: "shoot/cam/A001.mov", to: "/Day 01/A-Cam"},
				spec{local: "shoot/cam/A002.mov", to: "/Day 01/A-Cam"},
				spec{local: "grade.mxf", to: "/Grades"},
				spec{url: reelURL, name: "reel.mp4", to: "/Reels"},
			)
			p := h.plan(files, false)
			h.emu.SetFaults(tt.faults)

			rec := &recorder{}
			res, err := h.apply(context.Background(), p, files, apply.Options{Observer: rec, Parallel: 3})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(len(files), res.Done); diff != "" {
				t.Errorf("done (-want +got):\n%s", diff)
			}
			h.verify(files, map[string][]byte{reelURL: reel})
			if got := h.live(); got != len(files) {
				t.Errorf("files in Frame.io = %d, want %d", got, len(files))
			}
			if got := rec.count(apply.EventFileDone); got != len(files) {
				t.Errorf("file_done events = %d, want %d", got, len(files))
			}
			if n := rec.count(apply.EventSummary); n != 1 {
				t.Errorf("summary events = %d, want 1", n)
			}

			h.emu.SetFaults(emulator.Faults{})
			if again := h.plan(files, false); len(again.Changes) != 0 {
				t.Errorf("second plan has %d changes, want none: %+v", len(again.Changes), again.Changes)
			}
			for _, e := range h.loadState().Entries {
				if e.Source.URL != "" && e.Source.URL != reelSrv.URL+"/reel.mp4" {
					t.Errorf("state records URL %q, want it without its query", e.Source.URL)
				}
			}
		})
	}
}

func TestOnChange(t *testing.T) {
	tests := []struct {
		mode manifest.OnChange
		// keepsOld says whether old files stay in Frame.io (and in Previous).
		keepsOld  bool
		wantStack bool
	}{
		{mode: manifest.OnChangeVersion, keepsOld: true, wantStack: true},
		{mode: manifest.OnChangeReplace},
		{mode: manifest.OnChangeKeep, keepsOld: true},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			const addr = "/Grades/G01.mov"
			var ids []string // every file id the address had, oldest first
			var stack string
			for rev := range 3 {
				h.writeFile("G01.mov", int64(100+50*rev)<<10, uint64(rev+1))
				files := h.desired(spec{local: "G01.mov", to: "/Grades", onChange: tt.mode})
				p := h.plan(files, false)
				want := plan.Update
				if rev == 0 {
					want = plan.Create
				}
				if len(p.Changes) != 1 || p.Changes[0].Action != want {
					t.Fatalf("revision %d: plan = %+v, want one %s", rev, p.Changes, want)
				}
				if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
					t.Fatalf("revision %d: %v", rev, err)
				}
				h.verify(files, nil)
				e := h.loadState().Entries[addr]
				ids = append(ids, e.FileID)

				var wantPrev []string
				if tt.keepsOld {
					wantPrev = ids[:len(ids)-1]
				}
				if len(wantPrev) == 0 {
					wantPrev = nil
				}
				if diff := cmp.Diff(wantPrev, e.Previous); diff != "" {
					t.Errorf("revision %d: Previous (-want +got):\n%s", rev, diff)
				}
				for _, old := range ids[:len(ids)-1] {
					if ok := h.exists(old); ok != tt.keepsOld {
						t.Errorf("revision %d: old file %s in Frame.io = %v, want %v", rev, old, ok, tt.keepsOld)
					}
				}
				if rev == 0 {
					continue
				}
				if got := e.VersionStackID != ""; got != tt.wantStack {
					t.Errorf("revision %d: VersionStackID = %q, want set = %v", rev, e.VersionStackID, tt.wantStack)
				}
				if tt.wantStack {
					if info, _ := h.emu.FileInfo(e.FileID); info.ParentID != e.VersionStackID {
						t.Errorf("revision %d: new file's parent = %s, want the stack %s", rev, info.ParentID, e.VersionStackID)
					}
					if stack != "" && e.VersionStackID != stack {
						t.Errorf("revision %d: stack %s, want the same stack %s as before", rev, e.VersionStackID, stack)
					}
					stack = e.VersionStackID
				}
				if again := h.plan(files, false); len(again.Changes) != 0 {
					t.Errorf("revision %d: second plan has %d changes, want none: %+v", rev, len(again.Changes), again.Changes)
				}
			}
		})
	}
}

func TestPrune(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("keep.bin", 10<<10, 1)
	h.writeFile("drop.bin", 10<<10, 2)
	both := h.desired(spec{local: "keep.bin", to: "/X"}, spec{local: "drop.bin", to: "/X"})
	if _, err := h.apply(context.Background(), h.plan(both, true), both, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	dropped := h.loadState().Entries["/X/drop.bin"].FileID

	t.Run("held back when an upload fails", func(t *testing.T) {
		h.writeFile("new.bin", 10<<10, 3)
		files := h.desired(spec{local: "keep.bin", to: "/X"}, spec{local: "new.bin", to: "/X"})
		p := h.plan(files, true)
		if err := os.Remove(filepath.Join(h.dir, "new.bin")); err != nil {
			t.Fatal(err)
		}
		res, err := h.apply(context.Background(), p, files, apply.Options{})
		if !errors.Is(err, apply.ErrFailed) {
			t.Fatalf("Run error = %v, want ErrFailed", err)
		}
		got := map[string]apply.Outcome{}
		for _, f := range res.Files {
			got[f.Address] = f.Outcome
		}
		want := map[string]apply.Outcome{"/X/new.bin": apply.Failed, "/X/drop.bin": apply.Skipped}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if !h.exists(dropped) {
			t.Error("dropped file deleted although an upload failed")
		}
	})

	t.Run("deletes after uploads", func(t *testing.T) {
		files := h.desired(spec{local: "keep.bin", to: "/X"})
		p := h.plan(files, true)
		if len(p.Changes) != 1 || p.Changes[0].Action != plan.Delete {
			t.Fatalf("plan = %+v, want one delete", p.Changes)
		}
		res, err := h.apply(context.Background(), p, files, apply.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Deleted != 1 {
			t.Errorf("Deleted = %d, want 1", res.Deleted)
		}
		if h.exists(dropped) {
			t.Error("dropped file still in Frame.io")
		}
		if _, ok := h.loadState().Entries["/X/drop.bin"]; ok {
			t.Error("dropped address still in the state")
		}
		if again := h.plan(files, true); len(again.Changes) != 0 {
			t.Errorf("second plan has %d changes, want none", len(again.Changes))
		}
	})
}

// clock is a settable clock for the emulator's URL expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestExpiredPartURLRecreatesOnce(t *testing.T) {
	clk := &clock{now: time.Now()}
	opts := testEmulatorOptions()
	opts.URLTTL = time.Minute
	opts.Now = clk.Now
	h := newHarness(t, opts)
	h.writeFile("big.mov", 4*64<<10, 1)
	files := h.desired(spec{local: "big.mov", to: "/"})
	p := h.plan(files, false)

	// After the first part lands, the remaining part URLs expire.
	var once sync.Once
	rec := &recorder{on: func(e apply.Event) {
		if e.Type == apply.EventProgress {
			once.Do(func() { clk.Add(time.Hour) })
		}
	}}
	res, err := h.apply(context.Background(), p, files, apply.Options{Observer: rec, PartConcurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Done != 1 {
		t.Errorf("Done = %d, want 1", res.Done)
	}
	h.verify(files, nil)
	s := h.emu.Stats()
	if diff := cmp.Diff([2]int64{2, 1}, [2]int64{s.FilesCreated, s.FilesDeleted}); diff != "" {
		t.Errorf("files created, deleted (-want +got):\n%s", diff)
	}
	if got := s.Requests["PUT part"]["403"]; got != 1 {
		t.Errorf("part PUTs answered 403 = %d, want 1", got)
	}

	t.Run("second rejection fails the file", func(t *testing.T) {
		h.writeFile("other.mov", 4*64<<10, 2)
		files := h.desired(spec{local: "other.mov", to: "/"})
		p := h.plan(files, false)
		rec := &recorder{on: func(e apply.Event) {
			if e.Type == apply.EventProgress && e.Bytes == 64<<10 {
				clk.Add(time.Hour) // after the first part of each attempt
			}
		}}
		before := h.live()
		_, err := h.apply(context.Background(), p, files, apply.Options{Observer: rec, PartConcurrency: 1})
		if !errors.Is(err, frameio.ErrURLRejected) {
			t.Fatalf("Run error = %v, want ErrURLRejected", err)
		}
		if got := h.live(); got != before {
			t.Errorf("files in Frame.io = %d, want %d (placeholders removed)", got, before)
		}
		if e := h.loadState().Entries["/other.mov"]; e != nil {
			t.Errorf("state entry %+v left for a failed new file", e)
		}
	})
}

func TestCancelThenResume(t *testing.T) {
	opts := testEmulatorOptions()
	opts.Latency = 20 * time.Millisecond
	h := newHarness(t, opts)
	var srcs []spec
	for i := range 4 {
		name := fmt.Sprintf("clip%d.mov", i)
		h.writeFile(name, 12*64<<10, uint64(i))
		srcs = append(srcs, spec{local: name, to: "/Day"})
	}
	files := h.desired(srcs...)
	p := h.plan(files, false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	rec := &recorder{on: func(e apply.Event) {
		if e.Type == apply.EventProgress {
			once.Do(cancel)
		}
	}}
	start := time.Now()
	res, err := h.apply(ctx, p, files, apply.Options{Observer: rec, Parallel: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s after cancel, want prompt return", d)
	}
	if res.Done == len(files) {
		t.Fatalf("every file finished before the cancel took effect")
	}
	st := h.loadState()
	pending := 0
	for _, e := range st.Entries {
		if e.Status == state.StatusPending {
			pending++
		}
	}
	if pending == 0 {
		t.Errorf("state has no pending entry after an interrupted upload: %+v", st.Entries)
	}

	p = h.plan(files, false)
	if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	h.verify(files, nil)
	if got := h.live(); got != len(files) {
		t.Errorf("files in Frame.io = %d, want %d", got, len(files))
	}
	if again := h.plan(files, false); len(again.Changes) != 0 {
		t.Errorf("third plan has %d changes, want none", len(again.Changes))
	}
}

func TestReconcilePending(t *testing.T) {
	tests := []struct {
		name string
		// parts is how many parts the interrupted run sent.
		parts       int
		touch       bool // the local file changed after the interrupted run
		gone        bool // someone deleted the placeholder
		lostAnswer  bool // the create's answer never reached the state
		wantOutcome apply.Outcome
	}{
		{name: "create answer lost removes the stray", parts: 3, lostAnswer: true, wantOutcome: apply.Done},
		{name: "complete adopts", parts: 3, wantOutcome: apply.Adopted},
		{name: "partial uploads again", parts: 1, wantOutcome: apply.Done},
		{name: "complete but source touched uploads again", parts: 3, touch: true, wantOutcome: apply.Done},
		{name: "placeholder gone uploads again", parts: 0, gone: true, wantOutcome: apply.Done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			h.writeFile("A.mov", 3*64<<10, 1)
			files := h.desired(spec{local: "A.mov", to: "/"})
			ctx := context.Background()
			first := h.plan(files, false)

			// An interrupted run: the placeholder exists, some parts are in, the state says
			// pending with the stat of the time.
			rf, err := h.client.CreateLocalUpload(ctx, h.seed.AccountID, h.seed.RootFolderID, "A.mov", 3*64<<10)
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.Open(files[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			offs, _ := frameio.PartOffsets(rf.UploadURLs, rf.FileSize)
			for i := range tt.parts {
				part := rf.UploadURLs[i]
				if err := h.client.UploadPart(ctx, part, rf.MediaType, io.NewSectionReader(src, offs[i], part.Size)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.gone {
				if err := h.client.DeleteFile(ctx, h.seed.AccountID, rf.ID); err != nil {
					t.Fatal(err)
				}
			}
			st := state.New(first.Target)
			w := store.NewWriter(store.NewFile(h.statePath), st)
			// Record the stat exactly as apply does (inode and ctime too): take it from the
			// expansion's identity of /A.mov, files[0].
			pendingSource := files[0].Source
			if err := w.Update(ctx, func(*state.State) state.Change {
				e := &state.Entry{Source: pendingSource, FileID: rf.ID, ParentID: h.seed.RootFolderID,
					Status: state.StatusPending, CreatedAt: time.Now().Add(-time.Second)}
				if tt.lostAnswer {
					e.FileID = ""
				}
				return state.PutEntry("/A.mov", e)
			}); err != nil {
				t.Fatal(err)
			}
			if tt.touch {
				later := files[0].Source.ModTime.Add(time.Minute)
				if err := os.Chtimes(files[0].Path, later, later); err != nil {
					t.Fatal(err)
				}
				files = h.desired(spec{local: "A.mov", to: "/"})
			}

			p := h.plan(files, false)
			if len(p.Changes) != 1 || p.Changes[0].Prior == nil || p.Changes[0].Prior.Status != state.StatusPending && !tt.gone {
				t.Fatalf("plan = %+v, want one resume", p.Changes)
			}
			res, err := h.apply(ctx, p, files, apply.Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := res.Files[0].Outcome; got != tt.wantOutcome {
				t.Errorf("outcome = %q, want %q", got, tt.wantOutcome)
			}
			h.verify(files, nil)
			if got := h.live(); got != 1 {
				t.Errorf("files in Frame.io = %d, want 1", got)
			}
		})
	}
}

// loseAnswer passes requests through but, for the first n requests whose path ends in
// suffix, throws the answer away and reports a network error, as a connection cut after the
// server acted would.
type loseAnswer struct {
	suffix string
	mu     sync.Mutex
	n      int
	base   http.RoundTripper
}

func (l *loseAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, l.suffix) {
		return resp, err
	}
	l.mu.Lock()
	lose := l.n > 0
	l.n--
	l.mu.Unlock()
	if !lose {
		return resp, nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("connection reset by peer (test)")
}

func TestLostCreateAnswerLeavesNoDuplicate(t *testing.T) {
	for _, kind := range []string{"local_upload", "remote_upload"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			lose := &loseAnswer{suffix: kind, n: 1, base: http.DefaultTransport}
			c, err := frameio.New(h.env.URL, &http.Client{Transport: emutest.Bearer{Token: h.seed.Token, Base: lose}})
			if err != nil {
				t.Fatal(err)
			}
			h.client = c
			h.writeFile("A.mov", 100<<10, 1)
			reel := randomBytes(10<<10, 2)
			reelURL := serveBytes(t, reel).URL + "/reel.mp4"
			files := h.desired(spec{local: "A.mov", to: "/L"}, spec{url: reelURL, name: "reel.mp4", to: "/L"})
			if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			h.verify(files, map[string][]byte{reelURL: reel})
			if got := h.live(); got != len(files) {
				t.Errorf("files in Frame.io = %d, want %d", got, len(files))
			}
			if s := h.emu.Stats(); s.FilesDeleted != 1 {
				t.Errorf("files deleted = %d, want 1 (the stray of the lost answer)", s.FilesDeleted)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("a.bin", 3*64<<10, 1)
	files := h.desired(spec{local: "a.bin", to: "/E"})
	rec := &recorder{}
	if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{Observer: rec}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range rec.events {
		types = append(types, e.Type)
	}
	want := []string{"start", "folder", "file_start", "progress", "progress", "progress", "file_done", "summary"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	var progress []int64
	for _, e := range rec.events {
		if e.Type == apply.EventProgress {
			progress = append(progress, e.Bytes)
		}
	}
	sort.Slice(progress, func(i, j int) bool { return progress[i] < progress[j] })
	if diff := cmp.Diff([]int64{64 << 10, 128 << 10, 192 << 10}, progress); diff != "" {
		t.Errorf("progress bytes (-want +got):\n%s", diff)
	}
}

func TestOptionsValidated(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	tests := []struct {
		name string
		opts apply.Options
	}{
		{name: "no client", opts: apply.Options{State: store.NewWriter(store.NewFile(h.statePath), state.New(state.Target{}))}},
		{name: "negative parallel", opts: apply.Options{Client: h.client, State: store.NewWriter(store.NewFile(h.statePath), state.New(state.Target{})), Parallel: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := apply.Run(context.Background(), &plan.Plan{}, tt.opts); err == nil {
				t.Error("Run accepted invalid options")
			}
		})
	}
}

// TestApplyNeverSendsEmptyFiles: an empty local file is skipped by the plan (Frame.io does
// not accept it), so apply uploads the others and never calls local_upload for it.
func TestApplyNeverSendsEmptyFiles(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("shoot/empty.bin", 0, 1)
	h.writeFile("shoot/small.txt", 1000, 2)
	files := h.desired(spec{local: "shoot/empty.bin", to: "/Day 01"}, spec{local: "shoot/small.txt", to: "/Day 01"})
	p := h.plan(files, false)
	res, err := h.apply(context.Background(), p, files, apply.Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Done != 1 {
		t.Errorf("done = %d, want 1", res.Done)
	}
	h.verify(files[1:], nil)
	if got := h.emu.Stats().Requests["POST /v4/accounts/{a}/folders/{f}/files/local_upload"]; !cmp.Equal(got, map[string]int64{"201": 1}) {
		t.Errorf("local_upload answers = %v, want one 201", got)
	}
	if again := h.plan(files, false); len(again.Changes) != 0 {
		t.Errorf("second plan has %d changes, want none", len(again.Changes))
	}
}
