//go:build !linux

package store

import "os"

// datasync makes fd's data durable.
func datasync(fd *os.File) error { return fd.Sync() }
