//go:build unix

package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesSpecialFiles: a state file or journal that is not a regular file (a FIFO,
// which would block the open for ever, or a link to /dev/zero, which would be read for ever:
// a checkout can hold either) is refused at once with a message naming it.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	for _, c := range []struct {
		name    string
		journal bool
		make    func(path string) error
	}{
		{"state FIFO", false, func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"state link to /dev/zero", false, func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"journal FIFO", true, func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"journal link to /dev/zero", true, func(p string) error { return os.Symlink("/dev/zero", p) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := NewFile(filepath.Join(t.TempDir(), "fiosync.state.json"))
			path := f.path
			if c.journal {
				saveNew(t, f)
				f = NewFile(f.path)
				path = f.JournalPath()
			}
			if err := c.make(path); err != nil {
				t.Skip(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := f.Load(context.Background())
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), filepath.Base(path)) {
					t.Fatalf("Load: %v, want it refused as not a regular file, named", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Load still reading after 5 s")
			}
		})
	}
}
