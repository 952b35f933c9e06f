package mhl

import "path/filepath"

// Finder finds the history that covers a file: the nearest folder at or above the file's
// folder that holds an ascmhl folder (ASC MHL records a file only in its nearest history).
// It caches what it found per folder; it is not safe for concurrent use.
type Finder struct {
	roots map[string]string
}

// NewFinder returns an empty Finder.
func NewFinder() *Finder { return &Finder{roots: map[string]string{}} }

// Root returns the root of the history covering file (an absolute path), or "" when none does.
// A file inside a history's own ascmhl folder is covered by none.
func (f *Finder) Root(file string) string {
	dir := filepath.Dir(file)
	if filepath.Base(dir) == Dir && Exists(filepath.Dir(dir)) {
		return ""
	}
	return f.dirRoot(dir)
}

func (f *Finder) dirRoot(dir string) string {
	if r, ok := f.roots[dir]; ok {
		return r
	}
	var r string
	if Exists(dir) {
		r = dir
	} else if parent := filepath.Dir(dir); parent != dir {
		r = f.dirRoot(parent)
	}
	f.roots[dir] = r
	return r
}
