package apply

import (
	"io/fs"
	"syscall"
	"time"
)

// statIdentity returns the inode and change time of fi, the parts of the stat cache that
// fs.FileInfo does not expose portably. plan records the same fields the same way.
func statIdentity(fi fs.FileInfo) (uint64, time.Time) {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return sys.Ino, time.Unix(sys.Ctim.Unix()).UTC()
	}
	return 0, time.Time{}
}
