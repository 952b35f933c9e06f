package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"golang.org/x/text/unicode/norm"

	"github.com/fiosync/fiosync/source"
)

// Desired is one file the manifest asks for: where it goes and where its
// content comes from.
type Desired struct {
	// Address is the destination path, Folder + "/" + Name, NFC-normalised:
	// "/2026-11-26/A-Cam/A001.mov". It is the key of state and plan.
	Address string
	// Folder is the destination folder, "/" for the project root.
	Folder string
	Name   string
	// Source is the file's identity, the one that the plan carries to apply. For a local
	// file it is the stat taken during the walk (size, mtime, inode, ctime) with Path
	// relative to Manifest.Dir, slash-separated (sources outside the directory, with
	// allow_outside, start with "../"); its hash is left for plan.Identify to fill in where
	// it must. For a remote source it is the URL without its query and the hash of the
	// whole URL.
	Source source.Identity
	// StatRule is the entry's stat_cache: which stat fields vouch for the file unchanged.
	StatRule source.StatRule
	// StableFor is the entry's stable_for: how long the file must go unmodified before a
	// plan uploads it (0: no wait).
	StableFor time.Duration
	// Priority is the entry's priority: higher uploads first.
	Priority int
	// Path is the absolute path to read (local only). It goes through any
	// symlinks the walk followed, so it names the file as the user sees it.
	Path string
	// URL is the remote source as written (remote only). It may carry a
	// presigned query string: never print it whole.
	URL      string
	OnChange OnChange
	// Upload is the index of the entry in Manifest.Uploads.
	Upload int
	// Pos is the entry's position, for messages.
	Pos Pos
}

// Expansion is the result of Expand.
type Expansion struct {
	// Files holds every desired file, sorted byte-wise by Address.
	Files []Desired
	// Warnings are problems that do not stop a plan, such as skipped
	// sockets, devices and FIFOs.
	Warnings []*Error
	// Policy lists what the top-level exclude and DefaultExcludes left out of the walks,
	// sorted by address, so a plan can tell a tracked file left out by policy (reported,
	// never pruned) from one the manifest no longer lists.
	Policy []PolicyHit
}

// maxReports bounds the errors and warnings one entry adds, so a directory of
// 100,000 unreadable files yields a readable message.
const maxReports = 10

// Expand walks the file system and returns every file the manifest asks for.
// Problems (a missing source, an unreadable file, a symlink leaving the
// manifest's directory, a symlink loop, two entries producing one address)
// come back together as an ErrorList, each at its entry's position, and
// then the Expansion is nil: a plan from a partial expansion would delete
// what the missing entries should have kept.
//
// The manifest file itself and the files m.Ignore names are never part of an
// expansion, so "local: ." does not upload fiosync's own bookkeeping.
func (m *Manifest) Expand() (*Expansion, error) {
	x, err := m.ExpandAll()
	if err != nil {
		return nil, err
	}
	return x, nil
}

// ExpandAll is Expand for a caller that reports every problem at once: on an ErrorList it
// also returns the Expansion of what expanded cleanly (the files found, unsorted problems
// aside), so further checks can run on those files in the same run.
func (m *Manifest) ExpandAll() (*Expansion, error) {
	root, err := filepath.EvalSymlinks(m.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve manifest directory: %w", err)
	}
	x := &expander{m: m, root: root, manifestName: filepath.Base(m.Path), policy: compilePolicy(m)}
	for _, p := range m.Ignore.Names {
		x.ignoreNames = append(x.ignoreNames, compileName(p))
	}
	for _, p := range m.Ignore.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("resolve path to leave out %q: %w", p, err)
		}
		dir := filepath.Dir(abs)
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		if x.ignorePaths == nil {
			x.ignorePaths = map[string]map[string]bool{}
		}
		if x.ignorePaths[dir] == nil {
			x.ignorePaths[dir] = map[string]bool{}
		}
		x.ignorePaths[dir][filepath.Base(abs)] = true
	}
	for i := range m.Uploads {
		u := &m.Uploads[i]
		if u.Local == "" && u.Remote == "" {
			continue // a partial manifest's upload with problems (WithPartial)
		}
		if u.IsRemote() {
			x.add(Desired{
				Address:  address(u.To, u.Name),
				Folder:   u.To,
				Name:     u.Name,
				Source:   source.OfURL(u.Remote),
				URL:      u.Remote,
				OnChange: u.OnChange,
				Priority: u.Priority,
				Upload:   u.Index,
				Pos:      u.Pos,
			})
			continue
		}
		x.local(u)
	}
	x.files = joinBlocks(x.blocks)
	x.dedupe()
	ErrorList(x.warns).sort()
	slices.SortFunc(x.hits, func(a, b PolicyHit) int { return strings.Compare(a.Address, b.Address) })
	exp := &Expansion{Files: x.files, Warnings: x.warns, Policy: x.hits}
	if len(x.errs) > 0 {
		x.errs.sort()
		return exp, x.errs
	}
	return exp, nil
}

