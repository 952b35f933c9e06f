package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/emutest"
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

// threeFiles writes three 100 KiB files and returns them, desired under /T.
func threeFiles(h *harness) []manifest.Desired {
	var specs []spec
	for i, name := range []string{"a.mov", "b.mov", "c.mov"} {
		h.writeFile(name, 100<<10, uint64(i+1))
		specs = append(specs, spec{local: name, to: "/T"})
	}
	return h.desired(specs...)
}

// TestMaxTransfer: apply starts no file that would take the bytes started past the limit,
// says so with a *LimitError, holds the deletes back, and the next apply continues where it
// stopped.
func TestMaxTransfer(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	files := threeFiles(h)
	ctx := context.Background()
	for run, wantLeft := range []int{2, 1, 0} {
		p := h.plan(files, false)
		res, err := h.apply(ctx, p, files, apply.Options{MaxTransfer: 150 << 10, Parallel: 2})
		var le *apply.LimitError
		switch {
		case wantLeft == 0 && err != nil:
			t.Fatalf("run %d: %v, want the rest done", run, err)
		case wantLeft > 0 && (!errors.As(err, &le) || le.Limit != "max-transfer" || le.Left != wantLeft):
			t.Fatalf("run %d: error %v, want a max-transfer stop with %d left", run, err, wantLeft)
		}
		if res.Done != 1 || res.Skipped != wantLeft || res.Bytes != 100<<10 {
			t.Errorf("run %d: %d done, %d left, %d bytes; want 1, %d, %d", run, res.Done, res.Skipped, res.Bytes, wantLeft, 100<<10)
		}
		if got := int(h.emu.Stats().FilesCreated); got != run+1 {
			t.Errorf("run %d: the emulator has %d files, want %d", run, got, run+1)
		}
	}
	h.verify(files, nil)

	// A plan with a delete: held back while uploads are left.
	h.writeFile("d.mov", 100<<10, 4)
	h.writeFile("e.mov", 100<<10, 5)
	more := h.desired(spec{local: "d.mov", to: "/T"}, spec{local: "e.mov", to: "/T"})
	res, err := h.apply(ctx, h.plan(more, true), more, apply.Options{MaxTransfer: 1})
	if !errors.Is(err, apply.ErrLimit) || res.Done != 1 || res.Skipped != 4 || res.Deleted != 0 {
		t.Fatalf("apply with deletes: %v, %d done, %d left, %d deleted; want 1 upload, the rest (3 deletes) left", err, res.Done, res.Skipped, res.Deleted)
	}
	if h.live() != 4 {
		t.Errorf("%d files live, want 4: nothing deleted", h.live())
	}
}

// TestMaxDuration, on a fake clock that an hour passes on as each file starts: with a
// 90-minute limit the third file does not start, and the next apply sends it. (The hour
// passes at file_start, not file_done: a file gives up its slot, and the next one is judged,
// before its record is durable and its file_done told.)
func TestMaxDuration(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	files := threeFiles(h)
	clock := &clock{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	rec := &recorder{on: func(e apply.Event) {
		if e.Type == apply.EventFileStart {
			clock.Add(time.Hour)
		}
	}}
	opts := apply.Options{MaxDuration: 90 * time.Minute, Parallel: 1, Now: clock.Now, Observer: rec}
	res, err := h.apply(context.Background(), h.plan(files, false), files, opts)
	var le *apply.LimitError
	if !errors.As(err, &le) || le.Limit != "max-duration" || le.Left != 1 || res.Done != 2 {
		t.Fatalf("apply: %v, %d done; want a max-duration stop after 2 files with 1 left", err, res.Done)
	}
	if rec.count(apply.EventFileSkipped) != 1 {
		t.Errorf("%d file_skipped events, want 1", rec.count(apply.EventFileSkipped))
	}
	res, err = h.apply(context.Background(), h.plan(files, false), files, apply.Options{MaxDuration: 90 * time.Minute, Now: clock.Now})
	if err != nil || res.Done != 1 {
		t.Fatalf("next apply: %v, %d done; want the last file", err, res.Done)
	}
	h.verify(files, nil)
}

// createOrder records the names of the files created, in the order the emulator is asked.
type createOrder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	names []string
}

