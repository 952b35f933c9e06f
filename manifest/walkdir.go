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
	files := make([]int, 0, len(entries))
	for i, e := range entries {
		if e.typ.IsRegular() {
			files = append(files, i)
		}
	}
	if len(files) < minStatBatch {
		return nil
	}
	workers = min(workers, len(files)/(minStatBatch/2))
	out = slices.Grow(out[:0], len(entries))[:len(entries)]
	clear(out)
	var wg sync.WaitGroup
	per := (len(files) + workers - 1) / workers
	for chunk := range slices.Chunk(files, per) {
		wg.Go(func() {
			for _, i := range chunk {
				out[i].info, out[i].err = d.lstatInto(entries[i].name, &out[i].buf)
			}
		})
	}
	wg.Wait()
	return out
}
