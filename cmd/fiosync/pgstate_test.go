package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state/pgstate"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// pgHarness runs fiosync in-process against an emulator, with the state in PostgreSQL. It
// sets the process environment, so tests using it cannot run in parallel.
type pgHarness struct {
	t   *testing.T
	url string // the state URL, with a password that must never be printed
	emu *emutest.Env
}

const pgPassword = "not-shown-anywhere"

func newPGHarness(t *testing.T) *pgHarness {
	t.Helper()
	url := pgtest.URL(t)
	// The test server trusts loopback connections, so any password works; it is there to
	// prove that none is printed.
	url = strings.Replace(url, "@", ":"+pgPassword+"@", 1)

	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.PartSize = 64 << 10
	e := emutest.Start(t, o)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("FRAMEIO_API_URL", e.URL)
	t.Setenv("FRAMEIO_IMS_URL", e.URL)
	t.Setenv("FRAMEIO_TOKEN", e.Seed.Token)
	t.Setenv("FRAMEIO_ACCOUNT_ID", e.Seed.AccountID)
	t.Setenv("NO_COLOR", "1")
	for _, k := range []string{"FRAMEIO_CLIENT_ID", "FRAMEIO_CLIENT_SECRET", "FRAMEIO_SCOPE", "FIOSYNC_STATE"} {
		t.Setenv(k, "")
	}
	return &pgHarness{t: t, url: url, emu: e}
}

// run runs fiosync with args and returns what it printed and its exit code. Nothing printed
// may contain the database password.
func (h *pgHarness) run(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	if strings.Contains(out.String()+errb.String(), pgPassword) {
		h.t.Errorf("fiosync %s printed the database password:\n%s%s", strings.Join(args, " "), &out, &errb)
	}
	return out.String(), errb.String(), code
}

