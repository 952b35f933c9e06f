//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
)

// The walk lists and stats directories itself (on Linux without os.ReadDir
// and os.Lstat); these tests hold it to what the os package answers.

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

func factsOf(fi fs.FileInfo) facts {
	f := facts{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), IsDir: fi.IsDir(), ModTime: fi.ModTime().String()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.Dev, f.Ino = uint64(st.Dev), st.Ino
	}
	return f
}

// TestExpandInfo checks that every Desired's identity, from the stat the walk took, is
// the one a stat of the file gives.
func TestExpandInfo(t *testing.T) {
	dir := tree(t, map[string]string{
		"m/a.mov": "a", "m/day1/b.mov": "bb", "m/day1/cam/c.mov": "ccc", "m/link.mov": "-> day1/b.mov", "m/dirlink": "-> day1/cam",
	})
	x, err := expandIn(t, dir, "  - local: m\n    to: /m\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Files) != 5 {
		t.Fatalf("expanded %d files, want 5", len(x.Files))
	}
	for _, d := range x.Files {
		t.Run(d.Source.Path, func(t *testing.T) {
			// A symlink's identity is its target's.
			real, err := filepath.EvalSymlinks(d.Path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.Stat(real)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(source.OfFile(d.Source.Path, want), d.Source); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if d.Source.Inode == 0 || d.Source.Ctime.IsZero() {
				t.Errorf("identity %+v lacks the inode and ctime", d.Source)
			}
		})
	}
}

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
	got, err := d.entries(make([]byte, 64)) // small: many reads of a few records each
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

// TestExpandInfoLargeDir is TestExpandInfo over directories large enough that their files
// are stat'ed from several goroutines ahead of the walk (prestat): each file must still get
// its own stat. The sizes differ, so a stat handed to the wrong entry shows. "m/e" is walked
// before the files of "m" that prestat took, "m/g" after "m/e" at the same depth.
func TestExpandInfoLargeDir(t *testing.T) {
	files := map[string]string{"m/sub/x.mov": "x", "m/f150.link": "-> f007.mov"}
	for i := range 4 * minStatBatch {
		files[fmt.Sprintf("m/f%03d.mov", i)] = strings.Repeat("z", i+1)
		files[fmt.Sprintf("m/e/f%03d.mov", i)] = strings.Repeat("y", 1000+i)
		if i < 2*minStatBatch {
			files[fmt.Sprintf("m/g/f%03d.mov", i)] = strings.Repeat("x", 2000+i)
		}
	}
	dir := tree(t, files)
	x, err := expandIn(t, dir, "  - local: m\n    to: /m\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Files) != len(files) {
		t.Fatalf("expanded %d files, want %d", len(x.Files), len(files))
	}
	// Excludes leave files out after prestat took them: the rest keep their own stats.
	excluded, err := expandIn(t, dir, "  - local: m\n    to: /m\n    exclude: [\"**/f0[0-4]*.mov\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(files) - 3*50; len(excluded.Files) != want {
		t.Fatalf("expanded %d files with the exclude, want %d", len(excluded.Files), want)
	}
	for _, d := range append(x.Files, excluded.Files...) {
		real, err := filepath.EvalSymlinks(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.Stat(real)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(source.OfFile(d.Source.Path, want), d.Source); diff != "" {
			t.Errorf("%s: identity (-want +got):\n%s", d.Source.Path, diff)
		}
	}
}

// TestDirPrestat holds prestat to what lstat answers entry by entry, a file that vanished
// since the listing included, and to leaving directories and symlinks alone.
func TestDirPrestat(t *testing.T) {
	files := map[string]string{"sub/": "", "link": "-> f000"}
	for i := range 2 * minStatBatch {
		files[fmt.Sprintf("f%03d", i)] = strings.Repeat("z", i)
	}
	root := tree(t, files)
	d, err := openDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	entries, err := d.entries(make([]byte, 4096))
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries, dirent{name: "gone"}) // listed, then removed
	got := d.prestat(entries, nil)
	if runtime.GOMAXPROCS(0) < 2 {
		if got != nil {
			t.Fatal("prestat on one core: want nil, the walk's own stats")
		}
		return
	}
	if len(got) != len(entries) {
		t.Fatalf("prestat returned %d results for %d entries", len(got), len(entries))
	}
	for i, e := range entries {
		switch {
		case e.name == "gone":
			if !errors.Is(got[i].err, fs.ErrNotExist) {
				t.Errorf("gone: err %v, want not exist", got[i].err)
			}
		case !e.typ.IsRegular():
			if got[i] != (statted{}) {
				t.Errorf("%s (%v): stat'ed, want left to the walk", e.name, e.typ)
			}
		default:
			want, err := os.Lstat(filepath.Join(root, e.name))
			if err != nil || got[i].err != nil {
				t.Fatalf("%s: lstat %v, prestat %v", e.name, err, got[i].err)
			}
			if diff := cmp.Diff(factsOf(want), factsOf(got[i].info)); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", e.name, diff)
			}
		}
	}
}

// TestExpandReadAhead walks a tree of many sibling directories, each read ahead of the walk
// while the one before it is walked (readAhead), and holds every file found to its own
// directory's listing and stat: a listing or stat taken for one directory and used for
// another would name files that are not there, or give them another's size.
func TestExpandReadAhead(t *testing.T) {
	files := map[string]string{}
	want := 0
	for d := range 40 {
		for f := range 10 + d%3*40 { // some directories above minStatBatch, some below
			files[fmt.Sprintf("m/d%02d/c%02d_%03d.mov", d, d, f)] = strings.Repeat("x", d*100+f+1)
			want++
		}
		for s := range 2 {
			files[fmt.Sprintf("m/d%02d/s%d/c%02d_%d.mov", d, s, d, s)] = strings.Repeat("y", d*10+s+1)
			want++
		}
		if d%10 == 0 {
			files[fmt.Sprintf("m/d%02d/cache/c%02d.tmp", d, d)] = "z" // excluded below
		}
	}
	dir := tree(t, files)
	for range 3 { // the goroutines reading ahead race the walk differently each time
		x, err := expandIn(t, dir, "  - local: m\n    to: /m\n    exclude: [\"**/cache/**\"]\n")
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Files) != want {
			t.Fatalf("expanded %d files, want %d", len(x.Files), want)
		}
		for _, d := range x.Files {
			fi, err := os.Lstat(d.Path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(source.OfFile(d.Source.Path, fi), d.Source); diff != "" {
				t.Errorf("%s: identity (-want +got):\n%s", d.Source.Path, diff)
			}
			if got := "/" + d.Source.Path; got != d.Address {
				t.Errorf("%s: address %s", d.Source.Path, d.Address)
			}
		}
	}
}
