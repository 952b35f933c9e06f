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
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

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

	// The journal (see journal.go): jfd is open for appending after the first Append on
	// base (jLineage, jSerial), and jEnd is where its next record goes. jState is the state
	// file as it was when jfd was opened (nil: there was none), so that Append notices a save
	// by someone else with one stat. jSeen is the journal as this File last loaded or wrote
	// it (nil: there was none): Save removes only a journal it has seen.
	jfd      *os.File
	jLineage string
	jSerial  uint64
	jEnd     int64
	jState   fs.FileInfo
	jSeen    fs.FileInfo
	jSeenLen int64

	// Hooks for tests; zero values mean the defaults.
	beforeRename func()           // called after the temp file is durable, before it is renamed into place
	beforeDrop   func()           // called after a save is durable, before the journal is removed
	pollInterval time.Duration    // how often Lock retries while waiting
	now          func() time.Time // clock for LockInfo.Created
}

var _ Appender = (*File)(nil)

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

// JournalPath returns where appended changes are kept until the next save: beside Target.
func (f *File) JournalPath() string { return f.Target() + ".journal" }

// String returns the state file's path.
func (f *File) String() string { return f.path }

// Load reads and verifies the state file, and replays the journal beside it, if any: the
// changes appended since the state was last saved (see Append). A missing file gives
// ErrNoState, unless its backup is there (*LostError) or a journal begun before the first save
// is; a damaged one gives *statefile.CorruptError naming the file and the backup; a journal
// that cannot be replayed safely gives *JournalError.
func (f *File) Load(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load state %q: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, _, err := f.load()
	return s, err
}

// journalView is what load found in the journal.
type journalView struct {
	info    fs.FileInfo // the journal file as it was read
	end     int64       // length of its valid prefix
	current bool        // its records were appended on the loaded state's serial (else: already folded in)
}

// load is Load with f.mu held; it also says what it found in the journal (nil: none).
func (f *File) load() (*state.State, *journalView, error) {
	jdata, jinfo, err := readJournal(f.JournalPath())
	if err != nil {
		return nil, nil, fmt.Errorf("load state %q: %w", f.path, err)
	}
	var sc *scanned
	if jinfo != nil {
		if sc, err = scanJournal(f.JournalPath(), jdata); err != nil {
			return nil, nil, err
		}
	}
	data, lent, release, err := readState(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(f.BackupPath()); serr == nil {
			// A state that was saved at least twice is gone: starting afresh would upload
			// the whole delivery again.
			return nil, nil, &LostError{Path: f.path, Backup: f.BackupPath()}
		}
		if sc == nil || len(sc.records) == 0 {
			f.seeJournal(jinfo)
			return nil, nil, fmt.Errorf("load state %q: %w", f.path, ErrNoState)
		}
		base := &sc.records[0]
		if base.Serial != 0 {
			return nil, nil, &JournalError{Path: f.JournalPath(), Offset: -1, Reason: fmt.Sprintf(
				"its records were appended on serial %d of the state, but the state file %q is missing", base.Serial, f.path)}
		}
		// Changes appended before the first save: the journal is the whole state.
		s := base.header()
		replay(s, sc.records)
		f.seeJournal(jinfo)
		return s, &journalView{info: jinfo, end: sc.end, current: true}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load state: %w", err)
	}
	s, sum, err := f.decode(data, lent)
	release() // nothing of the state refers to a lent data
	if err != nil {
		return nil, nil, err
	}
	f.remember(sum, s)
	if sc == nil {
		f.seeJournal(nil)
		return s, nil, nil
	}
	jv := &journalView{info: jinfo, end: sc.end, current: true}
	if len(sc.records) > 0 {
		base := &sc.records[0]
		switch {
		case base.Lineage != s.Lineage:
			return nil, nil, &JournalError{Path: f.JournalPath(), Offset: -1, Reason: fmt.Sprintf(
				"its records belong to lineage %q, the state file %q to %q (another state's journal?)", base.Lineage, f.path, s.Lineage)}
		case base.Serial == s.Serial:
			replay(s, sc.records)
		case base.Serial+1 == s.Serial && folded(s, sc.records):
			// A save wrote the state with these records and died before it removed them.
			jv.current = false
		default:
			return nil, nil, &JournalError{Path: f.JournalPath(), Offset: -1, Reason: fmt.Sprintf(
				"its records were appended on serial %d, but the state file %q is at serial %d and does not hold them", base.Serial, f.path, s.Serial)}
		}
	}
	f.seeJournal(jinfo)
	return s, jv, nil
}

// readJournal reads the journal at path, returning nil info when there is none.
func readJournal(path string) ([]byte, fs.FileInfo, error) {
	file, info, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read state journal: %w", err)
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, nil, fmt.Errorf("read state journal %q: %w", path, err)
	}
	return data, info, nil
}

// seeJournal notes that the journal, as this File read it, was info (nil: there was none).
func (f *File) seeJournal(info fs.FileInfo) {
	f.jSeen = info
	if info != nil {
		f.jSeenLen = info.Size()
	}
}

