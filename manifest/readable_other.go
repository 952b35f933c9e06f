//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package manifest

import (
	"io/fs"
	"os"
)

// readable reports whether the process may open path for reading.
func readable(path string, _ fs.FileInfo) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
