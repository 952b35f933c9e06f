package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
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
