package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/progress"
	"github.com/fiosync/fiosync/plan"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestViewPeriodicLines drives the non-terminal view on a fake clock through a delivery of
// frames at 5 creates/s: a total line every 10 s with files, bytes, rates, elapsed and an ETA
// that counts the frames left, not the bytes (which are nearly all in), and a closing summary
// whose speed is over the transfer time.
func TestViewPeriodicLines(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	const frames, frame = 120, 4 << 10
	v := &applyView{out: &out, now: clock.now, createRate: func() float64 { return 5 }, uploads: frames + 1}

	v.Event(apply.Event{Type: apply.EventStart, Files: frames + 1, Total: 100<<20 + frames*frame})
	// A camera file first: 100 MiB in 2 s.
	v.Event(apply.Event{Type: apply.EventFileStart, Address: "/A001.mov", Total: 100 << 20})
	for i := 1; i <= 4; i++ {
		clock.advance(500 * time.Millisecond)
		v.Event(apply.Event{Type: apply.EventProgress, Address: "/A001.mov", Bytes: int64(i) * 25 << 20, Total: 100 << 20})
	}
	v.Event(apply.Event{Type: apply.EventFileDone, Address: "/A001.mov", Bytes: 100 << 20})
	// Then frames at 5 a second; the clock ticks every second as the real one does.
	for i := range frames {
		a := fmt.Sprintf("/VFX/shot010.%04d.exr", 1001+i)
		v.Event(apply.Event{Type: apply.EventFileStart, Address: a, Total: frame})
		clock.advance(200 * time.Millisecond)
		v.Event(apply.Event{Type: apply.EventProgress, Address: a, Bytes: frame, Total: frame})
		v.Event(apply.Event{Type: apply.EventFileDone, Address: a, Bytes: frame})
		if i%5 == 4 {
			v.tick()
		}
	}
	v.finish(&apply.Result{Done: frames + 1, Bytes: 100<<20 + frames*frame, Elapsed: clock.t.Sub(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) + 300*time.Millisecond}, nil)

	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(l, "  done ") {
			got = append(got, l)
		}
	}
	want := []string{
		"Applying 121 changes (100.5 MiB to upload).",
		"  ... 40/121 files, 100.2 MiB / 100.5 MiB, 4.0 files/s, 10 MiB/s, 10s elapsed, ETA 16s",
		"  ... 90/121 files, 100.4 MiB / 100.5 MiB, 4.5 files/s, 5 MiB/s, 20s elapsed, ETA 6s",
		// 26.3 s in all, 26 s of it transfer.
		"Apply complete: 121 uploaded. 100.5 MiB sent in 26s (3.9 MiB/s).",
		"",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output (-want +got):\n%s\nall of it:\n%s", diff, out.String())
	}
}

