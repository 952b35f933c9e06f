package state

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// countingOpen returns an open hook that counts the files opened and the
// Read calls made on them.
func countingOpen() (open func(string) (fs.File, error), opens, reads *atomic.Int64) {
	opens, reads = new(atomic.Int64), new(atomic.Int64)
	open = func(name string) (fs.File, error) {
		opens.Add(1)
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		return countingFile{f, reads}, nil
	}
	return open, opens, reads
}

type countingFile struct {
	*os.File
	reads *atomic.Int64
}

func (c countingFile) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.File.Read(p)
}

// writeTree creates n small files and returns items for them.
func writeTree(t testing.TB, n, size int) []IdentifyItem {
	t.Helper()
	dir := t.TempDir()
	items := make([]IdentifyItem, n)
	for i := range items {
		rel := fmt.Sprintf("d%02d/f%05d.bin", i%16, i)
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if i < 16 {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		data := []byte(strings.Repeat(fmt.Sprintf("%08d", i), size/8+1)[:size])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		items[i] = IdentifyItem{Path: path, Rel: rel}
	}
	return items
}

// secondPass returns items for a new run that knows the sources of the first.
func secondPass(first []IdentifyItem) []IdentifyItem {
	next := make([]IdentifyItem, len(first))
	for i, it := range first {
		prev := it.Source
		next[i] = IdentifyItem{Path: it.Path, Rel: it.Rel, Prev: &prev}
	}
	return next
}

func TestIdentifyUnchangedTreeReadsNothing(t *testing.T) {
	ctx := context.Background()
	const n = 10000
	items := writeTree(t, n, 64)

	open, opens, _ := countingOpen()
	if err := Identify(ctx, items, IdentifyOptions{Parallel: 4, open: open}); err != nil {
		t.Fatal(err)
	}
	if got := opens.Load(); got != n {
		t.Errorf("first pass opened %d files, want %d", got, n)
	}
	for _, it := range items[:3] {
		want, _, err := HashFile(it.Path)
		if err != nil {
			t.Fatal(err)
		}
		if it.Source.Hash != want || !it.Hashed || it.Source.Size != 64 || it.Source.Path != it.Rel {
			t.Errorf("item %s: source %+v hashed %v, want hash %v", it.Rel, it.Source, it.Hashed, want)
		}
	}

	next := secondPass(items)
	open, opens, reads := countingOpen()
	if err := Identify(ctx, next, IdentifyOptions{Parallel: 4, open: open}); err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 0 || reads.Load() != 0 {
		t.Errorf("second pass over an unchanged tree opened %d files and read %d times, want none", opens.Load(), reads.Load())
	}
	for i := range next {
		if next[i].Hashed || next[i].Source != items[i].Source {
			t.Fatalf("item %s: second pass source %+v (hashed %v), want the first pass's %+v", next[i].Rel, next[i].Source, next[i].Hashed, items[i].Source)
		}
	}
}

func TestIdentifyNoticesChanges(t *testing.T) {
	ctx := context.Background()
	items := writeTree(t, 4, 100)
	if err := Identify(ctx, items, IdentifyOptions{}); err != nil {
		t.Fatal(err)
	}

	// 0: unchanged. 1: appended to. 2: rewritten with the same size and its
	// old mtime put back; only ctime (and the content) tell. 3: replaced by
	// another file with the same size and mtime (new inode).
	if err := os.WriteFile(items[1].Path, []byte(strings.Repeat("x", 101)), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := items[2].Source.ModTime
	if err := os.WriteFile(items[2].Path, []byte(strings.Repeat("y", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(items[2].Path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	replacement := items[3].Path + ".new"
	if err := os.WriteFile(replacement, []byte(strings.Repeat("z", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(replacement, items[3].Source.ModTime, items[3].Source.ModTime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(replacement, items[3].Path); err != nil {
		t.Fatal(err)
	}

	next := secondPass(items)
	open, opens, _ := countingOpen()
	if err := Identify(ctx, next, IdentifyOptions{Parallel: 2, open: open}); err != nil {
		t.Fatal(err)
	}
	var hashed []bool
	for _, it := range next {
		hashed = append(hashed, it.Hashed)
	}
	if diff := cmp.Diff([]bool{false, true, true, true}, hashed); diff != "" {
		t.Errorf("which items were hashed (-want +got):\n%s", diff)
	}
	if opens.Load() != 3 {
		t.Errorf("opened %d files, want 3", opens.Load())
	}
	for i := 1; i < 4; i++ {
		if next[i].Source.Hash == items[i].Source.Hash {
			t.Errorf("item %d: hash unchanged after its content changed", i)
		}
	}
}

func TestIdentifySkipNew(t *testing.T) {
	ctx := context.Background()
	items := writeTree(t, 3, 10)
	open, opens, _ := countingOpen()
	if err := Identify(ctx, items, IdentifyOptions{SkipNew: true, open: open}); err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 0 {
		t.Errorf("opened %d new files with SkipNew, want none", opens.Load())
	}
	for _, it := range items {
		if it.Hashed || !it.Source.Hash.IsZero() || it.Source.Size != 10 || it.Source.Kind != KindLocal || it.Source.ModTime.IsZero() {
			t.Errorf("skipped item %s: source %+v hashed %v, want stat fields without a hash", it.Rel, it.Source, it.Hashed)
		}
	}
}

func TestIdentifyErrors(t *testing.T) {
	ctx := context.Background()
	items := writeTree(t, 2, 10)
	missing := IdentifyItem{Path: filepath.Join(t.TempDir(), "gone.mov"), Rel: "gone.mov"}
	err := Identify(ctx, append(items, missing), IdentifyOptions{})
	if err == nil || !strings.Contains(err.Error(), `identify "`+missing.Path+`"`) {
		t.Errorf("Identify with a missing file: error %v, want one naming it", err)
	}

	dir := IdentifyItem{Path: t.TempDir(), Rel: "dir"}
	if err := Identify(ctx, []IdentifyItem{dir}, IdentifyOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Identify of a directory: error %v, want not a regular file", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Identify(cctx, writeTree(t, 2, 10), IdentifyOptions{}); err == nil {
		t.Error("Identify with a cancelled context succeeded")
	}
}

func TestSourceMatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.mov")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	base := LocalSource("a.mov", fi, HashURL("abc"))
	tests := []struct {
		name   string
		change func(*Source)
		want   bool
	}{
		{"same", func(*Source) {}, true},
		{"size", func(s *Source) { s.Size++ }, false},
		{"mtime", func(s *Source) { s.ModTime = s.ModTime.Add(time.Nanosecond) }, false},
		{"inode", func(s *Source) { s.Inode++ }, base.Inode == 0},
		{"ctime", func(s *Source) { s.Ctime = s.Ctime.Add(time.Second) }, base.Ctime.IsZero()},
		{"no hash", func(s *Source) { s.Hash = Digest{} }, false},
		{"remote", func(s *Source) { s.Kind = KindRemote }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.change(&s)
			if got := s.Matches(fi); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if base.Matches(nil) {
		t.Error("Matches(nil) = true")
	}
}