// joinBlocks returns the blocks joined into one slice, as slices.Concat does, copying from
// several goroutines: at 100,000 files the copy (32 MB, and a page fault for every 4 KiB of
// the new slice) was 14 ms at the end of the walk, with nothing else left to run beside it.
func joinBlocks(blocks [][]Desired) []Desired {
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	out := make([]Desired, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/joinChunk))
	var wg sync.WaitGroup
	at, share, next := 0, (n+workers-1)/workers, 0
	for w := range workers {
		start, first := at, next
		for next < len(blocks) && (at-start < share || w == workers-1) {
			at += len(blocks[next])
			next++
		}
		group := blocks[first:next]
		wg.Go(func() {
			off := start
			for _, b := range group {
				off += copy(out[off:], b)
			}
		})
	}
	wg.Wait()
	return out
}

// joinChunk is the fewest files joinBlocks gives a goroutine of its own.
const joinChunk = 16384

type expander struct {
	m            *Manifest
	root         string // Manifest.Dir with symlinks resolved
	manifestName string
	// ignorePaths holds Manifest.Ignore.Paths as names by directory (symlinks
	// resolved), so a walk looks a directory up once rather than each file.
	ignorePaths map[string]map[string]bool
	ignoreNames []func(name string) bool
	// policy holds the top-level excludes and the defaults; hits what they left out.
	policy []policyRule
	hits   []PolicyHit
	// blocks hold the files found, in order, until Expand joins them into
	// files.
	blocks [][]Desired
	files  []Desired
	errs   ErrorList
	warns  []*Error
}

// add appends d to the files found. They are kept in blocks that are never
// copied as they grow and joined once at the end: growing one slice of
// Desired (160 bytes each) allocated four times and copied three times the
// 10,000 files of the no-op plan on the way (NoopPlan10k/expand: 23.6 ms
// and 12.1 MiB down to 19.4 ms and 7.4 MiB).
func (x *expander) add(d Desired) {
	last := len(x.blocks) - 1
	if last < 0 || len(x.blocks[last]) == cap(x.blocks[last]) {
		size := 64
		if last >= 0 {
			size = min(2*cap(x.blocks[last]), 4096)
		}
		x.blocks = append(x.blocks, make([]Desired, 0, size))
		last++
	}
	x.blocks[last] = append(x.blocks[last], d)
}

// ignoredName reports whether name matches one of Manifest.Ignore.Names.
func (x *expander) ignoredName(name string) bool {
	for _, match := range x.ignoreNames {
		if match(name) {
			return true
		}
	}
	return false
}

