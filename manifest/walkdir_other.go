//go:build !linux

package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
)

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

// entries returns the directory's entries sorted by name; buf is unused.
func (d *dir) entries([]byte) ([]dirent, error) {
	list, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	out := make([]dirent, len(list))
	for i, e := range list {
		out[i] = dirent{name: e.Name(), typ: e.Type()}
	}
	return out, nil
}

// lstat stats the entry name of the directory without following a symlink.
func (d *dir) lstat(name string) (fs.FileInfo, error) {
	return os.Lstat(d.path + string(filepath.Separator) + name)
}
