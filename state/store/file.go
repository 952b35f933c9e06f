package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
)

// File is the local Backend: a JSON state file, its previous version kept as
// "<path>.backup", and a lock file "<path>.lock" held with flock(2). When path is
// a symlink, the state is saved through it to the file it points to (Target),
// and the backup and the lock sit beside that file: the link stays a link.
//
// A File is safe for concurrent use; Save calls are serialised.
type File struct {
	path string

	mu sync.Mutex
	// known is the checksum of the document this File last loaded from or
	// wrote to path, with the serial and lineage it holds. Save uses it to
	// recognise its own file without decoding it again.
	known        source.Digest
	knownSerial  uint64
	knownLineage string
	hasKnown     bool

	// Hooks for tests; zero values mean the defaults.
	beforeRename func()           // called after the temp file is durable, before it is renamed into place
	pollInterval time.Duration    // how often Lock retries while waiting
	now          func() time.Time // clock for LockInfo.Created
}

var _ Backend = (*File)(nil)

// NewFile returns the backend for the state file at path, conventionally
// "fiosync.state.json" beside the manifest. Nothing is read or created until
// it is used.
func NewFile(path string) *File { return &File{path: path} }

// Path returns the state file's path, as given to NewFile.
func (f *File) Path() string { return f.path }

// Target returns the file the state is read from and saved to: Path, or when
// Path is a symlink (or a chain of them) the file it points to, which need not
// exist yet. A link that cannot be followed leaves Path, so that using it
// fails with the file system's own error.
func (f *File) Target() string {
	p := f.path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p
		}
		to, err := os.Readlink(p)
		if err != nil {
			return f.path
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(p), to)
		}
		p = to
	}
	return f.path // a loop: os.Open reports it
}

// maxLinks bounds the symlinks Target follows, as the kernel's own limit does.
const maxLinks = 40

// BackupPath returns where the previous state is kept: beside Target.
func (f *File) BackupPath() string { return f.Target() + ".backup" }

// LockPath returns the lock file's path: beside Target, so that every path
// leading to one state file takes one lock.
func (f *File) LockPath() string { return f.Target() + ".lock" }

// String returns the state file's path.
func (f *File) String() string { return f.path }

// Load reads and verifies the state file. A missing file gives ErrNoState, unless its backup
// is there (*LostError); a damaged one gives *statefile.CorruptError naming the file and the
// backup.
func (f *File) Load(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load state %q: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := readString(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(f.BackupPath()); serr == nil {
			// A state that was saved at least twice is gone: starting afresh would upload
			// the whole delivery again.
			return nil, &LostError{Path: f.path, Backup: f.BackupPath()}
		}
		return nil, fmt.Errorf("load state %q: %w", f.path, ErrNoState)
	}
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	s, sum, err := f.decode(data)
	if err != nil {
		return nil, err
	}
	f.remember(sum, s)
	return s, nil
}

// readString reads the file at path into a string, without the full-size copy converting a
// []byte would make: the decoded state's strings are substrings of it.
func readString(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	var b strings.Builder
	if fi, err := file.Stat(); err == nil && fi.Size() > 0 && fi.Size() < 1<<30 {
		b.Grow(int(fi.Size()) + 1) // +1: reading to EOF takes one more read
	}
	if _, err := io.Copy(&b, file); err != nil {
		return "", err
	}
	return b.String(), nil
}

// decode decodes data read from f.path, naming the file in errors.
func (f *File) decode(data string) (*state.State, source.Digest, error) {
	s, sum, err := statefile.DecodeString(data)
	var ce *statefile.CorruptError
	if errors.As(err, &ce) {
		ce.Path = f.path
		if _, statErr := os.Stat(f.BackupPath()); statErr == nil {
			ce.Backup = f.BackupPath()
		}
		return nil, source.Digest{}, ce
	}
	if err != nil {
		return nil, source.Digest{}, fmt.Errorf("load state %q: %w", f.path, err)
	}
	return s, sum, nil
}

// remember notes that f.path holds s, whose document has the checksum sum.
func (f *File) remember(sum source.Digest, s *state.State) {
	f.known = sum
	f.knownSerial = s.Serial
	f.knownLineage = s.Lineage
	f.hasKnown = true
}

