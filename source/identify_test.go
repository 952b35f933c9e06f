package source

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
func writeTree(t testing.TB, n, size int) []Item {
	t.Helper()
	dir := t.TempDir()
	items := make([]Item, n)
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
		items[i] = Item{Path: path, Rel: rel}
	}
	return items
}

// secondPass returns items for a new run that knows the sources of the first.
func secondPass(first []Item) []Item {
	next := make([]Item, len(first))
	for i, it := range first {
		prev := it.Identity
		next[i] = Item{Path: it.Path, Rel: it.Rel, Prev: &prev}
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
		if it.Identity.Hash != want || !it.Hashed || it.Identity.Size != 64 || it.Identity.Path != it.Rel {
			t.Errorf("item %s: source %+v hashed %v, want hash %v", it.Rel, it.Identity, it.Hashed, want)
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
		if next[i].Hashed || next[i].Identity != items[i].Identity {
			t.Fatalf("item %s: second pass source %+v (hashed %v), want the first pass's %+v", next[i].Rel, next[i].Identity, next[i].Hashed, items[i].Identity)
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
	mtime := items[2].Identity.ModTime
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
	if err := os.Chtimes(replacement, items[3].Identity.ModTime, items[3].Identity.ModTime); err != nil {
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
		if next[i].Identity.Hash == items[i].Identity.Hash {
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
		if it.Hashed || !it.Identity.Hash.IsZero() || it.Identity.Size != 10 || it.Identity.Kind != Local || it.Identity.ModTime.IsZero() {
			t.Errorf("skipped item %s: source %+v hashed %v, want stat fields without a hash", it.Rel, it.Identity, it.Hashed)
		}
	}
}

func TestIdentifyErrors(t *testing.T) {
	ctx := context.Background()
	items := writeTree(t, 2, 10)
	missing := Item{Path: filepath.Join(t.TempDir(), "gone.mov"), Rel: "gone.mov"}
	err := Identify(ctx, append(items, missing), IdentifyOptions{})
	if err == nil || !strings.Contains(err.Error(), `identify "`+missing.Path+`"`) {
		t.Errorf("Identify with a missing file: error %v, want one naming it", err)
	}

	dir := Item{Path: t.TempDir(), Rel: "dir"}
	if err := Identify(ctx, []Item{dir}, IdentifyOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Identify of a directory: error %v, want not a regular file", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Identify(cctx, writeTree(t, 2, 10), IdentifyOptions{}); err == nil {
		t.Error("Identify with a cancelled context succeeded")
	}
}

func TestUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.mov")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	now := OfFile("a.mov", fi)
	base := now
	base.Hash = HashURL("abc")
	tests := []struct {
		name   string
		change func(*Identity)
		want   bool
	}{
		{"same", func(*Identity) {}, true},
		{"size", func(s *Identity) { s.Size++ }, false},
		{"mtime", func(s *Identity) { s.ModTime = s.ModTime.Add(time.Nanosecond) }, false},
		{"inode", func(s *Identity) { s.Inode++ }, base.Inode == 0},
		{"ctime", func(s *Identity) { s.Ctime = s.Ctime.Add(time.Second) }, base.Ctime.IsZero()},
		{"remote", func(s *Identity) { s.Kind = Remote }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			was := base
			tt.change(&was)
			if got := Unchanged(was, now); got != tt.want {
				t.Errorf("Unchanged = %v, want %v", got, tt.want)
			}
			cur := now
			if got := Reuse(Full, &was, &cur); got != tt.want || (got && cur.Hash != base.Hash) {
				t.Errorf("Reuse = %v (hash %v), want %v", got, cur.Hash, tt.want)
			}
			if !tt.want && DescribeChange(was, now) == "" {
				t.Error("DescribeChange says nothing")
			}
		})
	}
	noHash := now
	if cur := now; Reuse(Full, &noHash, &cur) || Reuse(Full, nil, &cur) {
		t.Error("Reuse of an identity without a hash, or of none, = true")
	}
}

func TestSameContent(t *testing.T) {
	a := Identity{Kind: Local, Size: 3, Hash: HashURL("abc")}
	b := a
	b.ModTime = time.Now() // stat fields do not count
	if !SameContent(a, b) {
		t.Error("SameContent of equal hashes = false")
	}
	for name, o := range map[string]Identity{
		"other hash": {Kind: Local, Size: 3, Hash: HashURL("abd")},
		"other size": {Kind: Local, Size: 4, Hash: a.Hash},
		"no hash":    {Kind: Local, Size: 3},
		"remote":     OfURL("https://x/y"),
	} {
		if SameContent(a, o) || SameContent(o, a) {
			t.Errorf("SameContent with %s = true", name)
		}
	}
	if noHash := (Identity{Kind: Local, Size: 3}); SameContent(noHash, noHash) {
		t.Error("SameContent of two identities without a hash = true")
	}
	if !SameContent(OfURL("https://x/y?sig=1"), OfURL("https://x/y?sig=1")) || SameContent(OfURL("https://x/y?sig=1"), OfURL("https://x/y?sig=2")) {
		t.Error("SameContent of remote sources does not compare the whole URL")
	}
}

func TestStatRuleSizeMtime(t *testing.T) {
	now := time.Now()
	was := Identity{Kind: Local, Size: 3, ModTime: now, Inode: 1, Ctime: now, Hash: HashURL("abc")}
	renumbered := was
	renumbered.Inode, renumbered.Ctime, renumbered.Hash = 2, now.Add(time.Second), Digest{}
	if Full.Unchanged(was, renumbered) || !SizeMtime.Unchanged(was, renumbered) {
		t.Error("an inode and ctime change: Full must notice it, SizeMtime must not")
	}
	touched := renumbered
	touched.ModTime = now.Add(time.Second)
	if SizeMtime.Unchanged(was, touched) {
		t.Error("SizeMtime.Unchanged ignores the mtime")
	}
	if cur := renumbered; !Reuse(SizeMtime, &was, &cur) || cur.Hash != was.Hash {
		t.Error("Reuse under SizeMtime did not keep the recorded hash")
	}
}
