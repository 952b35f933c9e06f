package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestReadmeTour runs the README's five-minute tour exactly as written: its sh blocks, in
// order, in bash, with fiosync on PATH (this test binary, as testscript installs it) and
// nothing else set up: the tour starts its own emulator and sources the settings it writes.
// The lines the tour's comments promise must be in the output, so the README shows what
// fiosync prints.
func TestReadmeTour(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("the tour is a bash session; no /bin/bash here")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tour := section(t, string(readme), "## A five-minute tour")
	var script strings.Builder
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(tour, -1) {
		script.WriteString(m[1])
	}
	if script.Len() == 0 {
		t.Fatal("the tour has no sh blocks")
	}
	// What the tour's comments say fiosync prints; each must be in the README and the output.
	promised := []string{
		"fiosync.yaml: 1 upload, 2 files, 16 B",
		"+ /day01/A001.mov  local  8 B",
		"No changes. 2 files up to date.",
		"~ /day01/A001.mov  local  18 B  content changed (version)",
		"Note: 1 file was deleted on disk, and the manifest still lists it;",
		"- /day01/A002.mov  prune",
		"Apply complete: 1 deleted.",
	}
	var checks strings.Builder
	for _, p := range promised {
		if !strings.Contains(tour, p) {
			t.Errorf("the tour no longer promises %q in a comment; update this test with it", p)
		}
		checks.WriteString("stdout '" + regexp.QuoteMeta(p) + "'\n")
	}

	dir := t.TempDir()
	// The tour stops its emulator at the end; should a step fail first, the trap stops it,
	// so that its open stdout does not keep the test waiting.
	txt := "# The README's tour, run as written.\n" +
		"exec bash -eu tour.sh\n" + checks.String() + "! stderr .\n" +
		"-- tour.sh --\n" + "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script.String()
	if err := os.WriteFile(filepath.Join(dir, "tour.txtar"), []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			for _, k := range []string{"FRAMEIO_API_URL", "FRAMEIO_TOKEN", "FRAMEIO_CLIENT_ID", "FRAMEIO_CLIENT_SECRET", "FIOSYNC_STATE"} {
				env.Setenv(k, "")
			}
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/home/.local/state")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/home/.config")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
	})
}

// section returns the part of a markdown document from the heading to the next heading of
// the same level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	rest := doc[i+1+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