func (c *createOrder) RoundTrip(r *http.Request) (*http.Response, error) {
	name, ok, err := localCreate(r)
	if err != nil {
		return nil, err
	}
	if ok {
		c.mu.Lock()
		c.names = append(c.names, name)
		c.mu.Unlock()
	}
	return c.base.RoundTrip(r)
}

// localCreate returns the name of the file r asks the emulator to create, when r is a local
// upload's create (r.Body is kept for the request to go on).
func localCreate(r *http.Request) (name string, ok bool, err error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/files/local_upload") || r.Body == nil {
		return "", false, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "", false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &req)
	return req.Data.Name, true, nil
}

// TestUploadOrder: higher priorities start first, then --order-by; the emulator sees the
// creates in that order.
func TestUploadOrder(t *testing.T) {
	sizes := map[string]int64{"a.mov": 300 << 10, "b.mov": 100 << 10, "c.mov": 200 << 10, "d.mov": 50 << 10, "e.mov": 10 << 10}
	prio := map[string]int{"d.mov": 5, "e.mov": -1}
	for _, tt := range []struct {
		order string
		want  []string
	}{
		{"", []string{"d.mov", "a.mov", "b.mov", "c.mov", "e.mov"}},
		{"size,desc", []string{"d.mov", "a.mov", "c.mov", "b.mov", "e.mov"}},
		{"size", []string{"d.mov", "b.mov", "c.mov", "a.mov", "e.mov"}},
		{"name,desc", []string{"d.mov", "c.mov", "b.mov", "a.mov", "e.mov"}},
		{"mtime,desc", []string{"d.mov", "c.mov", "b.mov", "a.mov", "e.mov"}},
	} {
		t.Run(tt.order, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			var specs []spec
			for i, name := range []string{"a.mov", "b.mov", "c.mov", "d.mov", "e.mov"} {
				h.writeFile(name, sizes[name], uint64(i+1))
				mtime := time.Date(2026, 12, 1, 8, i, 0, 0, time.UTC) // a oldest
				if err := os.Chtimes(filepath.Join(h.dir, name), mtime, mtime); err != nil {
					t.Fatal(err)
				}
				specs = append(specs, spec{local: name, to: "/O"})
			}
			files := h.desired(specs...)
			for i := range files {
				files[i].Priority = prio[files[i].Name]
			}
			order, err := apply.ParseOrderBy(tt.order)
			if tt.order == "" {
				order, err = apply.OrderBy{}, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := &createOrder{base: emutest.Bearer{Token: h.seed.Token}}
			p := h.plan(files, false)
			h.client = emutest.NewClientWith(t, h.env.URL, &http.Client{Transport: rec}, testRetry)
			if _, err := h.apply(context.Background(), p, files, apply.Options{Parallel: 1, OrderBy: order}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rec.names); diff != "" {
				t.Errorf("creates in order (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := apply.ParseOrderBy("age"); err == nil {
		t.Error("ParseOrderBy accepted an unknown key")
	}
	if _, err := apply.ParseOrderBy("size,up"); err == nil {
		t.Error("ParseOrderBy accepted an unknown direction")
	}
}

// TestBwLimitPacesParts: with a limit, the part PUTs wait for the limiter on the run's clock:
// 1 MiB at 256K takes about 4 s of it, and the file arrives whole.
func TestBwLimitPacesParts(t *testing.T) {
	h := newHarness(t, testEmulatorOptions())
	h.writeFile("big.mov", 1<<20, 1)
	files := h.desired(spec{local: "big.mov", to: "/B"})
	clock := &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	var slept atomic.Int64
	sleep := func(_ context.Context, d time.Duration) error {
		slept.Add(int64(d))
		clock.Add(d)
		return nil
	}
	limit, err := apply.ParseTimetable("256K")
	if err != nil {
		t.Fatal(err)
	}
	// One part at a time, so the fake clock's sleeps do not overlap.
	if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{BwLimit: limit, Now: clock.Now, Sleep: sleep, PartConcurrency: 1}); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(slept.Load()); got < 3800*time.Millisecond || got > 4100*time.Millisecond {
		t.Errorf("the limiter slept %s for 1 MiB at 256 KiB/s, want about 4 s", got)
	}
	h.verify(files, nil)
}
