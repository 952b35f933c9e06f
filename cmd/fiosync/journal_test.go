package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// TestJournalLeftByCrash: an apply that uploaded a file and died before compacting leaves
// the file's entry in the journal only. Every state command sees it, the next plan folds it
// into the state file, and nothing is uploaded again. It sets the process environment, so it
// does not run in parallel.
func TestJournalLeftByCrash(t *testing.T) {
	cliEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "fiosync.yaml")
	writeFile(t, dir, "fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /Day\n")
	writeFile(t, dir, "media/a.mov", "aaa")
	writeFile(t, dir, "media/b.mov", "bbbb")
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(ctx, append(args, "-f", manifestPath), stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String(), errb.String(), code
	}
	cliOK := func(args ...string) string {
		t.Helper()
		out, errs, code := cli(args...)
		if code != 0 {
			t.Fatalf("fiosync %v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	cliOK("apply", "--auto-approve")
	statePath := filepath.Join(dir, "fiosync.state.json")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}

	// The second apply delivers c.mov; then the state file is put back as it was and c.mov's
	// entry appended to the journal, as a run killed after c.mov and before its save leaves it.
	writeFile(t, dir, "media/c.mov", "ccccc")
	cliOK("apply", "--auto-approve")
	after, err := store.NewFile(statePath).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := after.Entries["/Day/c.mov"]
	if c == nil {
		t.Fatal("the second apply recorded no /Day/c.mov")
	}
	if err := os.WriteFile(statePath, before, 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := statefile.Decode(before)
	if err != nil {
		t.Fatal(err)
	}
	f := store.NewFile(statePath)
	base := &state.State{Version: old.Version, Serial: old.Serial, Lineage: old.Lineage, Target: old.Target, Manifest: old.Manifest}
	if err := f.Append(ctx, base, []state.Change{state.PutEntry("/Day/c.mov", c)}); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if out := cliOK("state", "list"); !strings.Contains(out, "/Day/c.mov") {
		t.Errorf("state list does not show the journaled entry:\n%s", out)
	}
	if out := cliOK("state", "show", "/Day/c.mov"); !strings.Contains(out, c.FileID) {
		t.Errorf("state show does not show the journaled entry:\n%s", out)
	}
	pulled, err := statefile.Decode([]byte(cliOK("state", "pull")))
	if err != nil || pulled.Entries["/Day/c.mov"] == nil || pulled.Serial != old.Serial {
		t.Fatalf("state pull: %v; want the journaled entry at serial %d", err, old.Serial)
	}

	// The next plan (it takes the lock) compacts, and has nothing to do.
	if out, errs, code := cli("plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the crash: exit %d, want 0 (no changes)\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(f.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal still there after plan: %v", err)
	}
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	compacted, err := statefile.Decode(data)
	if err != nil || compacted.Entries["/Day/c.mov"] == nil || compacted.Serial != old.Serial+1 {
		t.Fatalf("state file after plan: %v; want /Day/c.mov at serial %d", err, old.Serial+1)
	}
	if out := cliOK("apply", "--auto-approve"); !strings.Contains(out, "No changes") {
		t.Errorf("apply after the crash: %s, want no changes", out)
	}
}
