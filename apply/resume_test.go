package apply_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
)

// TestResumeAtThePart: an upload interrupted at about 60% resumes with the parts Frame.io did
// not accept: the next apply sends at most 45% of the file plus the parts that were in flight,
// and the content is right. With the part URLs expired it starts again cleanly (issue 15,
// case 7).
func TestResumeAtThePart(t *testing.T) {
	const (
		partSize = 64 << 10
		parts    = 40
		size     = parts * partSize
		inFlight = 4 // PartConcurrency below
	)
	for _, expire := range []bool{false, true} {
		name := "journal"
		if expire {
			name = "urls expired"
		}
		t.Run(name, func(t *testing.T) {
			clk := &clock{now: time.Now()}
			opts := testEmulatorOptions()
			opts.PartSize = partSize
			opts.Latency = time.Millisecond
			opts.Now = clk.Now
			h := newHarness(t, opts)
			journal := partjournal.Open(filepath.Join(t.TempDir(), "parts"))
			h.parts, h.now = journal, clk.Now
			h.writeFile("A001.mov", size, 1)
			files := h.desired(spec{local: "A001.mov", to: "/Day"})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			rec := &recorder{on: func(e apply.Event) {
				if e.Type == apply.EventProgress && e.Bytes >= size*6/10 {
					once.Do(cancel)
				}
			}}
			aopts := apply.Options{Observer: rec, Parts: journal, PartConcurrency: inFlight, Now: clk.Now}
			if _, err := h.apply(ctx, h.plan(files, false), files, aopts); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted apply: %v, want context.Canceled", err)
			}
			first := h.emu.Stats().BytesReceived
			if first < size*6/10 || first == size {
				t.Fatalf("the interrupted run sent %d of %d bytes; want it cut at about 60%%", first, size)
			}
			if expire {
				clk.Add(25 * time.Hour) // past the emulator's 24 h URLs
			}
			p := h.plan(files, false)
			want := "resume upload (" // N of 40 parts sent
			if expire {
				want = plan.ReasonRestart
			}
			if len(p.Changes) != 1 || p.Changes[0].Action != plan.Create || !strings.HasPrefix(p.Changes[0].Reason, want) {
				t.Fatalf("plan after the interruption = %+v, want one %q", p.Changes, want)
			}
			t.Logf("plan says %q", p.Changes[0].Reason)
			aopts.Observer = nil
			res, err := h.apply(context.Background(), p, files, aopts)
			if err != nil {
				t.Fatalf("resumed apply: %v", err)
			}
			second := h.emu.Stats().BytesReceived - first
			h.verify(files, nil)
			if got := h.live(); got != 1 {
				t.Errorf("files in Frame.io = %d, want 1", got)
			}
			if expire {
				// The first run's last parts may be counted a moment after it returned, so
				// "second" can be a little more than the file; it may not be less.
				if second < size {
					t.Errorf("after the URLs expired the next apply sent %d bytes, want the whole file (%d)", second, size)
				}
			} else if limit := int64(size*45/100 + inFlight*partSize); second > limit || res.Bytes > limit {
				t.Errorf("the resumed apply sent %d bytes (it reports %d), want at most %d (45%% of %d plus %d parts in flight)",
					second, res.Bytes, limit, size, inFlight)
			}
			t.Logf("interrupted run sent %d bytes, the next %d (file %d)", first, second, size)
			if again := h.plan(files, false); len(again.Changes) != 0 {
				t.Errorf("plan after the resume has changes: %+v", again.Changes)
			}
		})
	}
}