// TestViewInterrupted holds the closing words of an interrupted apply: what was done, what
// failed, what was in flight (named) and what never started, which add up to the plan.
func TestViewInterrupted(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v := &applyView{out: &out, now: clock.now, uploads: 6}
	v.Event(apply.Event{Type: apply.EventStart, Files: 6, Total: 600})
	for _, a := range []string{"/a", "/b", "/c"} {
		v.Event(apply.Event{Type: apply.EventFileStart, Address: a, Total: 100})
	}
	clock.advance(time.Second)
	v.Event(apply.Event{Type: apply.EventProgress, Address: "/a", Bytes: 100, Total: 100})
	v.Event(apply.Event{Type: apply.EventFileDone, Address: "/a", Bytes: 100})
	v.Event(apply.Event{Type: apply.EventFileFailed, Address: "/b", Error: "create: refused"})
	v.Event(apply.Event{Type: apply.EventFileSkipped, Address: "/c", Error: "interrupted"})
	v.finish(&apply.Result{Done: 1, Failed: 1, Skipped: 4, Bytes: 100, Elapsed: time.Second},
		fmt.Errorf("apply interrupted after 1 of 6 changes: %w", context.Canceled))
	want := `Applying 6 changes (600 B to upload).
  done    /a  100 B
  FAILED  /b: create: refused
  interrupted /c  (in flight; the next apply resumes it)
Apply interrupted: 1 uploaded, 1 failed, 1 interrupted, 3 not started. 100 B sent in 1s (100 B/s).
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestFrameBars holds that the live frame gives a bar to large files only, at most maxBars
// of them, oldest first, above the total line.
func TestFrameBars(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tr := progress.New(start, 12, 6*largeFile+6000)
	for i := range 6 {
		tr.Start(start, fmt.Sprintf("/A00%d.mov", i), largeFile)
		tr.Start(start, fmt.Sprintf("/frame%d.exr", i), 1000)
	}
	tr.Progress(start.Add(time.Second), "/A000.mov", largeFile/2)
	got := frameLines(tr.Snapshot(start.Add(2*time.Second)), "* ")
	want := []string{
		"  [##########----------] /A000.mov  32 MiB / 64 MiB",
		"  [--------------------] /A001.mov  0 B / 64 MiB",
		"  [--------------------] /A002.mov  0 B / 64 MiB",
		"  [--------------------] /A003.mov  0 B / 64 MiB",
		"* 0/12 files, 32 MiB / 384 MiB, 0.0 files/s, 16 MiB/s, 2s elapsed, ETA 22s",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frame (-want +got):\n%s", diff)
	}
}

// TestStepView holds how the long steps of a plan show: without a terminal, nothing for a
// step shorter than 10 s, then a line with the counts every 10 s; on a terminal, a spinner
// line once a step has lasted a second, redrawn in place and erased at the end.
func TestStepView(t *testing.T) {
	t.Run("no terminal", func(t *testing.T) {
		var out bytes.Buffer
		clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
		v := &stepView{w: &out, now: clock.now}
		v.report(plan.Step{Name: plan.StepHash, Total: 40, TotalBytes: 40 << 30})
		for i := 1; i <= 25; i++ {
			clock.advance(time.Second)
			v.report(plan.Step{Name: plan.StepHash, Done: i, Total: 40, Bytes: int64(i) << 30, TotalBytes: 40 << 30})
			v.tick()
		}
		v.report(plan.Step{Name: plan.StepRefresh})
		for i := 1; i <= 5; i++ {
			clock.advance(time.Second)
			v.report(plan.Step{Name: plan.StepRefresh, Done: i})
			v.tick()
		}
		v.finish()
		want := "... hashing local files: 10/40 files, 10 GiB / 40 GiB, 10s elapsed\n" +
			"... hashing local files: 20/40 files, 20 GiB / 40 GiB, 20s elapsed\n"
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("output (-want +got):\n%s", diff)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		var out bytes.Buffer
		clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
		v := &stepView{w: &out, now: clock.now, live: &liveFrame{w: &out, fd: -1}}
		v.report(plan.Step{Name: plan.StepRefresh})
		clock.advance(500 * time.Millisecond)
		v.tick()
		if out.Len() != 0 {
			t.Errorf("a step of half a second drew %q", out.String())
		}
		for i := 1; i <= 2; i++ {
			clock.advance(500 * time.Millisecond)
			v.report(plan.Step{Name: plan.StepRefresh, Done: i})
			v.tick()
		}
		v.finish()
		v.finish() // again: nothing more
		want := "\r\x1b[2K⠹ reading Frame.io: 1 listing or lookup answered, 1s elapsed\n" +
			"\r\x1b[2K\x1b[1A\x1b[2K⠸ reading Frame.io: 2 listings and lookups answered, 1.5s elapsed\n" +
			"\r\x1b[2K\x1b[1A\x1b[2K"
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("output (-want +got):\n%s", diff)
		}
	})
}

// TestViewSequenceRuns: frames of a sequence that finish one after another are one line of
// apply's log, with their count and size, as in the plan; a gap splits the ranges, another
// sequence or file ends the run, two frames are not a sequence, and a note keeps its line.
func TestViewSequenceRuns(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v := &applyView{out: &out, now: clock.now, uploads: -1}
	done := func(addr string, n int64, note string) {
		v.Event(apply.Event{Type: apply.EventFileStart, Address: addr, Total: n})
		v.Event(apply.Event{Type: apply.EventFileDone, Address: addr, Bytes: n, Note: note})
	}
	v.Event(apply.Event{Type: apply.EventStart, Files: 12, Total: 12 << 10})
	for _, f := range []int{1001, 1002, 1004, 1003, 1006, 1007} { // parallel uploads end out of order
		done(fmt.Sprintf("/VFX/shot010.%d.exr", f), 1<<10, "")
	}
	for f := 1; f <= 3; f++ {
		done(fmt.Sprintf("/VFX/shot020.%04d.exr", f), 1<<10, "")
	}
	done("/VFX/notes.txt", 1<<10, "")
	done("/Cards/A001.mov", 1<<10, "")
	done("/Cards/A002.mov", 1<<10, "")
	done("/Grades/G001.mov", 1<<10, "version stacked")
	v.finish(&apply.Result{Done: 12, Bytes: 12 << 10, Elapsed: time.Second}, nil)

	want := []string{
		"Applying 12 changes (12 KiB to upload).",
		"  done    /VFX/shot010.[1001-1004,1006-1007].exr  6 files  6 KiB",
		"  done    /VFX/shot020.[0001-0003].exr  3 files  3 KiB",
		"  done    /VFX/notes.txt  1 KiB",
		"  done    /Cards/A001.mov  1 KiB",
		"  done    /Cards/A002.mov  1 KiB",
		"  done    /Grades/G001.mov  1 KiB  (version stacked)",
	}
	got := strings.Split(out.String(), "\n")
	if len(got) < len(want) {
		t.Fatalf("output:\n%s", out.String())
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("log (-want +got):\n%s\nall of it:\n%s", diff, out.String())
	}
}
