package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
)

// The journal is a file beside the state file ("<state>.journal") that File.Append adds
// records to during apply, so that recording a finished file costs one small write and one
// fsync however many entries the state holds. File.Save (compaction) writes the whole state
// and removes the journal; File.Load replays a journal a crash left behind.
//
// Layout: journalMagic, then records. A record is
//
//	recordMark (4 bytes) | payload length (uint32, little endian) | payload | BLAKE3-256 of mark, length and payload
//
// and its payload is the JSON of journalRecord: the header of the state it was appended on
// (its lineage and serial, which every record of one journal shares) and a batch of changes.
// recordMark begins with 0xff, a byte that never occurs in JSON, so a record cannot be
// mistaken for a payload's inside.
const (
	journalMagic = "fiosync state journal 1\n"
	recordMark   = "\xffFJR"
	recordHead   = len(recordMark) + 4
	recordSum    = 32
	// maxRecord bounds a payload's length, so that a damaged length field cannot make Load
	// allocate the moon.
	maxRecord = 256 << 20
)

// journalRecord is one record's payload.
type journalRecord struct {
	// Version, Serial, Lineage, Target and Manifest are the header of the state the record
	// was appended on, so that a journal written before the first save can be replayed
	// without a state file.
	Version  int            `json:"version"`
	Serial   uint64         `json:"serial"`
	Lineage  string         `json:"lineage"`
	Target   state.Target   `json:"target"`
	Manifest string         `json:"manifest,omitempty"`
	Changes  []state.Change `json:"changes"`
}

// sameBase reports whether r and o were appended on the same state.
func (r *journalRecord) sameBase(o *journalRecord) bool {
	return r.Lineage == o.Lineage && r.Serial == o.Serial
}

// header returns an empty state with r's header.
func (r *journalRecord) header() *state.State {
	return &state.State{Version: r.Version, Serial: r.Serial, Lineage: r.Lineage, Target: r.Target, Manifest: r.Manifest,
		Folders: map[string]string{}, Entries: map[string]*state.Entry{}}
}

// encodeRecord returns the bytes of one record of changes appended on base. The changes are
// merged into one (state.Merge): a batch often holds several changes of one address (a
// file's id, then the file complete), and only the last is worth its bytes.
func encodeRecord(base *state.State, changes []state.Change) ([]byte, error) {
	payload, err := json.Marshal(journalRecord{Version: base.Version, Serial: base.Serial, Lineage: base.Lineage,
		Target: base.Target, Manifest: base.Manifest, Changes: []state.Change{state.Merge(changes...)}})
	if err != nil {
		return nil, fmt.Errorf("encode journal record: %w", err)
	}
	if len(payload) > maxRecord {
		return nil, fmt.Errorf("encode journal record: %d bytes, more than the %d a record may hold", len(payload), maxRecord)
	}
	rec := make([]byte, 0, recordHead+len(payload)+recordSum)
	rec = append(rec, recordMark...)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(len(payload)))
	rec = append(rec, payload...)
	sum := blake3.Sum256(rec)
	return append(rec, sum[:]...), nil
}

// JournalError reports a journal that cannot be replayed safely: damaged before its end,
// written on another state, or left beside a state that moved on without it. fiosync never
// drops such a journal's records silently; the state stays as it is until someone decides.
type JournalError struct {
	// Path is the journal's path.
	Path string
	// Offset is the byte where the damage begins, or -1 when the journal is intact but does
	// not belong to the state beside it.
	Offset int64
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *JournalError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state journal %q ", e.Path)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "is damaged at byte %d: ", e.Offset)
	} else {
		b.WriteString("cannot be replayed: ")
	}
	b.WriteString(e.Reason)
	b.WriteString("; fiosync leaves the state and the journal as they are. Keep a copy of the journal: it lists files delivered since the state was last saved. Moving it aside loads the state without them")
	return b.String()
}

// scanned is what scanJournal found in a journal.
type scanned struct {
	records []journalRecord
	// end is the length of the valid prefix: everything after it is a torn tail left by a
	// writer that died before its record was synced.
	end int64
}

