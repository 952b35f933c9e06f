package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/internal/emutest"
)

// TestSavedPlanOtherAddresses saves a plan, lets another apply deliver other addresses (the
// state's serial moves on, and a folder the saved plan was to create appears), and applies
// the saved plan: it goes through, using that folder. Then a plan saved before another apply
// changed one of its own addresses is refused, naming the address, with nothing sent. Both
// for the file backend and for PostgreSQL. It sets the process environment, so it does not
// run in parallel.
func TestSavedPlanOtherAddresses(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		testSavedPlanOtherAddresses(t, cliEnv(t), nil)
	})
	t.Run("postgres", func(t *testing.T) {
		h := newPGHarness(t)
		testSavedPlanOtherAddresses(t, h.emu, []string{"--state", h.url, "--state-name", "saved"})
	})
}

func testSavedPlanOtherAddresses(t *testing.T, emu *emutest.Env, stateArgs []string) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, content string) { writeFile(t, dir, name, content) }
	write("fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /\n    on_change: version\n")
	write("media/day01/A001.mov", "clip one")
	write("media/day01/B001.mov", "clip two")
	mpath := filepath.Join(dir, "fiosync.yaml")
	fiosync := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(append(args, "-f", mpath), stateArgs...)
		code := run(ctx, args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		if code != want {
			t.Fatalf("fiosync %s: exit %d, want %d:\n%s%s", strings.Join(args[:2], " "), code, want, &out, &errb)
		}
		return out.String() + errb.String()
	}
	fiosync(exitOK, "apply", "--auto-approve")

	// The saved plan updates A001 and creates C001 in a new folder /day02.
	write("media/day01/A001.mov", "clip one, graded")
	write("media/day01/B001.mov", "clip two, graded")
	write("media/day02/C001.mov", "clip three")
	write("media/day02/D001.mov", "clip four")
	saved := filepath.Join(dir, "a-and-c.plan")
	fiosync(exitOK, "plan", "--target", "/day01/A001.mov", "--target", "/day02/C001.mov", "--out", saved)
	// Another apply delivers B001 and D001, creating /day02.
	fiosync(exitOK, "apply", "--auto-approve", "--target", "/day01/B001.mov", "--target", "/day02/D001.mov")
	out := fiosync(exitOK, "apply", saved)
	if !strings.Contains(out, "Apply complete: 2 uploaded.") {
		t.Errorf("apply of the saved plan:\n%s", out)
	}
	fiosync(exitOK, "plan", "--detailed-exitcode")
	if day02 := foldersNamed(t, emu, "day02"); day02 != 1 {
		t.Errorf("Frame.io has %d folders day02, want 1: the saved plan must use the one the other apply created", day02)
	}

	// A plan saved before another apply delivered its own address is refused.
	write("media/day01/A001.mov", "clip one, graded again")
	fiosync(exitOK, "plan", "--target", "/day01/A001.mov", "--out", saved)
	fiosync(exitOK, "apply", "--auto-approve", "--target", "/day01/A001.mov")
	before := emu.Emu.Stats()
	out = fiosync(exitError, "apply", saved)
	want := "plan is stale: /day01/A001.mov changed in the state since the plan was made (its entry is another now); run fiosync plan again"
	if !strings.Contains(out, want) {
		t.Errorf("apply of a plan whose address another apply delivered: want %q in:\n%s", want, out)
	}
	if after := emu.Emu.Stats(); after.FilesCreated != before.FilesCreated || after.BytesReceived != before.BytesReceived {
		t.Errorf("the refused plan sent something: files %d -> %d, bytes %d -> %d", before.FilesCreated, after.FilesCreated, before.BytesReceived, after.BytesReceived)
	}
}
