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
			pausedGC := debug.SetGCPercent(-1)
			pausedLimit := debug.SetMemoryLimit(-1)
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
			if pausedGC != -1 || pausedLimit != min(limit, 1<<30) {
				t.Errorf("while the session was open: GOGC %d, memory limit %d; want off and %d", pausedGC, pausedLimit, min(limit, 1<<30))
			}
			if gotGC != 77 || gotLimit != limit {
				t.Errorf("after the session (plan made: %v): GOGC %d, memory limit %d; want 77 and %d as before", makePlan, gotGC, gotLimit, limit)
			}
		}
	}
}
