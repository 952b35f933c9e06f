//go:build unix

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// errBusy means another open file description holds the flock.
var errBusy = errors.New("lock busy")

// Lock takes an exclusive flock(2) on the lock file, waiting up to timeout,
// and records info in it. The kernel drops the flock when the holder's
// process ends however it ends, so a killed fiosync never leaves the state
// locked. The lock file is removed on Unlock.
func (f *File) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (Unlocker, error) {
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	info = info.Complete(f.path, now())
	poll := f.pollInterval
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		l, err := f.tryLock(info)
		if err == nil {
			f.recover(ctx)
			return l, nil
		}
		if !errors.Is(err, errBusy) {
			return nil, fmt.Errorf("lock state %q: %w", f.path, err)
		}
		if timeout <= 0 {
			return nil, &LockedError{State: f.path, Holder: f.readHolder()}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock state %q: %w", f.path, ctx.Err())
		case <-expired:
			// One last try, so a lock released just now is not missed.
			if l, err := f.tryLock(info); err == nil {
				f.recover(ctx)
				return l, nil
			}
			return nil, &LockedError{State: f.path, Holder: f.readHolder()}
		case <-tick.C:
		}
	}
}

// tryLock makes one attempt to take the lock without blocking.
func (f *File) tryLock(info LockInfo) (*fileLock, error) {
	// A holder removes the lock file when it unlocks, and ForceUnlock may
	// remove it at any time, so the file this process locked may no longer
	// be the one at the path. Retry a few times with the new file.
	lockPath := f.LockPath()
	for range 10 {
		fd, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := flock(fd); err != nil {
			fd.Close()
			return nil, err
		}
		ours, err := fd.Stat()
		if err != nil {
			fd.Close()
			return nil, err
		}
		atPath, err := os.Stat(lockPath)
		if err != nil || !os.SameFile(ours, atPath) {
			fd.Close()
			continue
		}
		if err := writeHolder(fd, info); err != nil {
			fd.Close()
			return nil, err
		}
		return &fileLock{fd: fd, path: lockPath}, nil
	}
	return nil, errBusy
}

func flock(fd *os.File) error {
	for {
		err := unix.Flock(int(fd.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errBusy
		default:
			return fmt.Errorf("flock %q: %w", fd.Name(), err)
		}
	}
}

// writeHolder records info at the start of the lock file, then cuts the
// file to length. A reader racing with it sees the new record followed by
// leftovers of an old one, which the JSON decoder ignores.
func writeHolder(fd *os.File, info LockInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode lock info: %w", err)
	}
	data = append(data, '\n')
	if _, err := fd.WriteAt(data, 0); err != nil {
		return fmt.Errorf("write lock info: %w", err)
	}
	if err := fd.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("write lock info: %w", err)
	}
	return nil
}

// readHolder reads the holder's record from the lock file. The holder
// writes it just after taking the flock, so a contender may look in between:
// it tries a few times before settling for a zero LockInfo.
func (f *File) readHolder() LockInfo {
	for range 20 {
		data, err := os.ReadFile(f.LockPath())
		if err == nil {
			var info LockInfo
			if json.Unmarshal(firstLine(data), &info) == nil && info.PID != 0 {
				return info
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return LockInfo{}
}

func firstLine(b []byte) []byte {
	for i, c := range b {
		if c == '\n' {
			return b[:i]
		}
	}
	return b
}

// ForceUnlock removes the lock file. A process still holding a flock on it
// keeps running, so use it only when the holder is known to be gone, on a
// file system where flock does not work (some network file systems).
func (f *File) ForceUnlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("unlock state %q: %w", f.path, err)
	}
	if err := os.Remove(f.LockPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unlock state %q: %w", f.path, err)
	}
	return nil
}

// fileLock is a held flock.
type fileLock struct {
	mu   sync.Mutex
	fd   *os.File
	path string
}

// Unlock removes the lock file, if it is still ours, and releases the flock.
func (l *fileLock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd == nil {
		return nil
	}
	fd := l.fd
	l.fd = nil
	ours, statErr := fd.Stat()
	atPath, err := os.Stat(l.path)
	if statErr == nil && err == nil && os.SameFile(ours, atPath) {
		if err := os.Remove(l.path); err != nil {
			fd.Close()
			return fmt.Errorf("unlock %q: %w", l.path, err)
		}
	}
	if err := fd.Close(); err != nil {
		return fmt.Errorf("unlock %q: %w", l.path, err)
	}
	return nil
}
