package store_test

import (
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/state/store/storetest"
)

func TestFileConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) store.Backend {
			return store.NewFile(filepath.Join(t.TempDir(), "fiosync.state.json"))
		},
		Reopen: func(t *testing.T, b store.Backend) store.Backend {
			return store.NewFile(b.(*store.File).Path())
		},
	})
}
