package state_test

import (
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

func TestFileConformance(t *testing.T) {
	statetest.Run(t, statetest.Factory{
		New: func(t *testing.T) state.Backend {
			return state.NewFile(filepath.Join(t.TempDir(), "fiosync.state.json"))
		},
		Reopen: func(t *testing.T, b state.Backend) state.Backend {
			return state.NewFile(b.(*state.File).Path())
		},
	})
}