// must runs fiosync and fails the test unless it exits with want.
func (h *pgHarness) must(want int, args ...string) string {
	h.t.Helper()
	out, errOut, code := h.run(args...)
	if code != want {
		h.t.Fatalf("fiosync %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// writeProject writes a manifest and its media under dir and returns the manifest's path.
func writeProject(t *testing.T, dir string) string {
	t.Helper()
	files := map[string]string{
		"fiosync.yaml":         "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /\n",
		"media/day01/A001.mov": "clip one\n",
		"media/day01/B001.mov": "clip two!\n",
		"media/day02/C001.mov": "clip three\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "fiosync.yaml")
}

// TestPostgresStateAcrossCheckouts applies with the state in PostgreSQL from one directory,
// then plans from a copy of the project at another path (a fresh CI checkout): the state is
// found under the default name, and there is nothing to do.
func TestPostgresStateAcrossCheckouts(t *testing.T) {
	h := newPGHarness(t)
	first := writeProject(t, t.TempDir())
	h.must(exitOK, "apply", "-f", first, "--state", h.url, "--auto-approve")
	if _, err := os.Stat(filepath.Join(filepath.Dir(first), "fiosync.state.json")); err == nil {
		t.Error("apply with a postgres:// state wrote a state file")
	}

	second := writeProject(t, t.TempDir())
	out := h.must(exitOK, "plan", "-f", second, "--state", h.url, "--detailed-exitcode")
	if !strings.HasPrefix(out, "Target: ") || !strings.Contains(out, "\nNo changes.") {
		t.Errorf("plan from the second checkout:\n%s", out)
	}
	// The default name is the target and the manifest's file name (it lies outside the
	// working directory). FIOSYNC_STATE works as the flag does, and another name is another
	// state, with everything still to upload.
	t.Setenv("FIOSYNC_STATE", h.url)
	list := h.must(exitOK, "state", "list", "-f", second, "--state-name", "Sandbox:fiosync.yaml")
	want := []string{"/day01/A001.mov", "/day01/B001.mov", "/day02/C001.mov"}
	var got []string
	for line := range strings.Lines(list) {
		got = append(got, strings.Fields(line)[0])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state list addresses (-want +got):\n%s", diff)
	}
	h.must(exitChanges, "plan", "-f", second, "--state-name", "another", "--detailed-exitcode")
}

// TestStatePushPull moves a local state file into PostgreSQL and back out: byte for byte the
// same, serial included. Pushing refuses another lineage without --force.
func TestStatePushPull(t *testing.T) {
	h := newPGHarness(t)
	dir := t.TempDir()
	manifest := writeProject(t, dir)
	h.must(exitOK, "apply", "-f", manifest, "--auto-approve") // local state file
	local, err := os.ReadFile(filepath.Join(dir, "fiosync.state.json"))
	if err != nil {
		t.Fatal(err)
	}
	localState, err := statefile.Decode(local)
	if err != nil {
		t.Fatal(err)
	}

	pg := []string{"-f", manifest, "--state", h.url, "--state-name", "moved"}
	if _, stderr, code := h.run(append([]string{"state", "pull"}, pg...)...); code != exitError || !strings.Contains(stderr, "no state at postgres://") {
		t.Errorf("pull before push: exit %d, stderr %q", code, stderr)
	}
	out := h.must(exitOK, append([]string{"state", "push", filepath.Join(dir, "fiosync.state.json")}, pg...)...)
	if want := fmt.Sprintf("serial %d,", localState.Serial); !strings.Contains(out, want) {
		t.Errorf("push said %q, want the serial it kept (%s)", out, want)
	}
	pulled := h.must(exitOK, append([]string{"state", "pull"}, pg...)...)
	if diff := cmp.Diff(string(local), pulled); diff != "" {
		t.Errorf("pulled state differs from the pushed file (-want +got):\n%s", diff)
	}
	out = h.must(exitOK, append([]string{"state", "push", filepath.Join(dir, "fiosync.state.json")}, pg...)...)
	if !strings.Contains(out, "nothing to push") {
		t.Errorf("second push said %q, want nothing to push", out)
	}
	// The moved state serves plan: nothing to do.
	h.must(exitOK, append([]string{"plan", "--detailed-exitcode"}, pg...)...)

	// A state of another project (another lineage) is refused, unless forced.
	otherDir := t.TempDir()
	other := writeProject(t, otherDir)
	h.must(exitOK, "apply", "-f", other, "--auto-approve", "--allow-duplicates") // a second delivery, on purpose
	otherState := filepath.Join(otherDir, "fiosync.state.json")
	_, stderr, code := h.run(append([]string{"state", "push", otherState}, pg...)...)
	if code != exitError || !strings.Contains(stderr, "lineage") || !strings.Contains(stderr, "--force") {
		t.Errorf("push of another lineage: exit %d, stderr %q", code, stderr)
	}
	h.must(exitOK, append([]string{"state", "push", "--force", otherState}, pg...)...)
	forced, err := store.NewFile(otherState).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pulled = h.must(exitOK, append([]string{"state", "pull"}, pg...)...)
	got, err := statefile.Decode([]byte(pulled))
	if err != nil {
		t.Fatal(err)
	}
	// The serial moves past the replaced state's, so a writer holding that one fails.
	want := max(forced.Serial, localState.Serial+1)
	if got.Lineage != forced.Lineage || got.Serial != want {
		t.Errorf("after a forced push: lineage %s serial %d, want %s serial %d", got.Lineage, got.Serial, forced.Lineage, want)
	}
}

// TestClaimsShown: while a runner of a cooperative apply holds an address, plan marks its
// line with the runner and state list shows the claim; a state rm waits for the runner.
func TestClaimsShown(t *testing.T) {
	h := newPGHarness(t)
	manifest := writeProject(t, t.TempDir())
	h.must(exitOK, "apply", "-f", manifest, "--state", h.url, "--state-name", "shown", "--auto-approve")
	if err := os.WriteFile(filepath.Join(filepath.Dir(manifest), "media/day01/A001.mov"), []byte("clip one, again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := pgstate.New(h.url, "shown")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	r, err := b.Join(ctx, store.LockInfo{Operation: "apply"}, store.JoinOptions{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unlock()
	if ok, _, err := r.Claim(ctx, store.EntryKey("/day01/A001.mov")); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	who := r.Who().String()
	out := h.must(exitOK, "plan", "-f", manifest, "--state", h.url, "--state-name", "shown")
	if !strings.Contains(out, "/day01/A001.mov") || !strings.Contains(out, "(claimed by "+who+")") {
		t.Errorf("plan does not name the runner %q on the claimed line:\n%s", who, out)
	}
	list := h.must(exitOK, "state", "list", "-f", manifest, "--state", h.url, "--state-name", "shown")
	if !strings.Contains(list, "In progress (1 claim):") || !strings.Contains(list, "/day01/A001.mov  "+who) {
		t.Errorf("state list does not show the claim:\n%s", list)
	}
	_, errOut, code := h.run("state", "rm", "-f", manifest, "--state", h.url, "--state-name", "shown", "/day02/C001.mov")
	if code == exitOK || !strings.Contains(errOut, "locked by pid") {
		t.Errorf("state rm while a runner works: exit %d, %s; want refused naming the runner", code, errOut)
	}
}
