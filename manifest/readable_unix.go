//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package manifest

import (
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"
)

// identity is who this process is, for reading permission bits; looked up once.
var identity = sync.OnceValue(func() (id struct {
	euid   int
	groups []int
}) {
	id.euid = os.Geteuid()
	id.groups, _ = os.Getgroups()
	id.groups = append(id.groups, os.Getegid())
	return id
})

// readable reports whether the process may open path for reading. The permission bits of
// the stat the walk already took answer most cases without a system call, which matters on
// trees of many thousands of files; when they say no (or cannot be read), access(2) has the
// last word, since ACLs can grant what the bits do not. Neither opens the file, so the walk
// cannot block on a FIFO swapped in since the stat.
func readable(path string, info fs.FileInfo) bool {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		id, perm := identity(), info.Mode().Perm()
		switch {
		case id.euid == 0:
			return true
		case int(st.Uid) == id.euid:
			if perm&0o400 != 0 {
				return true
			}
		case slices.Contains(id.groups, int(st.Gid)):
			if perm&0o040 != 0 {
				return true
			}
		case perm&0o004 != 0:
			return true
		}
	}
	const rOK = 4
	return syscall.Access(path, rOK) == nil
}
