package apply_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
)

// onChangeDone checks that the address's current file has had its on_change step done on
// old: stacked onto it (version) or old deleted (replace), with no step left over.
func onChangeDone(t *testing.T, h *harness, addr, old string, mode manifest.OnChange) {
	t.Helper()
	e := h.loadState().Entries[addr]
	if e == nil || e.Status != state.StatusComplete || e.Followup != nil {
		t.Fatalf("entry %+v, want complete with no step left", e)
	}
	switch mode {
	case manifest.OnChangeReplace:
		if h.exists(old) {
			t.Errorf("the replaced file %s is still in Frame.io", old)
		}
	case manifest.OnChangeVersion:
		info, ok := h.emu.FileInfo(e.FileID)
		if !ok || e.VersionStackID == "" || info.ParentID != e.VersionStackID {
			t.Errorf("new file's parent %q, stack %q: want the new file in a version stack", info.ParentID, e.VersionStackID)
		}
		if !h.exists(old) {
			t.Errorf("the earlier version %s is gone", old)
		}
	}
}

// TestInterruptedUpdateRunsOnChange: an update interrupted after a part of the new upload
// arrived resumes as an upload and still stacks or deletes the old file (issue 15, case 1).
func TestInterruptedUpdateRunsOnChange(t *testing.T) {
	for _, mode := range []manifest.OnChange{manifest.OnChangeReplace, manifest.OnChangeVersion} {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			const addr = "/Grades/G01.mov"
			h.writeFile("G01.mov", 8*64<<10, 1)
			files := h.desired(spec{local: "G01.mov", to: "/Grades", onChange: mode})
			if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			old := h.loadState().Entries[addr].FileID

			h.writeFile("G01.mov", 12*64<<10, 2)
			files = h.desired(spec{local: "G01.mov", to: "/Grades", onChange: mode})
			p := h.plan(files, false)
			if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update {
				t.Fatalf("plan = %+v, want one update", p.Changes)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			rec := &recorder{on: func(e apply.Event) {
				if e.Type == apply.EventProgress {
					once.Do(cancel)
				}
			}}
			if _, err := h.apply(ctx, p, files, apply.Options{Observer: rec, PartConcurrency: 1}); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted apply: %v, want context.Canceled", err)
			}
			if e := h.loadState().Entries[addr]; e.Status != state.StatusPending || e.Followup == nil || e.Followup.FileID != old {
				t.Fatalf("entry after the interruption %+v, want pending with the step on %s written ahead", e, old)
			}

			p = h.plan(files, false)
			if len(p.Changes) != 1 || p.Changes[0].Reason != plan.ReasonRestart {
				t.Fatalf("plan after the interruption = %+v, want one resume", p.Changes)
			}
			if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
				t.Fatalf("resumed apply: %v", err)
			}
			h.verify(files, nil)
			onChangeDone(t, h, addr, old, mode)
			if again := h.plan(files, false); len(again.Changes) != 0 {
				t.Errorf("plan after the resume has changes: %+v", again.Changes)
			}
		})
	}
}

// refusing fails, with 503, every request that refuse matches while on is set: a fault on
// one kind of call between the client and the emulator.
type refusing struct {
	base   http.RoundTripper
	on     atomic.Bool
	refuse func(*http.Request) bool
	seen   atomic.Int64
}

func (f *refusing) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.on.Load() && f.refuse(r) {
		f.seen.Add(1)
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
			Header: http.Header{"Content-Type": {"application/json"}}, Body: http.NoBody, Request: r}, nil
	}
	return f.base.RoundTrip(r)
}

// TestFailedOnChangeStepIsFinishedLater: when the stack or delete call fails, the new file is
// recorded but the address stays unfinished: the next plan shows a finish, and the next apply
// runs the step (issue 15, case 1).
func TestFailedOnChangeStepIsFinishedLater(t *testing.T) {
	for _, mode := range []manifest.OnChange{manifest.OnChangeReplace, manifest.OnChangeVersion} {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			const addr = "/Grades/G01.mov"
			h.writeFile("G01.mov", 3*64<<10, 1)
			files := h.desired(spec{local: "G01.mov", to: "/Grades", onChange: mode})
			if _, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			old := h.loadState().Entries[addr].FileID

			h.writeFile("G01.mov", 4*64<<10, 2)
			files = h.desired(spec{local: "G01.mov", to: "/Grades", onChange: mode})
			p := h.plan(files, false)
			fault := &refusing{base: emutest.Bearer{Token: h.seed.Token}, refuse: func(r *http.Request) bool {
				return r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/files/"+old) ||
					r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/version_stacks")
			}}
			fault.on.Store(true)
			good := h.client
			h.client = emutest.NewClientWith(t, h.env.URL, &http.Client{Transport: fault}, testRetry)
			res, err := h.apply(context.Background(), p, files, apply.Options{})
			h.client = good
			if !errors.Is(err, apply.ErrFailed) || res.Failed != 1 || fault.seen.Load() == 0 {
				t.Fatalf("apply with the step failing: %v (%d failed, %d refused calls), want one failure", err, res.Failed, fault.seen.Load())
			}
			e := h.loadState().Entries[addr]
			if e.Status != state.StatusComplete || e.Followup == nil || e.Followup.FileID != old {
				t.Fatalf("entry %+v, want the new file complete with its step still owed", e)
			}

			p = h.plan(files, false)
			want := plan.ReasonNotStacked
			if mode == manifest.OnChangeReplace {
				want = plan.ReasonNotDeleted
			}
			if len(p.Changes) != 1 || p.Changes[0].Action != plan.Finish || p.Changes[0].Reason != want || p.Summary().Bytes != 0 {
				t.Fatalf("plan after the failed step = %+v, want one finish (%s) uploading nothing", p.Changes, want)
			}
			if _, err := h.apply(context.Background(), p, files, apply.Options{}); err != nil {
				t.Fatalf("finishing apply: %v", err)
			}
			onChangeDone(t, h, addr, old, mode)
			if again := h.plan(files, false); len(again.Changes) != 0 {
				t.Errorf("plan after finishing has changes: %+v", again.Changes)
			}
		})
	}
}
