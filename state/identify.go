package state

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"

	"github.com/sourcegraph/conc/pool"
)

// LocalSource returns the Source of a local file: rel (slash-separated,
// relative to the manifest's directory), the stat fields of fi, and hash.
// Apply uses it after hashing a file while uploading it.
func LocalSource(rel string, fi fs.FileInfo, hash Digest) Source {
	src := Source{
		Kind:    KindLocal,
		Path:    rel,
		Size:    fi.Size(),
		ModTime: fi.ModTime().UTC(),
		Hash:    hash,
	}
	if ino, ctime, ok := statIDs(fi); ok {
		src.Inode = ino
		src.Ctime = ctime.UTC()
	}
	return src
}

// Matches reports whether fi shows the same file, unchanged, as when s was
// recorded: the stat cache. It compares size, mtime, inode and ctime, and
// holds only for a local source with a hash. When it holds, s.Hash can be
// trusted without reading the file.
func (s Source) Matches(fi fs.FileInfo) bool {
	if s.Kind != KindLocal || s.Hash.IsZero() || fi == nil || !fi.Mode().IsRegular() {
		return false
	}
	if fi.Size() != s.Size || !fi.ModTime().Equal(s.ModTime) {
		return false
	}
	ino, ctime, _ := statIDs(fi)
	return ino == s.Inode && ctime.Equal(s.Ctime)
}

// Reuse returns s as the source of the file fi, now at rel, and true when the stat cache
// holds (Matches): the file is unchanged, so its recorded hash stands without a read.
func (s *Source) Reuse(fi fs.FileInfo, rel string) (Source, bool) {
	if s == nil || !s.Matches(fi) {
		return Source{}, false
	}
	src := *s
	src.Path = rel
	return src, true
}

// SameStat reports whether s and o carry the same stat cache fields: size,
// mtime, inode and ctime. Two stats of one local file that agree on them
// describe the same content as far as the stat cache can tell.
func (s Source) SameStat(o Source) bool {
	return s.Size == o.Size && s.ModTime.Equal(o.ModTime) && s.Inode == o.Inode && s.Ctime.Equal(o.Ctime)
}

// IdentifyItem is one local file for Identify.
type IdentifyItem struct {
	// Path is the file to read, as the operating system names it.
	Path string
	// Rel is recorded as Source.Path: slash-separated, relative to the
	// manifest's directory.
	Rel string
	// Info is the file's stat; Identify stats Path when it is nil.
	Info fs.FileInfo
	// Prev is the source recorded in the state, nil for a new address.
	Prev *Source

	// Source is set by Identify to the file's current identity. Its Hash is
	// zero for an item skipped by IdentifyOptions.SkipNew.
	Source Source
	// Hashed is set by Identify when it read the file's contents.
	Hashed bool
}

// IdentifyOptions tune Identify.
type IdentifyOptions struct {
	// Parallel is how many files are hashed at once; below 1 it means
	// runtime.GOMAXPROCS(0). Each file is hashed by one goroutine.
	Parallel int
	// SkipNew leaves items without Prev unhashed: a plan uploads a new file
	// whatever its content, so reading it twice would be waste.
	SkipNew bool

	// open opens a file for hashing; tests count reads through it.
	open func(name string) (fs.File, error)
}

// Identify sets each item's Source. An item whose Prev matches its stat
// (Source.Matches) keeps Prev's hash without being read; the others are
// hashed in parallel, at most opts.Parallel at a time, each streamed through
// one buffer. It stops at the first error, which names the file.
func Identify(ctx context.Context, items []IdentifyItem, opts IdentifyOptions) error {
	open := opts.open
	if open == nil {
		open = func(name string) (fs.File, error) { return os.Open(name) }
	}
	n := opts.Parallel
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}

	var toHash []*IdentifyItem
	for i := range items {
		it := &items[i]
		it.Hashed = false
		if it.Info == nil {
			fi, err := os.Stat(it.Path)
			if err != nil {
				return fmt.Errorf("identify %q: %w", it.Path, err)
			}
			it.Info = fi
		}
		if src, ok := it.Prev.Reuse(it.Info, it.Rel); ok {
			it.Source = src
			continue
		}
		switch {
		case it.Prev == nil && opts.SkipNew:
			it.Source = LocalSource(it.Rel, it.Info, Digest{})
		default:
			toHash = append(toHash, it)
		}
	}
	if len(toHash) == 0 {
		return nil
	}

	p := pool.New().WithMaxGoroutines(min(n, len(toHash))).WithContext(ctx).WithCancelOnError().WithFirstError()
	for _, it := range toHash {
		p.Go(func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			src, err := hashSource(ctx, open, it.Path, it.Rel)
			if err != nil {
				return fmt.Errorf("identify %q: %w", it.Path, err)
			}
			it.Source = src
			it.Hashed = true
			return nil
		})
	}
	return p.Wait()
}

// hashSource hashes the file at path and returns its Source, with the stat
// fields of the file that was read. A file that changes while being read is
// an error: its hash would describe no version of it.
func hashSource(ctx context.Context, open func(string) (fs.File, error), path, rel string) (Source, error) {
	f, err := open(path)
	if err != nil {
		return Source{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Source{}, err
	}
	if !before.Mode().IsRegular() {
		return Source{}, fmt.Errorf("not a regular file")
	}
	h := NewHasher()
	if err := copyInto(h, ctxReader{ctx, f}); err != nil {
		return Source{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return Source{}, err
	}
	if h.Size() != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return Source{}, fmt.Errorf("file changed while it was being hashed")
	}
	return LocalSource(rel, before, h.Digest()), nil
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
