package statefile

import (
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// EncodeEntry returns one entry in the form a state file holds it (UTC times,
// deterministic member order), compact, for a backend that stores an entry per
// row. DecodeEntry reads it back.
func EncodeEntry(e *state.Entry) ([]byte, error) {
	c, err := normalize(&state.State{Entries: map[string]*state.Entry{"": e}}, state.FormatVersion)
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	data, err := jsonv2.Marshal(c.Entries[""], jsonv2.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	return data, nil
}

// DecodeEntry parses an entry written by EncodeEntry for address, refusing
// (with *CorruptError) one that does not parse, has members it does not know,
// or fails the checks a state file's entries pass.
func DecodeEntry(address string, data []byte) (*state.Entry, error) {
	var e state.Entry
	if err := jsonv2.Unmarshal(data, &e, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, corrupt("entry %q: %v", address, err)
	}
	if err := validEntry(address, &e); err != nil {
		return nil, corrupt("%v", err)
	}
	return &e, nil
}

// EntryDigest returns the BLAKE3 of e's EncodeEntry form, or the zero digest for a nil e (no
// entry). Two entries have the same digest exactly when a state file would hold the same
// bytes for them, whichever backend they were loaded from: a saved plan records it for each
// address it writes, and apply compares it with the state's entry then.
func EntryDigest(e *state.Entry) (source.Digest, error) {
	if e == nil {
		return source.Digest{}, nil
	}
	data, err := EncodeEntry(e)
	if err != nil {
		return source.Digest{}, err
	}
	return source.Digest(blake3.Sum256(data)), nil
}
