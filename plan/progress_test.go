package plan

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state"
)

// TestStepProgress holds that the long steps of a plan report as they go: IdentifyWith once
// per file hashed, with files and bytes of what it has to hash, and RefreshWith once per
// listing or lookup that Frame.io answered, counted against the emulator's own tally.
func TestStepProgress(t *testing.T) {
	e := newEnv(t)
	m, files := e.manifest(t, dailies, shoot)
	st := state.New(state.Target{})
	e.deliver(t, e.plan(t, m, files, st), files, st)

	// A new mtime on every file: the state can no longer vouch for their content.
	later := time.Now().Add(time.Hour)
	for _, d := range files {
		if err := os.Chtimes(d.Path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	_, files = e.manifest(t, dailies, nil)
	var mu sync.Mutex
	var steps []Step
	record := func(s Step) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, s)
	}
	if err := IdentifyWith(t.Context(), files, st, IdentifyOptions{Parallel: 2, Progress: record}); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, content := range shoot {
		total += int64(len(content))
	}
	if len(steps) != 4 {
		t.Fatalf("hash steps %+v, want 4 (the start, then one per file)", steps)
	}
	for i, s := range steps {
		if s.Name != StepHash || s.Done != i || s.Total != 3 || s.TotalBytes != total {
			t.Errorf("hash step %d: %+v", i, s)
		}
	}
	if first, last := steps[0], steps[3]; first.Bytes != 0 || last.Bytes != total {
		t.Errorf("hash steps from %+v to %+v, want 0 to all %d bytes", first, last, total)
	}

	answers := func() int64 {
		var n int64
		for _, route := range []string{"GET /v4/accounts/{a}/folders/{f}/folders", "GET /v4/accounts/{a}/folders/{f}/files", "GET /v4/accounts/{a}/files/{id}"} {
			for code, c := range e.emu.Stats().Requests[route] {
				if code == "200" || code == "404" {
					n += c
				}
			}
		}
		return n
	}
	before := answers()
	steps = nil
	if _, err := RefreshWith(t.Context(), e.c, m, files, st, RefreshOptions{Progress: record}); err != nil {
		t.Fatal(err)
	}
	want := []Step{{Name: StepRefresh}}
	for i := range answers() - before {
		want = append(want, Step{Name: StepRefresh, Done: int(i) + 1})
	}
	got := steps
	if len(want) == 1 {
		t.Fatal("refresh made no listing")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refresh steps (-want +got):\n%s", diff)
	}
}
