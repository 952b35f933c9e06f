//go:build unix

package store

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
)

// mapMin is the smallest state file readState maps rather than reads.
const mapMin = 1 << 20

// readState returns the content of the state file at path, and release, to call once done
// with it. A large file is mapped, not read: the state is then decoded straight from the page
// cache, without copying the whole file into the heap first and a page fault for every 4 KiB
// of that copy (at 100,000 entries, 45 MB); the decoder copies out what the state keeps, a
// fifth of it. lent reports a mapping: the caller must decode it with decodeMapped, and keep
// nothing of data after release. A small file, or one that cannot be mapped, is read.
func readState(path string) (data string, lent bool, release func(), err error) {
	file, fi, err := openRegular(path)
	if err != nil {
		return "", false, nil, err
	}
	defer file.Close()
	if fi.Size() < mapMin || fi.Size() >= 1<<30 {
		data, err := readOpen(file, readSize(fi))
		return data, false, func() {}, err
	}
	b, err := unix.Mmap(int(file.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		data, err := readOpen(file, int(fi.Size()))
		return data, false, func() {}, err
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), true, func() { _ = unix.Munmap(b) }, nil
}

// decodeMapped is statefile.DecodeLent of the state file at path mapped as data. Mapped
// memory faults when the file is cut short under it (something other than fiosync rewriting
// it in place, cp for one: fiosync itself replaces the file by a rename, which leaves the
// mapped one whole); the fault is an error here, not a crash.
func decodeMapped(path, data string) (s *state.State, sum source.Digest, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, fault := r.(interface{ Addr() uintptr }); !fault {
			panic(r)
		}
		s, sum, err = nil, source.Digest{}, fmt.Errorf("load state %q: the file was cut short while it was read (rewritten in place by another program?); run the command again", path)
	}()
	return statefile.DecodeLent(data)
}
