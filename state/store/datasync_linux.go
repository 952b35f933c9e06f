package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync makes fd's data durable, and of its metadata what reading the data back needs
// (its size): fdatasync(2), which skips the timestamps fsync would also write.
func datasync(fd *os.File) error {
	for {
		err := unix.Fdatasync(int(fd.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
