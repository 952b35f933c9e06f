package partjournal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
)

func TestJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parts")
	j := Open(dir)
	now := time.Now().UTC().Truncate(time.Second)
	up := Upload{
		FileID: "f-1", MediaType: "video/quicktime",
		Source:  source.Identity{Kind: source.Local, Path: "a.mov", Size: 30, ModTime: now, Inode: 7, Ctime: now},
		Parts:   []Part{{URL: "https://s3/1?X-Amz-Signature=secret", Size: 10}, {URL: "https://s3/2", Size: 10}, {URL: "https://s3/3", Size: 10}},
		Expires: now.Add(time.Hour),
	}
	log, err := j.Start(up)
	if err != nil {
		t.Fatal(err)
	}
	log.Done(2)
	log.Done(0)
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "f-1.parts")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v: the part URLs are credentials, for its owner only", p, perm)
		}
	}
	got, done, err := j.Load("f-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&up, got); diff != "" {
		t.Errorf("upload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, false, true}, done); diff != "" {
		t.Errorf("done (-want +got):\n%s", diff)
	}

	// A crash while appending leaves a cut line, which is not trusted.
	f, err := os.OpenFile(filepath.Join(dir, "f-1.parts"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("1")
	f.Close()
	if _, done, err := j.Load("f-1"); err != nil || done[1] {
		t.Errorf("Load after a cut line: %v, %v; want part 2 still not done", done, err)
	}

	if !got.Usable(now, up.Source) {
		t.Error("Usable = false for the same file and fresh URLs")
	}
	moved := up.Source
	moved.Ctime = moved.Ctime.Add(time.Second)
	if got.Usable(now, moved) || got.Usable(now.Add(time.Hour-Margin/2), up.Source) {
		t.Error("Usable = true for a file whose stat moved, or URLs about to expire")
	}

	if err := j.Remove("f-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := j.Load("f-1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load after Remove: %v, want ErrNotExist", err)
	}
	if _, err := j.Start(Upload{FileID: "../escape"}); err == nil {
		t.Error("Start accepted a file id that leaves the directory")
	}
}

func TestExpiresAt(t *testing.T) {
	got, ok := ExpiresAt("https://s3.example/p?X-Amz-Date=20261201T120000Z&X-Amz-Expires=86400&X-Amz-Signature=x")
	if want := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("ExpiresAt = %v, %v; want %v", got, ok, want)
	}
	if _, ok := ExpiresAt("https://s3.example/p?sig=x"); ok {
		t.Error("ExpiresAt of a URL without X-Amz-Date said it knows")
	}
}

// TestJournalEmpty: a journal is empty before its directory exists, holds an upload once one
// starts, and is empty again once it is removed.
func TestJournalEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parts")
	j := Open(dir)
	if !j.Empty() {
		t.Fatal("a journal whose directory does not exist yet: want empty")
	}
	log, err := j.Start(Upload{FileID: "f-1", Parts: []Part{{URL: "https://s3/1", Size: 1}}, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if j.Empty() {
		t.Fatal("with an upload journaled: want not empty")
	}
	if err := j.Remove("f-1"); err != nil {
		t.Fatal(err)
	}
	if !j.Empty() {
		t.Fatal("after the upload's journal was removed: want empty")
	}
}
