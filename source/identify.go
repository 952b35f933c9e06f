package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sync"

	"github.com/sourcegraph/conc/pool"
)

// Item is one local file for Identify.
type Item struct {
	// Path is the file to read, as the operating system names it.
	Path string
	// Identity is the file's identity: on entry its stat (OfFile; a zero Kind makes Identify
	// stat Path, recording Rel), on return with the hash where Identify knows it.
	Identity Identity
	// Rel is recorded as Identity.Path when Identify stats the file itself.
	Rel string
	// Prev is the identity recorded before (in the state), nil for a new address.
	Prev *Identity
	// Rule is the stat rule that decides whether Prev's hash still holds.
	Rule StatRule

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
	// Progress, when set, is called before the first file is hashed and after each one with the files and bytes hashed
	// so far and in all, for a display of a long hashing step. It is called from the hashing
	// goroutines, one call at a time.
	Progress func(done, total int, bytes, totalBytes int64)

	// open opens a file for hashing; tests count reads through it.
	open func(name string) (fs.File, error)
}

// Identify completes each item's Identity. An item whose Prev has a hash and whose stat is
// Unchanged since Prev keeps Prev's hash without being read; the others are hashed in
// parallel, at most opts.Parallel at a time, each streamed through one buffer. It stops at
// the first error, which names the file.
func Identify(ctx context.Context, items []Item, opts IdentifyOptions) error {
	open := opts.open
	if open == nil {
		open = func(name string) (fs.File, error) { return os.Open(name) }
	}
	n := opts.Parallel
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}

	var toHash []*Item
	for i := range items {
		it := &items[i]
		it.Hashed = false
		if it.Identity.Kind == "" {
			fi, err := os.Stat(it.Path)
			if err != nil {
				return fmt.Errorf("identify %q: %w", it.Path, err)
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("identify %q: not a regular file", it.Path)
			}
			it.Identity = OfFile(it.Rel, fi)
		}
		switch {
		case Reuse(it.Rule, it.Prev, &it.Identity):
		case it.Prev == nil && opts.SkipNew:
		default:
			toHash = append(toHash, it)
		}
	}
	if len(toHash) == 0 {
		return nil
	}

	var totalBytes int64
	for _, it := range toHash {
		totalBytes += it.Identity.Size
	}
	var mu sync.Mutex
	done, bytes := 0, int64(0)
	if opts.Progress != nil {
		opts.Progress(0, len(toHash), 0, totalBytes)
	}
	p := pool.New().WithMaxGoroutines(min(n, len(toHash))).WithContext(ctx).WithCancelOnError().WithFirstError()
	for _, it := range toHash {
		p.Go(func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			id, err := hashFile(ctx, open, it.Path, it.Identity.Path)
			if err != nil {
				return fmt.Errorf("identify %q: %w", it.Path, err)
			}
			it.Identity = id
			it.Hashed = true
			if opts.Progress != nil {
				mu.Lock()
				done++
				bytes += id.Size
				opts.Progress(done, len(toHash), bytes, totalBytes)
				mu.Unlock()
			}
			return nil
		})
	}
	return p.Wait()
}

// hashFile hashes the file at path and returns its identity, with the stat fields of the
// file that was read. A file that changes while being read is
// an error: its hash would describe no version of it.
func hashFile(ctx context.Context, open func(string) (fs.File, error), path, rel string) (Identity, error) {
	f, err := open(path)
	if err != nil {
		return Identity{}, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return Identity{}, err
	}
	if !before.Mode().IsRegular() {
		return Identity{}, fmt.Errorf("not a regular file")
	}
	h := NewHasher()
	if err := copyInto(h, ctxReader{ctx, f}); err != nil {
		return Identity{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return Identity{}, err
	}
	if h.Size() != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return Identity{}, fmt.Errorf("file changed while it was being hashed")
	}
	id := OfFile(rel, before)
	id.Hash = h.Digest()
	return id, nil
}

// Reuse gives cur, a fresh stat of a file, the hash recorded in prev when rule says the file
// is unchanged since prev was recorded, and reports whether it did.
func Reuse(rule StatRule, prev, cur *Identity) bool {
	if prev == nil || prev.Hash.IsZero() || !rule.Unchanged(*prev, *cur) {
		return false
	}
	cur.Hash = prev.Hash
	return true
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
