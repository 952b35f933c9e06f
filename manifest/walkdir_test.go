//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The walk lists and stats directories itself (on Linux without os.ReadDir
// and os.Lstat); these tests hold it to what the os package answers.

func TestDirEntries(t *testing.T) {
	root := tree(t, map[string]string{
		"d/b.mov": "bb", "d/a.mov": "a", "d/C.mov": "c", "d/sub/x": "x", "d/link": "-> a.mov",
		"d/caf\u00e9": "n", "d/empty/": "",
	})
	path := filepath.Join(root, "d")
	want, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDir(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	got, err := d.entries(make([]byte, 64)) // small: many reads, records split across them
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := make([]dirent, len(want))
	for i, e := range want {
		wantEntries[i] = dirent{name: e.Name(), typ: e.Type()}
	}
	if diff := cmp.Diff(wantEntries, got, cmp.AllowUnexported(dirent{})); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestDirLstat(t *testing.T) {
	root := tree(t, map[string]string{"a.mov": "some content", "sub/": "", "link": "-> a.mov"})
	if err := os.Chmod(filepath.Join(root, "a.mov"), 0o640|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	d, err := openDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()

	// facts is what the walk and the state read from a FileInfo.
	type facts struct {
		Name    string
		Size    int64
		Mode    fs.FileMode
		IsDir   bool
		ModTime string
		Dev     uint64
		Ino     uint64
	}
	factsOf := func(fi fs.FileInfo) facts {
		f := facts{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), IsDir: fi.IsDir(), ModTime: fi.ModTime().String()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			f.Dev, f.Ino = uint64(st.Dev), st.Ino
		}
		return f
	}
	for _, name := range []string{"a.mov", "sub", "link"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.Lstat(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.lstat(name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(factsOf(want), factsOf(got)); diff != "" {
				t.Errorf("lstat (-want +got):\n%s", diff)
			}
			if _, ok := got.Sys().(*syscall.Stat_t); !ok {
				t.Errorf("Sys() = %T, want *syscall.Stat_t", got.Sys())
			}
		})
	}

	t.Run("vanished", func(t *testing.T) {
		// A file removed between the listing and its stat fails as
		// os.Lstat would, so the walk's message is unchanged.
		_, want := os.Lstat(filepath.Join(root, "gone.mov"))
		_, got := d.lstat("gone.mov")
		if !errors.Is(got, fs.ErrNotExist) || reason(got) != reason(want) {
			t.Errorf("lstat of a vanished file: %v, want %v (reason %q)", got, want, reason(want))
		}
	})
}
