package plan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/source"
)

// NotInMHL is Change.MHL for a file of an entry with mhl: that no history covers: it is
// uploaded unchecked, and the plan says so.
const NotInMHL = "not in MHL"

// mtimeSlack is how far a file's modification time may be from the one its ASC MHL history
// records: FAT and exFAT cards keep it to 2 seconds, and histories record whole seconds.
const mtimeSlack = 2 * time.Second

// MHL is what the ASC MHL histories that a manifest's entries name (mhl: auto|PATH) say of
// its files, made by CheckMHL: what each covered address must hash to, and which addresses no
// history covers. Apply feeds the hashes to the read that sends the file.
type MHL struct {
	expect   map[string]MHLExpect
	notInMHL map[string]bool
}

// MHLExpect is what a history records for one file.
type MHLExpect struct {
	// History is the history's root (the folder holding ascmhl/), absolute.
	History string
	// Path is the file's path in the history, relative to History.
	Path string
	// Generation is the generation file the record comes from, absolute, for messages.
	Generation string
	// Size is the recorded size, -1 when none.
	Size int64
	// Hashes are the recorded hashes by format (never a failed one).
	Hashes map[mhl.Format]string
}

// Expect returns what the history covering address records, if one does.
func (m *MHL) Expect(address string) (MHLExpect, bool) {
	if m == nil {
		return MHLExpect{}, false
	}
	e, ok := m.expect[address]
	return e, ok
}

// NotCovered reports whether address belongs to an entry with mhl: and no history covers it.
func (m *MHL) NotCovered(address string) bool { return m != nil && m.notInMHL[address] }

// MHLProblem is one file that contradicts its ASC MHL history.
type MHLProblem struct {
	// File is the local file (absolute), or the history, concerned.
	File string
	// Message says what is wrong, naming the history's file.
	Message string
}

// MHLError lists every file that contradicts its ASC MHL history: a size or modification
// time other than recorded, a listed file missing on disk, a history that does not check
// out. Plan refuses to go on, so nothing is sent.
type MHLError struct {
	Problems []MHLProblem
}

// Error implements error.
func (e *MHLError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ASC MHL check failed for %s; nothing was sent:", display.Count(len(e.Problems), "file", "files"))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", escape.Text(p.File), escape.Text(p.Message))
	}
	return b.String()
}

// CheckMHL loads the histories that m's entries name and holds files, the manifest's
// expansion, to them by size and modification time (where recorded). It reads the histories
// and stats listed files, but never reads a file's content: that is checked in apply's read.
// Problems come back together as *MHLError.
func CheckMHL(m *manifest.Manifest, files []manifest.Desired) (*MHL, error) {
	c := &mhlChecker{
		out:       &MHL{expect: map[string]MHLExpect{}, notInMHL: map[string]bool{}},
		finder:    mhl.NewFinder(),
		histories: map[string]*mhl.History{},
		failed:    map[string]bool{},
		scopes:    map[string][]string{},
	}
	wanted := false
	for i := range m.Uploads {
		if u := &m.Uploads[i]; u.MHL != "" && !u.IsRemote() {
			wanted = true
			if u.MHL != manifest.MHLAuto {
				c.named(m, u)
			} else {
				// The histories at or above the entry's base cover what it lists there.
				base := entryBase(m, u)
				if r := c.finder.Root(filepath.Join(base, "x")); r != "" {
					c.use(r, base)
				}
			}
		}
	}
	if !wanted {
		return c.out, nil
	}
	for _, d := range files {
		if d.Source.Kind != source.Local {
			continue
		}
		u := &m.Uploads[d.Upload]
		if u.MHL == "" {
			continue
		}
		c.file(m, u, d)
	}
	c.missing()
	if len(c.problems) > 0 {
		slices.SortFunc(c.problems, func(a, b MHLProblem) int { return strings.Compare(a.File+a.Message, b.File+b.Message) })
		return nil, &MHLError{Problems: c.problems}
	}
	return c.out, nil
}

type mhlChecker struct {
	out        *MHL
	finder     *mhl.Finder
	histories  map[string]*mhl.History // by root
	failed     map[string]bool         // roots that did not load (reported once)
	namedRoots map[int]string          // entry index -> its named root
	scopes     map[string][]string     // root -> the entry bases below which its records must exist
	seen       map[string]bool         // absolute paths of the files the expansion holds
	problems   []MHLProblem
}

func (c *mhlChecker) add(file, format string, args ...any) {
	c.problems = append(c.problems, MHLProblem{File: file, Message: fmt.Sprintf(format, args...)})
}