// compileName returns the matcher of a name pattern. Every file a walk meets is matched, so
// the common shapes ("*.state.json*", "*.lock", "name*") are a strings function, about ten
// times faster than the general glob matcher (250 ns a name: 2.5 ms of a 10,000-file plan).
func compileName(pattern string) func(string) bool {
	lit := strings.TrimSuffix(strings.TrimPrefix(pattern, "*"), "*")
	if strings.ContainsAny(lit, `*?[]{}\`) {
		return func(name string) bool { return doublestar.MatchUnvalidated(pattern, name) }
	}
	switch pre, suf := strings.HasPrefix(pattern, "*"), strings.HasSuffix(pattern, "*") && len(pattern) > 1; {
	case pre && suf:
		return func(name string) bool { return strings.Contains(name, lit) }
	case pre:
		return func(name string) bool { return strings.HasSuffix(name, lit) }
	case suf:
		return func(name string) bool { return strings.HasPrefix(name, lit) }
	}
	return func(name string) bool { return name == lit }
}

// ignoredPath reports whether real, a path with symlinks resolved, is one of
// Manifest.Ignore.Paths.
func (x *expander) ignoredPath(real string) bool {
	dir, name := filepath.Split(real)
	return x.ignorePaths[filepath.Clean(dir)][name]
}

// address joins a folder and a name into a destination path.
func address(folder, name string) string {
	if folder == "/" {
		return "/" + name
	}
	return folder + "/" + name
}

// inside reports whether path is dir or below it. Both must be clean.
func inside(dir, path string) bool {
	if path == dir {
		return true
	}
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return strings.HasPrefix(path, dir)
	}
	return strings.HasPrefix(path, dir+string(filepath.Separator))
}

// local expands one local entry: a file, a directory or a glob.
func (x *expander) local(u *Upload) {
	w := &walker{x: x, u: u}
	base := u.Local
	if isGlob(u.Local) {
		base, w.pattern = doublestar.SplitPattern(u.Local)
		if !strings.Contains(w.pattern, "**") {
			// Without "**" a match is at most as deep as the pattern has
			// segments (alternatives included), so deeper directories need
			// no walking.
			w.maxDepth = strings.Count(w.pattern, "/") + 1
		}
		w.pattern = norm.NFC.String(w.pattern)
	}
	abs := filepath.FromSlash(base)
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(x.m.Dir, abs)
	}
	w.byPath = w.pattern != "" || len(u.Exclude) > 0 || slices.ContainsFunc(x.policy, func(r policyRule) bool { return r.byName == nil })
	w.relBase = "."
	if r, err := filepath.Rel(x.m.Dir, abs); err == nil {
		w.relBase = filepath.ToSlash(r)
	} else {
		w.relBase = filepath.ToSlash(abs)
	}

	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			msg := fmt.Sprintf("%q does not exist", base)
			if w.pattern != "" {
				msg = "matches no files: " + msg
			}
			w.fail(msg)
		} else if isLoop(err) {
			w.fail(fmt.Sprintf("symlink loop: %q never resolves to a file", base))
		} else {
			w.fail(fmt.Sprintf("cannot resolve %q: %s", base, reason(err)))
		}
		return
	}
	if !u.AllowOutside && !inside(x.root, real) {
		w.fail(fmt.Sprintf("%q leads outside the manifest's directory through a symlink; set allow_outside: true to allow this", base))
		return
	}
	info, err := os.Stat(real)
	if err != nil {
		w.fail(fmt.Sprintf("cannot read %q: %s", base, reason(err)))
		return
	}
	switch {
	case info.IsDir():
		w.dir(abs, real, "", "", 0, false, nil)
	case w.pattern != "":
		w.fail(fmt.Sprintf("matches no files: %q is not a directory", base))
		return
	case info.Mode().IsRegular():
		name := filepath.Base(abs)
		nfc := norm.NFC.String(name)
		if x.ignoredPath(real) || x.ignoredName(name) || x.ignoredName(filepath.Base(real)) {
			w.ignored++
			break
		}
		if w.isExcluded(nfc) {
			w.excluded++
			break
		}
		// A single file lands directly in "to"; its relative path is the source.
		w.relBase = filepath.ToSlash(filepath.Dir(w.relBase))
		w.file(abs, w.rel(name), u.To, nfc, info)
	default:
		w.fail(fmt.Sprintf("%q is a %s, not a file or directory", base, typeName(info.Mode())))
		return
	}
	if w.found == 0 && w.failed == 0 {
		msg := "matches no files"
		if w.excluded > 0 {
			msg += fmt.Sprintf(" (exclude removed %d)", w.excluded)
		}
		if w.policyExcluded > 0 {
			msg += fmt.Sprintf(" (the top-level exclude or the default excludes removed %d)", w.policyExcluded)
		}
		if w.ignored > 0 {
			msg += fmt.Sprintf(" (%d left out: state, lock and plan files are never uploaded)", w.ignored)
		}
		w.fail(msg)
	}
	if n := w.failed - maxReports; n > 0 {
		x.errs = append(x.errs, &Error{File: x.m.Path, Pos: u.LocalPos, Field: u.Field("local"), Msg: fmt.Sprintf("and %d more problems like these", n)})
	}
	if n := w.warned - maxReports; n > 0 {
		x.warns = append(x.warns, &Error{File: x.m.Path, Pos: u.LocalPos, Field: u.Field("local"), Msg: fmt.Sprintf("and %d more skipped", n)})
	}
}

// walker expands one local entry below its base directory.
type walker struct {
	x        *expander
	u        *Upload
	pattern  string // glob below the base; "" takes everything
	maxDepth int    // deepest level the pattern can match; 0 means any
	relBase  string // the base relative to Manifest.Dir, slash-separated
	// byPath is set when a rule matches files by their path below the base (a glob, an
	// exclude, a policy pattern with "/"): only then is that path joined for each file.
	byPath bool
	// stack holds the real paths of the directories being walked; a
	// symlink to one of them, or to a directory above one, is a loop.
	stack []string
	// buf receives the walk's own directory listings. bufs and stats are buffers free for
	// reuse: getdents buffers for the listings read ahead, and stat results, one held by
	// each directory being walked or read ahead until the walk is done with it (nothing
	// keeps a FileInfo beyond: source.OfFile copies what it needs).
	buf   []byte
	bufs  [][]byte
	stats [][]statted

	found, excluded, policyExcluded, ignored, failed, warned int
}

func (w *walker) fail(msg string) {
	w.failed++
	if w.failed <= maxReports {
		w.x.errs = append(w.x.errs, &Error{File: w.x.m.Path, Pos: w.u.LocalPos, Field: w.u.Field("local"), Msg: msg})
	}
}

func (w *walker) warn(msg string) {
	w.warned++
	if w.warned <= maxReports {
		w.x.warns = append(w.x.warns, &Error{File: w.x.m.Path, Pos: w.u.LocalPos, Field: w.u.Field("local"), Msg: msg})
	}
}

// rel returns a path below the base as the user would write it in the
// manifest, for messages.
func (w *walker) rel(below string) string {
	if w.relBase == "." {
		return below
	}
	if below == "" {
		return w.relBase
	}
	return w.relBase + "/" + below
}

func (w *walker) isExcluded(relNFC string) bool {
	for _, p := range w.u.Exclude {
		if doublestar.MatchUnvalidated(p, relNFC) {
			return true
		}
	}
	return false
}

// leftOutByPolicy reports whether a policy exclude (the manifest's top-level exclude or a
// default) matches the file or directory named name (NFC) at rel below the base, and records
// the hit at its address in folder when it does. The address is joined only for a hit: this
// runs for every file of every walk.
func (w *walker) leftOutByPolicy(folder, name, rel string, dir bool) bool {
	r := matchPolicy(w.x.policy, name, rel)
	if r == nil {
		return false
	}
	w.x.hits = append(w.x.hits, PolicyHit{Address: address(folder, name), Dir: dir, Pattern: r.pattern, Default: r.isDef})
	w.policyExcluded++
	return true
}

// joinTail returns prefix+name, sharing the bytes of s when s ends with it, as a file's path
// as the user sees it mostly ends with its path relative to the manifest: one allocation fewer
// for each file of a walk.
func joinTail(s, prefix, name string) string {
	if n := len(prefix) + len(name); len(s) >= n && strings.HasSuffix(s, name) && s[len(s)-n:len(s)-len(name)] == prefix {
		return s[len(s)-n:]
	}
	return prefix + name
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// heldLevels is how many levels of directories a walk keeps open at once: deeper trees than
// that are rare, and a process may open only so many files (TestExpandDeepTreeFewDescriptors).
const heldLevels = 16

// dir walks one directory. abs is its path as the user sees it, real the
// same with symlinks resolved; relDisk and relNFC are its path below the
// base as on disk and NFC-normalised. matched is set below a directory that
// itself matched the glob: such a directory is taken whole. ahead is its listing when it
// was read ahead (nil: dir reads it).
func (w *walker) dir(abs, real, relDisk, relNFC string, depth int, matched bool, ahead *listing) {
	if w.buf == nil {
		w.buf = make([]byte, direntBuf)
	}
	// Every regular file listed is stat'ed below, but for the few excludes and the policy
	// leave out (a stat of those is wasted, and an error in it never reported), so they can
	// be stat'ed ahead, in parallel. Below a glob that has not matched the directory whole,
	// most may be left out unstat'ed.
	whole := w.pattern == "" || matched
	// The directory stays open while its subdirectories are walked, so a
	// walk holds one descriptor per level of depth, down to heldLevels;
	// deeper ones let go of theirs before walking below them (and one more
	// per level for a sibling read ahead).
	l := ahead
	if l != nil {
		w.take(l)
	} else {
		l = &listing{}
		l.d, l.err = openDir(abs)
		if l.err == nil {
			l.entries, l.err = l.d.entries(w.buf)
		}
		if l.err == nil && whole {
			l.stats = w.takeStats()
			l.pre = l.d.prestat(l.entries, l.stats)
		}
	}
	defer w.done(l)
	d, entries, pre, err := l.d, l.entries, l.pre, l.err
	if d != nil {
		defer d.close()
	}
	if err != nil {
		w.fail(fmt.Sprintf("cannot read directory %q: %s", w.rel(relDisk), reason(err)))
		return
	}
	w.stack = append(w.stack, real)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()
	atRoot := real == w.x.root
	sep := string(filepath.Separator)
	// What every file of this directory shares, joined once here rather than
	// once per file: most entries are files, and each concatenation is an
	// allocation the 10,000-file no-op plan pays 10,000 times.
	absPrefix := abs + sep
	folder := w.u.To
	if relNFC != "" {
		folder = address(w.u.To, relNFC)
	}
	relPrefix := w.rel(relDisk)
	if relPrefix != "" {
		relPrefix += "/"
	}
	ignoredHere := w.x.ignorePaths[real]
	// queue holds the subdirectories read ahead, in entry order; those below scan were
	// considered for it.
	var queue []*listing
	scan := 0
	defer func() {
		for _, l := range queue {
			w.drop(l)
		}
	}()
	for i, e := range entries {
		for len(queue) > 0 && queue[0].index < i {
			w.drop(queue[0]) // read ahead, then left out after all
			queue = queue[1:]
		}
		name := e.name
		// Before a symlink is followed: a link to a state file that is not written yet
		// dangles, and is no error.
		if ignoredHere[name] || w.x.ignoredName(name) {
			continue
		}
		nfc := norm.NFC.String(name)
		cAbs := absPrefix + name
		typ := e.typ
		var info fs.FileInfo
		var cReal string // set for directories only: files need no real path
		if typ&fs.ModeSymlink != 0 {
			target, fi, ok := w.follow(cAbs, relPrefix+name)
			if !ok {
				continue
			}
			if w.x.ignoredPath(target) || w.x.ignoredName(filepath.Base(target)) {
				continue
			}
			cReal, info, typ = target, fi, fi.Mode().Type()
		}
		var cNFC string // the path below the base, NFC; for a file, only when a rule reads it
		if typ.IsDir() || w.byPath {
			cNFC = joinRel(relNFC, nfc)
		}
		if w.isExcluded(cNFC) {
			w.excluded++
			continue
		}
		if typ.IsDir() && w.leftOutByPolicy(folder, nfc, cNFC, true) {
			continue
		}
		if typ.IsDir() {
			if cReal == "" {
				cReal = real + sep + name
			}
			cDisk := joinRel(relDisk, name)
			if hasControl(name) {
				w.fail(badName("directory", w.rel(cDisk)))
				continue
			}
			if w.loops(cReal) {
				w.fail(fmt.Sprintf("symlink loop: %q leads back into a directory being walked", w.rel(cDisk)))
				continue
			}
			m := matched || w.pattern != "" && doublestar.MatchUnvalidated(w.pattern, cNFC)
			if !m && w.maxDepth > 0 && depth+1 >= w.maxDepth {
				continue
			}
			var ahead *listing
			if len(queue) > 0 && queue[0].index == i {
				ahead, queue = queue[0], queue[1:]
			}
			if depth >= heldLevels {
				d.release()
			} else if whole && depth+1 < heldLevels {
				for scan = max(scan, i+1); len(queue) < readAheadDirs; {
					j := w.nextDir(entries, scan, ignoredHere, relNFC)
					if j < 0 {
						scan = len(entries)
						break
					}
					queue = append(queue, w.readAhead(absPrefix+entries[j].name, j))
					scan = j + 1
				}
			}
			w.dir(cAbs, cReal, cDisk, cNFC, depth+1, m, ahead)
			continue
		}
		if atRoot && name == w.x.manifestName {
			continue
		}
		if w.pattern != "" && !matched && !doublestar.MatchUnvalidated(w.pattern, cNFC) {
			continue
		}
		if w.leftOutByPolicy(folder, nfc, cNFC, false) {
			continue
		}
		if !typ.IsRegular() {
			w.warn(fmt.Sprintf("skipped %s %q", typeName(typ), relPrefix+name))
			continue
		}
		if hasControl(name) {
			w.fail(badName("file", relPrefix+name))
			continue
		}
		if info == nil {
			if pre != nil {
				// A regular file by its listed type: prestat took it.
				info, err = pre[i].info, pre[i].err
			} else {
				info, err = d.lstat(name)
			}
			if err != nil {
				w.fail(fmt.Sprintf("cannot read %q: %s", relPrefix+name, reason(err)))
				continue
			}
		}
		w.file(cAbs, joinTail(cAbs, relPrefix, name), folder, nfc, info)
	}
}

// nextDir returns the index of the first entry from i on that the walk is likely to enter, or
// -1: a directory by its listed type that no ignore, exclude or policy rule leaves out. It is
// a guess, for reading ahead: the walk's loop decides, and a directory read ahead that it does
// not enter is dropped unused.
func (w *walker) nextDir(entries []dirent, i int, ignoredHere map[string]bool, relNFC string) int {
	for ; i < len(entries); i++ {
		e := entries[i]
		if !e.typ.IsDir() || ignoredHere[e.name] || w.x.ignoredName(e.name) || hasControl(e.name) {
			continue
		}
		nfc := norm.NFC.String(e.name)
		rel := joinRel(relNFC, nfc)
		if w.isExcluded(rel) || matchPolicy(w.x.policy, nfc, rel) != nil {
			continue
		}
		return i
	}
	return -1
}

// follow resolves a symlink met during the walk and stats its target;
// shown is its path as messages name it.
func (w *walker) follow(abs, shown string) (string, fs.FileInfo, bool) {
	target, err := filepath.EvalSymlinks(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.fail(fmt.Sprintf("broken symlink %q", shown))
		return "", nil, false
	case isLoop(err):
		w.fail(fmt.Sprintf("symlink loop: %q never resolves to a file", shown))
		return "", nil, false
	case err != nil:
		w.fail(fmt.Sprintf("cannot follow symlink %q: %s", shown, reason(err)))
		return "", nil, false
	case !w.u.AllowOutside && !inside(w.x.root, target):
		w.fail(fmt.Sprintf("symlink %q points outside the manifest's directory; set allow_outside: true to follow it", shown))
		return "", nil, false
	}
	info, err := os.Stat(target)
	if err != nil {
		w.fail(fmt.Sprintf("cannot read %q: %s", shown, reason(err)))
		return "", nil, false
	}
	return target, info, true
}

// loops reports whether walking the directory real would come back to one
// being walked: it is one of them or above one of them.
func (w *walker) loops(real string) bool {
	for _, s := range w.stack {
		if inside(real, s) {
			return true
		}
	}
	return false
}

// file records one regular file: path is its absolute path, relPath its
// path relative to Manifest.Dir, folder and name its destination.
func (w *walker) file(path, relPath, folder, name string, info fs.FileInfo) {
	if !readable(path, info) {
		w.fail(fmt.Sprintf("cannot read %q: permission denied", relPath))
		return
	}
	w.found++
	w.x.add(Desired{
		Address:   address(folder, name),
		Folder:    folder,
		Name:      name,
		Source:    source.OfFile(relPath, info),
		StatRule:  w.u.StatRule,
		StableFor: w.u.StableFor,
		Priority:  w.u.Priority,
		Path:      path,
		OnChange:  w.u.OnChange,
		Upload:    w.u.Index,
		Pos:       w.u.Pos,
	})
}

// SortedByAddress reports whether files are in address order. It compares the addresses in
// place: slices.IsSortedFunc would copy two Desired values into every comparison, which a
// plan over 100,000 files notices.
func SortedByAddress(files []Desired) bool {
	for i := 1; i < len(files); i++ {
		if files[i].Address < files[i-1].Address {
			return false
		}
	}
	return true
}

// dedupe sorts the files by address and reports addresses produced twice,
// once per pair of entries with a count, so listing one directory twice
// yields one line rather than thousands.
func (x *expander) dedupe() {
	// One pass says both whether the files are in address order (the walk's order mostly is)
	// and whether two share an address (seldom): then, and only then, the pairs are counted.
	sorted, twice := true, false
	for i := 1; i < len(x.files) && sorted; i++ {
		switch strings.Compare(x.files[i-1].Address, x.files[i].Address) {
		case 1:
			sorted = false
		case 0:
			twice = true
		}
	}
	if !sorted {
		slices.SortStableFunc(x.files, func(a, b Desired) int { return strings.Compare(a.Address, b.Address) })
		twice = true // not known: look
	}
	if !twice {
		return
	}
	type pair struct{ first, second int }
	type dup struct {
		a, b  Desired
		count int
	}
	var order []pair
	dups := make(map[pair]*dup)
	first := 0
	for i := 1; i < len(x.files); i++ {
		if x.files[i].Address != x.files[first].Address {
			first = i
			continue
		}
		a, b := x.files[first], x.files[i]
		k := pair{a.Upload, b.Upload}
		if d, ok := dups[k]; ok {
			d.count++
			continue
		}
		order = append(order, k)
		dups[k] = &dup{a: a, b: b, count: 1}
	}
	for _, k := range order {
		d := dups[k]
		u := &x.m.Uploads[k.second]
		var msg string
		if k.first == k.second {
			msg = fmt.Sprintf("%q is produced twice, from %q and %q (names that differ only in Unicode normalisation?)", d.a.Address, d.a.Source.Path, d.b.Source.Path)
		} else {
			f := &x.m.Uploads[k.first]
			msg = fmt.Sprintf("%q is also produced by %s at line %d", d.a.Address, f.Field(""), f.Pos.Line)
		}
		if d.count > 1 {
			msg += fmt.Sprintf(" (and %d more)", d.count-1)
		}
		x.errs = append(x.errs, &Error{File: x.m.Path, Pos: u.Pos, Field: u.Field(""), Msg: msg})
	}
}

// badName is the refusal of a file or directory whose name holds control characters, as
// "name:" and "to:" refuse them: such a name would reach plans, state and Frame.io, where a
// newline or an escape sequence can forge or hide lines. %q shows the name escaped.
func badName(kind, rel string) string {
	return fmt.Sprintf("%s name %q contains control characters; rename it, or exclude it", kind, rel)
}

// reason returns the cause of a file-system error without the path, which
// the message already names in the user's terms.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrPermission) {
		return "permission denied"
	}
	return err.Error()
}

// isLoop reports whether resolving a symlink failed because it loops.
// filepath.EvalSymlinks detects that itself and returns a plain error, so
// the text is all there is to go on; the OS reports ELOOP for the rest.
func isLoop(err error) bool {
	return err != nil && (errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "too many links"))
}

// typeName names the file types that Expand skips.
func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
