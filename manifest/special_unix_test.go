//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package manifest

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandSkipsSpecialFiles(t *testing.T) {
	dir := tree(t, map[string]string{"m/a.mov": "1", "m/fifo-link": "-> pipe"})
	if err := syscall.Mkfifo(filepath.Join(dir, "m", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Socket paths are limited to about 100 bytes, so listen from inside
	// the directory with a relative name.
	t.Chdir(filepath.Join(dir, "m"))
	l, err := net.Listen("unix", "s.sock")
	if err != nil {
		t.Skipf("cannot create a unix socket here: %v", err)
	}
	defer l.Close()

	x, err := expandIn(t, dir, "  - local: m\n    to: /m\n")
	want := []string{
		"/m/a.mov <- m/a.mov",
		`warning: fiosync.yaml:5:12: uploads[0].local: skipped FIFO "m/fifo-link"`,
		`warning: fiosync.yaml:5:12: uploads[0].local: skipped FIFO "m/pipe"`,
		`warning: fiosync.yaml:5:12: uploads[0].local: skipped socket "m/s.sock"`,
	}
	if diff := cmp.Diff(want, summarize(dir, x, err)); diff != "" {
		t.Errorf("expansion (-want +got):\n%s", diff)
	}

	// Named on its own, a FIFO is not something to upload at all.
	x, err = expandIn(t, dir, "  - local: m/pipe\n    to: /m\n")
	want = []string{`fiosync.yaml:5:12: uploads[0].local: "m/pipe" is a FIFO, not a file or directory`}
	if diff := cmp.Diff(want, summarize(dir, x, err)); diff != "" {
		t.Errorf("expansion (-want +got):\n%s", diff)
	}
}

func TestExpandUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	dir := tree(t, map[string]string{"m/a.mov": "1", "m/locked.mov": "2", "m/closed/b.mov": "3"})
	for _, p := range []string{"m/locked.mov", "m/closed"} {
		if err := os.Chmod(filepath.Join(dir, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "m/closed"), 0o755) })
	x, err := expandIn(t, dir, "  - local: m\n    to: /m\n")
	want := []string{
		`fiosync.yaml:5:12: uploads[0].local: cannot read directory "m/closed": permission denied`,
		`fiosync.yaml:5:12: uploads[0].local: cannot read "m/locked.mov": permission denied`,
	}
	if diff := cmp.Diff(want, summarize(dir, x, err)); diff != "" {
		t.Errorf("expansion (-want +got):\n%s", diff)
	}
}

func TestExpandCapsReports(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	files := map[string]string{}
	for i := range 15 {
		files[filepath.Join("m", string(rune('a'+i))+".mov")] = "x"
	}
	dir := tree(t, files)
	for i := range 15 {
		if err := os.Chmod(filepath.Join(dir, "m", string(rune('a'+i))+".mov"), 0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := expandIn(t, dir, "  - local: m\n    to: /m\n")
	got := summarize(dir, nil, err)
	if len(got) != 11 || got[10] != "fiosync.yaml:5:12: uploads[0].local: and 5 more problems like these" {
		t.Errorf("got %d lines, want 10 problems and a count:\n%q", len(got), got)
	}
}
