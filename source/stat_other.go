//go:build !linux

package source

import (
	"io/fs"
	"time"
)

// statIDs reports nothing on platforms other than Linux; the stat cache then
// relies on size and mtime alone.
func statIDs(fs.FileInfo) (inode uint64, ctime time.Time, ok bool) {
	return 0, time.Time{}, false
}
