//go:build !linux || portablewalk

package manifest

import "io/fs"

// dir is a directory being walked. Elsewhere than on Linux the walk lists
// and stats through the os package, by full path.
type dir struct {
	path string
}

// openDir opens the directory at path.
func openDir(path string) (*dir, error) {
	return &dir{path: path}, nil
}

// close closes the directory.
func (d *dir) close() {}

// release lets go of what the directory holds before the walk goes deeper: nothing here.
func (d *dir) release() {}

// entries returns the directory's entries sorted by name; buf is unused.
func (d *dir) entries([]byte) ([]dirent, error) { return readDirByPath(d.path) }

// lstat stats the entry name of the directory without following a symlink.
func (d *dir) lstat(name string) (fs.FileInfo, error) { return lstatByPath(d.path, name) }

// statBuf is unused here: os.Lstat allocates its own FileInfo.
type statBuf struct{}

// lstatInto is lstat; buf is unused.
func (d *dir) lstatInto(name string, _ *statBuf) (fs.FileInfo, error) { return d.lstat(name) }