// scanJournal parses a journal's bytes. It stops at the first record that is not whole and
// intact: when no intact record follows, that is the torn tail a crash leaves and the records
// before it are the journal; when one does, the journal is damaged and scanJournal fails
// rather than drop the records after the damage.
func scanJournal(path string, data []byte) (*scanned, error) {
	if len(data) < len(journalMagic) {
		if strings.HasPrefix(journalMagic, string(data)) {
			return &scanned{}, nil // created, then killed before its first record
		}
		return nil, &JournalError{Path: path, Offset: 0, Reason: "it does not begin as a fiosync state journal"}
	}
	if !bytes.HasPrefix(data, []byte(journalMagic)) {
		reason := "it does not begin as a fiosync state journal"
		if bytes.HasPrefix(data, []byte("fiosync state journal ")) {
			reason = "it was written in another journal format, by another fiosync version; upgrade fiosync"
		}
		return nil, &JournalError{Path: path, Offset: 0, Reason: reason}
	}
	sc := &scanned{}
	off := len(journalMagic)
	for off < len(data) {
		payload, n := splitRecord(data[off:])
		if n == 0 {
			if next := findRecord(data[off+1:]); next >= 0 {
				return nil, &JournalError{Path: path, Offset: int64(off), Reason: fmt.Sprintf(
					"record %d does not match its checksum, but an intact record follows at byte %d", len(sc.records)+1, off+1+next)}
			}
			break // the torn tail
		}
		var rec journalRecord
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, &JournalError{Path: path, Offset: int64(off), Reason: fmt.Sprintf("record %d matches its checksum but does not decode (%v)", len(sc.records)+1, err)}
		}
		if len(sc.records) > 0 && !rec.sameBase(&sc.records[0]) {
			return nil, &JournalError{Path: path, Offset: int64(off), Reason: fmt.Sprintf(
				"record %d was appended on serial %d of lineage %q, the ones before it on serial %d of %q",
				len(sc.records)+1, rec.Serial, rec.Lineage, sc.records[0].Serial, sc.records[0].Lineage)}
		}
		sc.records = append(sc.records, rec)
		off += n
	}
	sc.end = int64(off)
	if off > len(data) {
		sc.end = int64(len(data))
	}
	return sc, nil
}

// splitRecord returns the payload and the length of the intact record data begins with, or a
// zero length when it does not begin with one.
func splitRecord(data []byte) ([]byte, int) {
	if len(data) < recordHead || string(data[:len(recordMark)]) != recordMark {
		return nil, 0
	}
	size := binary.LittleEndian.Uint32(data[len(recordMark):recordHead])
	if size > maxRecord || len(data) < recordHead+int(size)+recordSum {
		return nil, 0
	}
	end := recordHead + int(size)
	sum := blake3.Sum256(data[:end])
	if !bytes.Equal(sum[:], data[end:end+recordSum]) {
		return nil, 0
	}
	return data[recordHead:end], end + recordSum
}

// findRecord returns the offset of the first intact record in data, or -1.
func findRecord(data []byte) int {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(recordMark))
		if j < 0 {
			return -1
		}
		if _, n := splitRecord(data[i+j:]); n > 0 {
			return i + j
		}
		i += j + 1
	}
}

// replay returns s with the records' changes applied.
func replay(s *state.State, records []journalRecord) {
	last := records[len(records)-1]
	// The header the appender held wins: it is what its final save would have written.
	s.Target, s.Manifest = last.Target, last.Manifest
	for _, r := range records {
		for _, c := range r.Changes {
			s.Apply(c)
		}
	}
}

// folded reports whether s already holds the net effect of records: a compaction wrote s and
// was killed before it removed the journal.
func folded(s *state.State, records []journalRecord) bool {
	net := &state.State{}
	touched := map[string]bool{}
	folders := map[string]bool{}
	for _, r := range records {
		for _, c := range r.Changes {
			net.Apply(c)
			for a := range c.Entries {
				touched[a] = true
			}
			for p := range c.Folders {
				folders[p] = true
			}
		}
	}
	for a := range touched {
		want, errW := statefile.EntryDigest(net.Entries[a]) // as the state file holds them
		have, errH := statefile.EntryDigest(s.Entries[a])
		if errW != nil || errH != nil || want != have {
			return false
		}
	}
	for p := range folders {
		if net.Folders[p] != s.Folders[p] {
			return false
		}
	}
	return true
}
