package apply

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/fiosync/fiosync/state"
)

// localSource returns the state's view of a local file from its stat, without a hash.
func localSource(relPath string, fi fs.FileInfo) state.Source {
	ino, ctime := statIdentity(fi)
	return state.Source{
		Kind:    state.KindLocal,
		Path:    relPath,
		Size:    fi.Size(),
		ModTime: fi.ModTime().UTC(),
		Inode:   ino,
		Ctime:   ctime,
	}
}

// sameStat reports whether two stats of a local source describe the same content as far as
// the stat cache can tell: size, mtime, inode and ctime all equal.
func sameStat(a, b state.Source) bool {
	return a.Size == b.Size && a.ModTime.Equal(b.ModTime) && a.Inode == b.Inode && a.Ctime.Equal(b.Ctime)
}

// describeStatChange says what differs between two stats, for messages.
func describeStatChange(before, after state.Source) string {
	switch {
	case before.Size != after.Size:
		return fmt.Sprintf("size %d -> %d", before.Size, after.Size)
	case !before.ModTime.Equal(after.ModTime):
		return fmt.Sprintf("mtime %s -> %s", before.ModTime.Format(time.RFC3339Nano), after.ModTime.Format(time.RFC3339Nano))
	case before.Inode != after.Inode:
		return "replaced by another file (inode changed)"
	default:
		return "metadata changed (ctime)"
	}
}
