package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state/store"
)

// TestReadPausedRestoresCollector: the collector is paused for plan.Read only; afterwards the
// process's own settings (GOGC, GOMEMLIMIT) are back, whatever they were.
func TestReadPausedRestoresCollector(t *testing.T) {
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
	m, err := manifest.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{64 << 20, 8 << 30} { // below and above the paused limit
		oldGC := debug.SetGCPercent(77)
		oldLimit := debug.SetMemoryLimit(limit)
		exp, _, err := readPaused(context.Background(), m, store.NewFile(filepath.Join(dir, "fiosync.state.json")))
		gotGC, gotLimit := debug.SetGCPercent(oldGC), debug.SetMemoryLimit(oldLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(exp.Files) != 1 {
			t.Errorf("read %d files, want 1", len(exp.Files))
		}
		if gotGC != 77 || gotLimit != limit {
			t.Errorf("after readPaused: GOGC %d, memory limit %d; want 77 and %d as before", gotGC, gotLimit, limit)
		}
	}
}
