package apply

import (
	"fmt"
	"time"

	"github.com/fiosync/fiosync/state"
)

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