// entryBase is the folder or file that u's local source names, absolute: for a glob, its
// fixed prefix.
func entryBase(m *manifest.Manifest, u *manifest.Upload) string {
	base, _ := doublestar.SplitPattern(u.Local)
	if base == "." || !strings.ContainsAny(u.Local, "*?[{") {
		base = u.Local
	}
	if filepath.IsAbs(base) {
		return filepath.Clean(base)
	}
	return filepath.Join(m.Dir, filepath.FromSlash(base))
}

// named resolves an entry's mhl: PATH to the history's root.
func (c *mhlChecker) named(m *manifest.Manifest, u *manifest.Upload) {
	root := filepath.FromSlash(u.MHL)
	if !filepath.IsAbs(root) {
		root = filepath.Join(m.Dir, root)
	}
	root = filepath.Clean(root)
	if filepath.Base(root) == mhl.Dir && mhl.Exists(filepath.Dir(root)) {
		root = filepath.Dir(root)
	}
	if c.namedRoots == nil {
		c.namedRoots = map[int]string{}
	}
	c.namedRoots[u.Index] = root
	if !mhl.Exists(root) {
		c.add(root, "%s names no ASC MHL history (no %s folder there)", u.Field("mhl"), mhl.Dir)
		c.failed[root] = true
		return
	}
	c.use(root, entryBase(m, u))
}

// use loads the history of root (once) and records that the files it lists below base must
// exist.
func (c *mhlChecker) use(root, base string) *mhl.History {
	if c.failed[root] {
		return nil
	}
	h := c.histories[root]
	if h == nil {
		var err error
		if h, err = mhl.Load(root); err != nil {
			c.add(root, "%v", err)
			c.failed[root] = true
			return nil
		}
		c.histories[root] = h
	}
	if !slices.Contains(c.scopes[root], base) {
		c.scopes[root] = append(c.scopes[root], base)
	}
	return h
}

// file checks one desired file against the history that covers it.
func (c *mhlChecker) file(m *manifest.Manifest, u *manifest.Upload, d manifest.Desired) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[d.Path] = true
	if dir := filepath.Dir(d.Path); filepath.Base(dir) == mhl.Dir && mhl.Exists(filepath.Dir(dir)) {
		return // a history's own file, uploaded with the card: nothing records it
	}
	var root string
	if r, ok := c.namedRoots[u.Index]; ok {
		root = r
	} else {
		root = c.finder.Root(d.Path)
	}
	if root == "" {
		c.out.notInMHL[d.Address] = true
		return
	}
	h := c.use(root, entryBase(m, u))
	if h == nil {
		return
	}
	rel, err := filepath.Rel(root, d.Path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		c.out.notInMHL[d.Address] = true // outside a named history
		return
	}
	rec, ok := h.Lookup(filepath.ToSlash(rel))
	if !ok || len(rec.Hashes) == 0 {
		c.out.notInMHL[d.Address] = true
		return
	}
	gen := filepath.Join(root, mhl.Dir, rec.From)
	switch {
	case rec.Size >= 0 && rec.Size != d.Source.Size:
		c.add(d.Path, "%s on disk, %s in the ASC MHL history (%s): the file changed after it was hashed",
			display.Count(int(d.Source.Size), "byte", "bytes"), display.Count(int(rec.Size), "byte", "bytes"), gen)
		return
	case !rec.ModTime.IsZero() && !d.Source.ModTime.IsZero() && absDuration(d.Source.ModTime.Sub(rec.ModTime)) >= mtimeSlack:
		c.add(d.Path, "modified %s on disk, %s in the ASC MHL history (%s): the file changed after it was hashed (or was copied without its modification time)",
			d.Source.ModTime.UTC().Format(time.RFC3339), rec.ModTime.UTC().Format(time.RFC3339), gen)
		return
	}
	c.out.expect[d.Address] = MHLExpect{History: root, Path: rec.Path, Generation: gen, Size: rec.Size, Hashes: rec.Hashes}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// missing reports every file a used history lists below an entry's base that is not on disk.
func (c *mhlChecker) missing() {
	for root, h := range c.histories {
		for _, rec := range h.Records() {
			if len(rec.Hashes) == 0 {
				continue // only failed records: nothing vouched for it
			}
			abs := filepath.Join(root, filepath.FromSlash(rec.Path))
			if c.seen[abs] || !underAny(abs, c.scopes[root]) {
				continue
			}
			if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
				c.add(abs, "listed in the ASC MHL history (%s) but missing on disk", filepath.Join(root, mhl.Dir, rec.From))
			}
		}
	}
}

func underAny(p string, bases []string) bool {
	for _, b := range bases {
		if p == b || strings.HasPrefix(p, b+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
