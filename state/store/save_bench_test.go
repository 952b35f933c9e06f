package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/state/statetest"
)

// BenchmarkSave10k saves a state of 10,000 entries: apply does this after every file
// (coalesced), so it bounds how fast many small files can be delivered.
func BenchmarkSave10k(b *testing.B) {
	f := NewFile(filepath.Join(b.TempDir(), "fiosync.state.json"))
	s := statetest.Big(10000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}
