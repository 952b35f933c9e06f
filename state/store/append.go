package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fiosync/fiosync/state"
)

// Append makes changes durable in the journal beside the state file: one record, written at
// the journal's end and synced, so its cost does not grow with the state. Every caller that
// arrives while a record is being synced shares the next one (the Writer batches them: group
// commit). Changes are appended on base, which must be the stored state's header: the first
// Append of a File verifies that by loading the state (once), later ones by a stat of the state
// file and the journal, and a state saved or journaled by someone else meanwhile gives ErrStale
// or ErrLineage with nothing appended.
//
// A record is whole or absent: Load ignores a record torn by a crash at the journal's end (it
// was never synced, so no Append returned for it) and refuses a journal damaged before its end.
func (f *File) Append(ctx context.Context, base *state.State, changes []state.Change) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append to state %q: %w", f.path, err)
	}
	if len(changes) == 0 {
		return nil
	}
	rec, err := encodeRecord(base, changes)
	if err != nil {
		return fmt.Errorf("append to state %q: %w", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.openJournal(base); err != nil {
		return fmt.Errorf("append to state %q: %w", f.path, err)
	}
	if _, err := f.jfd.WriteAt(rec, f.jEnd); err != nil {
		// Part of the record may be there: cut it off, or let the next Append start over.
		if f.jfd.Truncate(f.jEnd) != nil {
			f.closeJournal()
		}
		return fmt.Errorf("append to state journal %q: %w", f.JournalPath(), err)
	}
	if err := datasync(f.jfd); err != nil {
		// After a failed fsync the kernel may have dropped the pages: nothing written since
		// the last good sync can be trusted, and the next Append verifies from scratch.
		f.closeJournal()
		return fmt.Errorf("sync state journal %q: %w", f.JournalPath(), err)
	}
	f.jEnd += int64(len(rec))
	if info, err := f.jfd.Stat(); err == nil {
		f.jSeen, f.jSeenLen = info, f.jEnd
	}
	return nil
}

// openJournal makes f.jfd the journal to append changes on base to, verifying that base is
// the stored state. f.mu must be held.
func (f *File) openJournal(base *state.State) error {
	if f.jfd != nil && f.jLineage == base.Lineage && f.jSerial == base.Serial && f.unchangedOnDisk() {
		return nil
	}
	f.closeJournal()
	// Verify from the files themselves, once: load the state with its journal.
	s, jv, err := f.load()
	switch {
	case errors.Is(err, ErrNoState):
		if base.Serial != 0 {
			return fmt.Errorf("the file is gone but the state was loaded from it at serial %d: %w", base.Serial, ErrStale)
		}
	case err != nil:
		return err
	case s.Lineage != base.Lineage:
		return fmt.Errorf("stored lineage %q, this state's %q: %w", s.Lineage, base.Lineage, ErrLineage)
	case s.Serial != base.Serial:
		return fmt.Errorf("stored serial %d, this state was loaded at %d: %w", s.Serial, base.Serial, ErrStale)
	}
	path := f.JournalPath()
	if jv != nil && !jv.current {
		// Records a save already holds (it died before removing them): start afresh.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove folded state journal: %w", err)
		}
		jv = nil
	}
	fd, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open state journal: %w", err)
	}
	info, err := fd.Stat()
	if err != nil {
		fd.Close()
		return fmt.Errorf("open state journal: %w", err)
	}
	end := int64(0)
	if jv != nil && os.SameFile(info, jv.info) {
		end = jv.end // after the records Load replayed, cutting off a torn tail
	}
	if end < int64(len(journalMagic)) {
		if err := startJournal(fd); err != nil {
			fd.Close()
			return err
		}
		end = int64(len(journalMagic))
	} else if info.Size() != end {
		if err := fd.Truncate(end); err != nil {
			fd.Close()
			return fmt.Errorf("cut the torn end of state journal: %w", err)
		}
	}
	f.jState = nil
	if st, err := os.Stat(f.Target()); err == nil {
		f.jState = st
	}
	f.jfd, f.jEnd, f.jLineage, f.jSerial = fd, end, base.Lineage, base.Serial
	f.jSeen, f.jSeenLen = info, end
	return nil
}

// startJournal writes a new journal's first bytes into fd and makes the file durable, its
// name included.
func startJournal(fd *os.File) error {
	if err := fd.Truncate(0); err != nil {
		return fmt.Errorf("start state journal: %w", err)
	}
	if _, err := fd.WriteAt([]byte(journalMagic), 0); err != nil {
		return fmt.Errorf("start state journal: %w", err)
	}
	if err := fd.Sync(); err != nil {
		return fmt.Errorf("start state journal: %w", err)
	}
	return syncDir(filepath.Dir(fd.Name()))
}

// unchangedOnDisk reports whether the state file and the journal are as this File left them
// when it opened the journal and last appended: nobody saved or appended meanwhile. f.mu must
// be held.
func (f *File) unchangedOnDisk() bool {
	st, err := os.Stat(f.Target())
	switch {
	case f.jState == nil:
		if !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	case err != nil || !os.SameFile(st, f.jState) || st.Size() != f.jState.Size() || !st.ModTime().Equal(f.jState.ModTime()):
		return false
	}
	jst, err := os.Stat(f.JournalPath())
	return err == nil && f.jSeen != nil && os.SameFile(jst, f.jSeen) && jst.Size() == f.jEnd
}
