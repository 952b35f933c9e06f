package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/verify"
)

// mhlOutFormat is the hash verify --mhl-out records: ASC MHL's most used format, and one of
// the cheapest to compute beside BLAKE3.
const mhlOutFormat = mhl.XXH128

// mhlOut collects, for verify --mhl-out, the ASC MHL hash of every file verify downloads,
// computed from the same bytes as its BLAKE3 (verify.Options.Tee).
type mhlOut struct {
	dir   string
	start time.Time

	mu     sync.Mutex
	hashes map[string]*mhl.Hasher // by address
}

func newMHLOut(dir string) *mhlOut {
	return &mhlOut{dir: dir, start: time.Now(), hashes: map[string]*mhl.Hasher{}}
}

// tee is verify.Options.Tee.
func (m *mhlOut) tee(address string) io.Writer {
	h := mhl.NewHasher(mhlOutFormat)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hashes[address] = h
	return h
}

// write records the files verify confirmed by download (a match, or the first verify of a
// remote source) as a new transfer generation of DIR's history. A file that did not verify is
// left out: a transfer generation records what arrived as it should. Paths are the addresses
// in Frame.io, relative to the project root.
func (m *mhlOut) write(w io.Writer, rep *verify.Report, project string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var files []mhl.FileHashes
	for _, r := range rep.Results {
		h := m.hashes[r.Address]
		if h == nil || (r.Outcome != verify.OutcomeMatch && r.Outcome != verify.OutcomeRecorded) || h.Size() != r.GotSize {
			continue
		}
		files = append(files, mhl.FileHashes{Path: strings.TrimPrefix(r.Address, "/"), Size: r.GotSize, Hashes: h.Sums()})
	}
	if len(files) == 0 {
		fmt.Fprintf(w, "ASC MHL: no file verified by download, so no generation was written to %s.\n", m.dir)
		return nil
	}
	slices.SortFunc(files, func(a, b mhl.FileHashes) int { return strings.Compare(a.Path, b.Path) })
	written, err := mhl.WriteTransfer(m.dir, mhl.Transfer{
		Creator: mhl.Creator{Tool: "fiosync", ToolVersion: currentVersion().Version,
			Comment: fmt.Sprintf("files of Frame.io project %q verified by download (BLAKE3 against fiosync's state)", project)},
		Time:  m.start,
		Files: files,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ASC MHL: generation %d written to %s (%s, %s).\n", written.Generation, written.Path, display.Count(len(files), "file", "files"), mhlOutFormat)
	if n := len(written.Failed); n > 0 {
		return fmt.Errorf("ASC MHL: %s differ from the hash the history in %s recorded before: %s",
			display.Count(n, "file", "files"), m.dir, escape.Text(strings.Join(written.Failed, ", ")))
	}
	return nil
}
