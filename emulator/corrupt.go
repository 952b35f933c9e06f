package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"os"
)

// ErrNotCorruptible is returned by Corrupt for an id that is not a complete file.
var ErrNotCorruptible = errors.New("not a complete file")

// Corrupt flips every bit of the byte in the middle of a complete file's stored content, in
// place, as bit rot in storage would: the file's resource (name, size, status) does not
// change, so only a client that downloads and hashes the bytes can tell. FileInfo then reports
// the BLAKE3 of the damaged bytes. It returns the offset of the byte it changed. The same
// switch is POST /_emulator/files/{id}/corrupt, which answers {"offset": N}.
func (e *Emulator) Corrupt(id string) (offset int64, err error) {
	e.mu.Lock()
	f := e.st.file(id)
	var sizes []int64
	if f != nil && f.Status == statusUploaded && f.Size > 0 {
		sizes = f.Parts
		if f.Remote {
			sizes = []int64{f.Size}
		}
	}
	e.mu.Unlock()
	if sizes == nil {
		return 0, fmt.Errorf("corrupt file %q: %w", id, ErrNotCorruptible)
	}
	var total int64
	for _, s := range sizes {
		total += s
	}
	offset = total / 2
	part, at := 0, offset
	for at >= sizes[part] {
		at -= sizes[part]
		part++
	}
	pf, err := os.OpenFile(e.partPath(id, part), os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("corrupt file %q: %w", id, err)
	}
	defer pf.Close()
	b := make([]byte, 1)
	if _, err := pf.ReadAt(b, at); err != nil {
		return 0, fmt.Errorf("corrupt file %q: read: %w", id, err)
	}
	b[0] ^= 0xff
	if _, err := pf.WriteAt(b, at); err != nil {
		return 0, fmt.Errorf("corrupt file %q: write: %w", id, err)
	}
	if err := pf.Close(); err != nil {
		return 0, fmt.Errorf("corrupt file %q: %w", id, err)
	}
	sum, err := e.hashParts(id, len(sizes))
	if err != nil {
		return 0, fmt.Errorf("corrupt file %q: %w", id, err)
	}
	e.mu.Lock()
	if f := e.st.file(id); f != nil {
		f.BLAKE3 = sum
	}
	e.mu.Unlock()
	return offset, nil
}

func (e *Emulator) handleTestCorrupt(w http.ResponseWriter, r *http.Request) {
	off, err := e.Corrupt(r.PathValue("id"))
	if err != nil {
		writeError(w, errNotFound("file", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"offset": off})
}
