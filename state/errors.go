package state

import "errors"

// ErrNoEntry is returned when an address has no entry.
var ErrNoEntry = errors.New("no such entry")
