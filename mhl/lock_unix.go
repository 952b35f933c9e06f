//go:build unix

package mhl

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockHistory takes an exclusive flock(2) on the history folder itself (no lock file is left
// in it to be uploaded), waiting for another writer to finish. The kernel drops it when the
// process ends however it ends.
func lockHistory(hdir string) (func(), error) {
	d, err := os.Open(hdir)
	if err != nil {
		return nil, fmt.Errorf("lock ASC MHL history: %w", err)
	}
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock ASC MHL history %s: %w", hdir, err)
	}
	return func() {
		unix.Flock(int(d.Fd()), unix.LOCK_UN)
		d.Close()
	}, nil
}
