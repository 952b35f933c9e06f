package state

import (
	"errors"
	"fmt"
)

// ErrNoEntry is returned when an address has no entry.
var ErrNoEntry = errors.New("no such entry")

// ManifestError says that a state records another manifest than the one it is used with.
// Planning a manifest against another's state would take that manifest's files for dropped
// ones (and, with prune, delete them) and upload its own beside them.
type ManifestError struct {
	// Recorded is the manifest the state records (State.Manifest).
	Recorded string
	// Manifest is the manifest it is used with, named the same way.
	Manifest string
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("written by manifest %q, not %q: planning %q against it would take %q's files for dropped ones",
		e.Recorded, e.Manifest, e.Manifest, e.Recorded)
}

// CheckManifest returns a *ManifestError when s records a manifest other than name (see
// State.Manifest for the form of both). A state that records none, written before states
// recorded their manifest, belongs to whichever manifest uses it; the next save records it.
func (s *State) CheckManifest(name string) error {
	if s.Manifest == "" || s.Manifest == name {
		return nil
	}
	return &ManifestError{Recorded: s.Manifest, Manifest: name}
}
