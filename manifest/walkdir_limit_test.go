//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package manifest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExpandDeepTreeFewDescriptors: the walk keeps a directory open while it walks those
// below it, so a tree deeper than the process may open files must still expand, by path
// where no descriptor is left. The walk runs in a child process whose limit is lowered to
// 64, deeper than which the tree goes, so that the rest of the tests keep theirs.
func TestExpandDeepTreeFewDescriptors(t *testing.T) {
	if dir := os.Getenv("FIOSYNC_TEST_DEEP_TREE"); dir != "" {
		limit := syscall.Rlimit{Cur: 64, Max: 64}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
			t.Fatalf("lower the descriptor limit: %v", err)
		}
		x, err := expandIn(t, dir, "  - local: media\n    to: /M\n")
		if err != nil {
			t.Fatalf("expand a deep tree with 64 descriptors: %v", err)
		}
		if len(x.Files) != 200 {
			t.Fatalf("expanded %d files, want 200 (one per level)", len(x.Files))
		}
		return
	}

	dir := t.TempDir()
	deep := filepath.Join(dir, "media")
	for i := range 200 {
		deep = filepath.Join(deep, "d")
		if err := os.MkdirAll(deep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(deep, "f.mov"), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestExpandDeepTreeFewDescriptors$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FIOSYNC_TEST_DEEP_TREE="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("the child walk failed: %v\n%s", err, out)
	}
}
