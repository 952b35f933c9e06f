//go:build !unix

package store

import (
	"errors"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// readState returns the content of the state file at path, read (see the unix readState);
// it is never lent.
func readState(path string) (data string, lent bool, release func(), err error) {
	file, fi, err := openRegular(path)
	if err != nil {
		return "", false, nil, err
	}
	defer file.Close()
	data, err = readOpen(file, readSize(fi))
	return data, false, func() {}, err
}

// decodeMapped is never called here: nothing is mapped.
func decodeMapped(path, data string) (*state.State, source.Digest, error) {
	return nil, source.Digest{}, errors.New("decodeMapped: no mapping on this system")
}
