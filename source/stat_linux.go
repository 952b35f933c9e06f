//go:build linux

package source

import (
	"io/fs"
	"syscall"
	"time"
)

// statIDs returns the inode number and status-change time of fi, which the
// stat cache compares besides size and mtime: together they catch a file
// replaced by another with the same size and mtime (a restore, a copy with
// preserved times).
func statIDs(fi fs.FileInfo) (inode uint64, ctime time.Time, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, time.Time{}, false
	}
	return st.Ino, time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
