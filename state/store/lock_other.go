//go:build !unix

package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Lock is not supported on this platform: fiosync relies on flock(2).
func (f *File) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (Unlocker, error) {
	return nil, fmt.Errorf("lock state %q: file locking is only implemented on Unix", f.path)
}

// ForceUnlock removes the lock file.
func (f *File) ForceUnlock(ctx context.Context) error {
	if err := os.Remove(f.LockPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unlock state %q: %w", f.path, err)
	}
	return nil
}
