package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
)

// dirent is one entry of a directory listing.
type dirent struct {
	name string
	typ  fs.FileMode // the type bits, as fs.DirEntry.Type returns them
}

// readDirByPath lists the directory at path through the os package, sorted by name: the walk
// on systems other than Linux, and on Linux when no descriptor is left to keep it open.
func readDirByPath(path string) ([]dirent, error) {
	list, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	out := make([]dirent, len(list))
	for i, e := range list {
		out[i] = dirent{name: e.Name(), typ: e.Type()}
	}
	return out, nil
}

// lstatByPath stats the entry name of the directory at dir without following a symlink.
func lstatByPath(dir, name string) (fs.FileInfo, error) {
	return os.Lstat(dir + string(filepath.Separator) + name)
}

// statted is the lstat of one directory entry, taken ahead of the walk's loop over them.
type statted struct {
	info fs.FileInfo
	err  error
	buf  statBuf // where info lives, when the system's lstat can fill it in place
}

// Below minStatBatch entries a directory's files are stat'ed one after the other: handing
// a few files to other goroutines costs more than it saves.
const minStatBatch = 64

// statWorkers bounds the goroutines stat'ing one directory's files.
const statWorkers = 8

// prestat lstats the directory's regular files (by their listed type; what a symlink leads
// to is resolved by the walk itself) from several goroutines at once, as git preloads its
// index, and returns the results by entry index in out, which it resizes (the entries it
// left alone are zero), or nil when it left them all to the walk. The
// walk then takes them in its own order, so what it reports and in which order does not
// change; the system calls of a no-op plan over a tree of small directories are most of
// its time, and they scale with the cores.
func (d *dir) prestat(entries []dirent, out []statted) []statted {
	workers := min(runtime.GOMAXPROCS(0), statWorkers)
	if workers < 2 || len(entries) < minStatBatch {
		return nil
	}
	files := regularFiles(entries)
	if len(files) < minStatBatch {
		return nil
	}
	workers = min(workers, len(files)/(minStatBatch/2))
	out = statSlots(out, len(entries))
	var wg sync.WaitGroup
	per := (len(files) + workers - 1) / workers
	chunks := slices.Collect(slices.Chunk(files, per))
	for _, chunk := range chunks[1:] {
		wg.Go(func() { d.statEach(entries, chunk, out) })
	}
	d.statEach(entries, chunks[0], out) // this goroutine takes a share too: one fewer to wake
	wg.Wait()
	return out
}

// regularFiles returns the indexes of the entries listed as regular files.
func regularFiles(entries []dirent) []int {
	files := make([]int, 0, len(entries))
	for i, e := range entries {
		if e.typ.IsRegular() {
			files = append(files, i)
		}
	}
	return files
}

// statSlots returns out resized to n zeroed results.
func statSlots(out []statted, n int) []statted {
	out = slices.Grow(out[:0], n)[:n]
	clear(out)
	return out
}

// statEach lstats the entries at the indexes files into out.
func (d *dir) statEach(entries []dirent, files []int, out []statted) {
	for _, i := range files {
		out[i].info, out[i].err = d.lstatInto(entries[i].name, &out[i].buf)
	}
}

// listing is a directory opened and listed, its regular files stat'ed (by entry index in
// pre; nil when the walk stats them itself), or the error that stopped that.
type listing struct {
	d       *dir // nil when it could not be opened
	entries []dirent
	pre     []statted
	err     error
	// For a listing read ahead: done is closed once the fields above are set, index is the
	// directory's entry in its parent; buf and stats are the buffers it was given, for the
	// walk to reuse once it has taken or dropped the listing.
	done  chan struct{}
	index int
	buf   []byte
	stats []statted
}

// readAheadDirs is how many subdirectories of the directory being walked are read ahead of
// the walk. More than one: a goroutine started for one may not run on another core before
// the walk gets there (waking an idle core can take longer than the walk spends on a small
// directory), while the next ones will.
const readAheadDirs = 3

// readAhead opens, lists and stats the directory at path on a goroutine of its own, while
// the walk works through the directories before it: the next subdirectories the walk is
// likely to enter. The walk then finds the system calls done, and a tree of many small
// directories (a delivery of image sequences) keeps both cores busy: the walk's own work on
// one directory, the next ones' system calls.
func (w *walker) readAhead(path string, index int) *listing {
	l := &listing{done: make(chan struct{}), index: index, buf: w.takeBuf(), stats: w.takeStats()}
	go func() {
		defer close(l.done)
		d, err := openDir(path)
		if err != nil {
			l.err = err
			return
		}
		l.d = d
		if l.entries, l.err = d.entries(l.buf); l.err != nil {
			return
		}
		if l.pre = d.prestat(l.entries, l.stats); l.pre != nil {
			return // stat'ed from several goroutines: a large directory
		}
		if files := regularFiles(l.entries); len(files) > 0 {
			l.pre = statSlots(l.stats, len(l.entries))
			d.statEach(l.entries, files, l.pre)
		}
	}()
	return l
}

// take waits for the listing l read ahead, giving its getdents buffer back to the walk (the
// entries are copied out of it).
func (w *walker) take(l *listing) {
	<-l.done
	w.bufs = append(w.bufs, l.buf)
	l.buf = nil
}

// done gives back the stats buffer of a listing the walk has finished with.
func (w *walker) done(l *listing) {
	if l.pre != nil {
		w.stats = append(w.stats, l.pre) // grown from l.stats, or l.stats itself
	} else if l.stats != nil {
		w.stats = append(w.stats, l.stats)
	}
	l.pre, l.stats = nil, nil
}

// drop lets go of a listing read ahead that the walk did not enter.
func (w *walker) drop(l *listing) {
	w.take(l)
	if l.d != nil {
		l.d.close()
	}
	w.done(l)
}

func (w *walker) takeBuf() []byte {
	if n := len(w.bufs); n > 0 {
		b := w.bufs[n-1]
		w.bufs = w.bufs[:n-1]
		return b
	}
	return make([]byte, direntBuf)
}

// direntBuf is the size of the buffers directories are listed into.
const direntBuf = 32 << 10

func (w *walker) takeStats() []statted {
	if n := len(w.stats); n > 0 {
		s := w.stats[n-1]
		w.stats = w.stats[:n-1]
		return s
	}
	return nil
}
