package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestSessionPausesCollector: the collector is paused while a session reads and plans; once
// the plan is made, or the session closes without one, the process's own settings (GOGC,
// GOMEMLIMIT) are back, whatever they were.
func TestSessionPausesCollector(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "media", "a.mov"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "fiosync.yaml")
	if err := os.WriteFile(mpath, []byte("version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{64 << 20, 8 << 30} { // below and above the paused limit
		for _, makePlan := range []bool{true, false} {
			oldGC := debug.SetGCPercent(77)
			oldLimit := debug.SetMemoryLimit(limit)
			s, err := openSession(context.Background(), &manifestFlag{File: mpath}, &stateFlags{}, "plan", "", nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			openGC := debug.SetGCPercent(-1)
			openLimit := debug.SetMemoryLimit(-1)
			if makePlan {
				if _, err := s.plan(context.Background(), &Globals{}, planOptions{}, io.Discard); err != nil {
					t.Fatal(err)
				}
			}
			s.close()
			gotGC, gotLimit := debug.SetGCPercent(oldGC), debug.SetMemoryLimit(oldLimit)
			if len(s.files) != 1 {
				t.Errorf("read %d files, want 1", len(s.files))
			}
			// The limit after the read: at most the user's and the read's, at least the room.
			if want := min(limit, pausedLimit); openGC != -1 || openLimit > want || openLimit < min(want, afterRead) {
				t.Errorf("while the session was open: GOGC %d, memory limit %d; want off and at most %d", openGC, openLimit, want)
			}
			if gotGC != 77 || gotLimit != limit {
				t.Errorf("after the session (plan made: %v): GOGC %d, memory limit %d; want 77 and %d as before", makePlan, gotGC, gotLimit, limit)
			}
		}
	}
}

// TestPausedCollectorBoundsGarbage: with the collector paused after a read, garbage still does
// not grow the process much past what was in use plus afterRead: the memory limit makes the
// collector run for it (a first plan that hashes many new files makes a hasher and a file each).
func TestPausedCollectorBoundsGarbage(t *testing.T) {
	c := pauseCollector()
	defer c.resume()
	c.read()
	before := memoryInUse()
	var keep []byte
	for range 4 * afterRead / (1 << 20) { // four times the room, in 1 MiB pieces
		keep = make([]byte, 1<<20)
		keep[0] = 1
	}
	_ = keep
	if got, bound := memoryInUse(), before+afterRead+afterRead/2; got > bound {
		t.Errorf("after %d MiB of garbage: %d MiB in use, over the %d MiB the paused collector allows", 4*afterRead>>20, got>>20, bound>>20)
	}
}