// checkJournal refuses to save over a damaged journal that this File has not loaded: the
// save would drop its records, and damage is for a person to look at. A journal it has
// loaded or written, or an intact one, the save folds in as Appender's contract says.
func (f *File) checkJournal() error {
	seen, err := f.journalSeen()
	if err != nil || seen {
		return err
	}
	data, _, err := readJournal(f.JournalPath())
	if err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	_, err = scanJournal(f.JournalPath(), data)
	return err
}

// journalSeen reports whether the journal on disk is the one this File last loaded or
// wrote (or there is none, and it saw none).
func (f *File) journalSeen() (bool, error) {
	info, err := os.Stat(f.JournalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat state journal: %w", err)
	}
	return f.jSeen != nil && os.SameFile(info, f.jSeen) && info.Size() == f.jSeenLen, nil
}

// errNotRegular is why openRegular refuses a path.
var errNotRegular = errors.New("not a regular file; the state and its journal are plain files fiosync writes (move this away)")

// openRegular opens the file at path for reading, and stats it, refusing one that is not a
// regular file: a FIFO would block the open and a device be read for ever, and a checkout
// can hold a link to either where the state's files belong.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path) // before the open, which a FIFO would block
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = file.Stat(); err != nil || !fi.Mode().IsRegular() { // swapped meanwhile
		file.Close()
		if err == nil {
			err = &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
		}
		return nil, nil, err
	}
	return file, fi, nil
}

// readSize is the size to read a file of, as fi gives it: its length, or 0 (read to the end
// in steps) for one too large to hold in memory at once.
func readSize(fi fs.FileInfo) int {
	if fi.Size() > 0 && fi.Size() < 1<<30 {
		return int(fi.Size())
	}
	return 0
}

// readOpen reads file, of about size bytes, to its end into a string, without the full-size
// copy converting a []byte would make: the decoded state's strings are substrings of it. The
// bytes are read straight into the string's memory; copying them through a buffer, as io.Copy
// into a strings.Builder does, was a sixth of a no-op plan's CPU at 100,000 entries (45 MB).
func readOpen(file *os.File, size int) (string, error) {
	buf := make([]byte, 0, size+1) // +1: reading to EOF takes one more read
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf)/2+512) // the file grew meanwhile
		}
		n, err := file.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	// buf is never used again, so the string may own its memory.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// decode decodes data read from f.path (lent: mapped, see readState), naming the file in
// errors.
func (f *File) decode(data string, lent bool) (*state.State, source.Digest, error) {
	var (
		s   *state.State
		sum source.Digest
		err error
	)
	if lent {
		s, sum, err = decodeMapped(f.path, data)
	} else {
		s, sum, err = statefile.DecodeString(data)
	}
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

	if err := f.checkJournal(); err != nil {
		return fmt.Errorf("save state %q: %w", f.path, err)
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
	f.dropJournal()
	return nil
}

// dropJournal removes the journal once a save holds its records: the compaction's last
// step. A failure to remove it leaves a journal whose records the state file already holds,
// which Load recognises and the next save removes; the save itself has succeeded.
func (f *File) dropJournal() {
	if f.beforeDrop != nil {
		f.beforeDrop()
	}
	f.closeJournal()
	f.jSeen = nil
	if err := os.Remove(f.JournalPath()); err == nil {
		dir := filepath.Dir(f.JournalPath())
		_ = syncDir(dir)
	}
}

// closeJournal closes the journal's file, if open; the next Append verifies and opens it
// again.
func (f *File) closeJournal() {
	if f.jfd != nil {
		f.jfd.Close()
		f.jfd = nil
	}
}

// Close releases the journal's open file. The File may be used again afterwards.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeJournal()
	return nil
}

// stored returns the serial and lineage of the file content old, trusting
// the digest of what this File last read or wrote before decoding.
func (f *File) stored(old []byte) (uint64, string, error) {
	if f.hasKnown && statefile.Checksummed(old, f.known) {
		return f.knownSerial, f.knownLineage, nil
	}
	s, _, err := f.decode(string(old), false)
	if err != nil {
		return 0, "", err
	}
	return s.Serial, s.Lineage, nil
}

// replace puts data at target (f.path, or the file it links to) atomically,
// keeping the current content (old, present when exists; else data itself) as the
// backup beside it. Renaming over the link itself would turn it into a regular file and
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
	if !exists {
		// The first save keeps itself as the backup: a state file deleted after one apply
		// (which saves once, see Append) is then noticed (LostError), not taken for a new
		// delivery.
		if err := backup(target, dir, base, data); err != nil {
			return err
		}
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

// recover cleans up after a writer that died, once this File holds the lock: it removes its
// temporary files and compacts a journal it left, so that the run starts from one state file
// that holds every change the dead writer made durable. A journal that cannot be replayed is
// left alone: the Load that follows reports it.
func (f *File) recover(ctx context.Context) {
	f.removeStaleTemps()
	if _, err := os.Lstat(f.JournalPath()); err != nil {
		return
	}
	if s, err := f.Load(ctx); err == nil {
		_ = f.Save(ctx, s)
	}
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
