package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path: into a temporary file in path's directory, synced and given
// perm, which then replaces path by a rename. On any failure path is as it was and the
// temporary file is gone.
func Write(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	merr := tmp.Chmod(perm)
	if err := errors.Join(werr, serr, merr, tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