// Save writes s atomically if the file on disk is still the state s was
// loaded from (same lineage and serial, or no file and serial 0), and bumps
// s.Serial. It refuses to replace a file it cannot load.
//
// The write goes to a temporary file in the same directory, which is synced,
// then the current file is hard-linked (or copied) to the backup path, the
// temporary file is renamed over the state file, and the directory is
// synced. At every instant the state path holds either the old or the new
// state, complete.
func (f *File) Save(ctx context.Context, s *state.State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save state %q: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	target := f.Target()
	old, err := os.ReadFile(target)
	exists := err == nil
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if s.Serial != 0 {
			return fmt.Errorf("save state %q: the file is gone but the state was loaded from it at serial %d: %w", f.path, s.Serial, ErrStale)
		}
	case err != nil:
		return fmt.Errorf("save state: %w", err)
	default:
		serial, lineage, err := f.stored(old)
		if err != nil {
			return fmt.Errorf("save state %q: refuse to replace a file that cannot be loaded: %w", f.path, err)
		}
		if lineage != s.Lineage {
			return fmt.Errorf("save state %q: stored lineage %q, this state's %q: %w", f.path, lineage, s.Lineage, ErrLineage)
		}
		if serial != s.Serial {
			return fmt.Errorf("save state %q: stored serial %d, this state was loaded at %d: %w", f.path, serial, s.Serial, ErrStale)
		}
	}

	next := *s // shallow: Encode copies what it changes
	next.Serial = s.Serial + 1
	data, sum, err := statefile.EncodeSum(&next)
	if err != nil {
		return fmt.Errorf("save state %q: %w", f.path, err)
	}
	if err := f.replace(target, data, old, exists); err != nil {
		return fmt.Errorf("save state %q: %w", f.path, err)
	}
	s.Serial = next.Serial
	f.remember(sum, &next)
	return nil
}

// stored returns the serial and lineage of the file content old, trusting
// the digest of what this File last read or wrote before decoding.
func (f *File) stored(old []byte) (uint64, string, error) {
	if f.hasKnown && statefile.Checksummed(old, f.known) {
		return f.knownSerial, f.knownLineage, nil
	}
	s, _, err := f.decode(string(old))
	if err != nil {
		return 0, "", err
	}
	return s.Serial, s.Lineage, nil
}

// replace puts data at target (f.path, or the file it links to) atomically,
// keeping the current content (old, present when exists) as the backup beside
// it. Renaming over the link itself would turn it into a regular file and
// leave the file it points to behind, stale.
func (f *File) replace(target string, data, old []byte, exists bool) (err error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := writeTemp(dir, "."+base+".tmp-*", data)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if exists {
		if err := backup(target, dir, base, old); err != nil {
			return err
		}
	}
	if f.beforeRename != nil {
		f.beforeRename()
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	return syncDir(dir)
}

// backup makes the backup path of the state file at target (dir + base)
// point at the current state: a hard link when the file system has them, a
// synced copy of old otherwise. Either way the backup is replaced by a rename,
// so it too is always complete.
func backup(target, dir, base string, old []byte) error {
	tmp := filepath.Join(dir, "."+base+".backup-"+rand.Text())
	if err := os.Link(target, tmp); err != nil {
		tmp, err = writeTemp(dir, "."+base+".backup-*", old)
		if err != nil {
			return fmt.Errorf("copy backup: %w", err)
		}
	}
	err := os.Rename(tmp, target+".backup")
	// When the backup already is a link to the current file (a writer died
	// after making it), rename(2) does nothing and leaves tmp behind.
	os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("keep backup: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file in dir, syncs it, and returns its
// name. The mode is 0644: the state holds no secrets and is meant to be
// committed.
func writeTemp(dir, pattern string, data []byte) (name string, err error) {
	t, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			t.Close()
			os.Remove(t.Name())
		}
	}()
	if err := t.Chmod(0o644); err != nil {
		return "", fmt.Errorf("set mode of temporary file: %w", err)
	}
	if _, err := t.Write(data); err != nil {
		return "", fmt.Errorf("write temporary file: %w", err)
	}
	if err := t.Sync(); err != nil {
		return "", fmt.Errorf("sync temporary file: %w", err)
	}
	if err := t.Close(); err != nil {
		return "", fmt.Errorf("close temporary file: %w", err)
	}
	return t.Name(), nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}

// removeStaleTemps deletes temporary files left by a writer that died
// between writing and renaming. Only the lock holder calls it, so no live
// writer owns them.
func (f *File) removeStaleTemps() {
	dir, base := filepath.Split(f.Target())
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "."+base+".tmp-") || strings.HasPrefix(name, "."+base+".backup-") {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
