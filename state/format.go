package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zeebo/blake3"
)

// document is the on-disk form: the state's fields followed by a checksum.
type document struct {
	State
	// Checksum is the BLAKE3 of the canonical encoding of State: its compact
	// encoding/json form, which is independent of indentation.
	Checksum Digest `json:"checksum"`
}

// Encode returns the file form of s: indented JSON with sorted map keys, a
// fixed field order, times in UTC, a checksum of the content and a trailing
// newline, so that successive states diff cleanly. It does not change s.
// Backends other than File store these bytes as they are.
func Encode(s *State) ([]byte, error) {
	c, err := normalize(s)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	sum, err := checksum(c)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	out, err := json.MarshalIndent(document{State: *c, Checksum: sum}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return append(out, '\n'), nil
}

// normalize returns a deep copy of s in the form that is written: current
// format version, non-nil maps, UTC times without monotonic readings.
func normalize(s *State) (*State, error) {
	c := s.Clone()
	c.Version = FormatVersion
	for addr, e := range c.Entries {
		if e == nil {
			return nil, fmt.Errorf("entry %q is nil", addr)
		}
		e.CreatedAt = utc(e.CreatedAt)
		e.UploadedAt = utc(e.UploadedAt)
		e.Source.ModTime = utc(e.Source.ModTime)
		e.Source.Ctime = utc(e.Source.Ctime)
	}
	return c, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// checksum returns the BLAKE3 of the canonical encoding of s.
func checksum(s *State) (Digest, error) {
	canonical, err := json.Marshal(s)
	if err != nil {
		return Digest{}, err
	}
	return blake3.Sum256(canonical), nil
}

// Decode parses the file form written by Encode, upgrading older format
// versions. It refuses (with *CorruptError) input that does not parse, has
// fields it does not know, trailing data, or a checksum that does not match,
// and refuses (with ErrNewerFormat) a format from a newer fiosync.
func Decode(data []byte) (*State, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, corrupt("parse JSON: %v", err)
	}
	if head.Version == nil {
		return nil, corrupt("no %q field", "version")
	}
	v := *head.Version
	if v > FormatVersion {
		return nil, fmt.Errorf("%w (format %d, this fiosync reads up to %d); upgrade fiosync", ErrNewerFormat, v, FormatVersion)
	}
	data, err := upgrade(data, v)
	if err != nil {
		return nil, err
	}

	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, corrupt("parse JSON: %v", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, corrupt("unexpected data after the state object")
	}
	if doc.Checksum.IsZero() {
		return nil, corrupt("no %q field", "checksum")
	}
	sum, err := checksum(&doc.State)
	if err != nil {
		return nil, corrupt("compute checksum: %v", err)
	}
	if sum != doc.Checksum {
		return nil, corrupt("checksum mismatch: the file says %s, its content hashes to %s (edited by hand or damaged)", doc.Checksum, sum)
	}
	s := &doc.State
	if err := validate(s); err != nil {
		return nil, corrupt("%v", err)
	}
	return s, nil
}

func corrupt(format string, args ...any) error {
	return &CorruptError{Err: fmt.Errorf(format, args...)}
}

// upgraders turn the encoding of format version N into that of version N+1,
// checksum included. Each verifies its input by that version's rules first.
// Format 1 is the first, so there are none yet; the shape is here so that the
// first format change is a new entry, not a new code path.
var upgraders = map[int]func(raw []byte) ([]byte, error){}

// upgrade brings raw from format version from up to FormatVersion.
func upgrade(raw []byte, from int) ([]byte, error) {
	if from < 1 {
		return nil, corrupt("unknown format version %d", from)
	}
	for v := from; v < FormatVersion; v++ {
		step, ok := upgraders[v]
		if !ok {
			return nil, corrupt("no upgrade from format version %d", v)
		}
		next, err := step(raw)
		if err != nil {
			return nil, fmt.Errorf("upgrade state from format %d: %w", v, err)
		}
		raw = next
	}
	return raw, nil
}

// validate checks what the JSON decoder cannot: required fields and enums.
func validate(s *State) error {
	if s.Lineage == "" {
		return fmt.Errorf("no lineage")
	}
	if s.Folders == nil {
		s.Folders = map[string]string{}
	}
	if s.Entries == nil {
		s.Entries = map[string]*Entry{}
	}
	for addr, e := range s.Entries {
		if e == nil {
			return fmt.Errorf("entry %q is null", addr)
		}
		switch e.Status {
		case StatusPending, StatusComplete:
		default:
			return fmt.Errorf("entry %q: unknown status %q", addr, e.Status)
		}
		switch e.Source.Kind {
		case KindLocal, KindRemote:
		default:
			return fmt.Errorf("entry %q: unknown source kind %q", addr, e.Source.Kind)
		}
	}
	return nil
}
