package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/state"
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

// BenchmarkAppend10k appends one entry to the journal of a state of 10,000 entries: what apply
// does per finished file instead of BenchmarkSave10k. Its cost does not depend on the state's
// size; it is mostly the fsync.
func BenchmarkAppend10k(b *testing.B) {
	f := NewFile(filepath.Join(b.TempDir(), "fiosync.state.json"))
	s := statetest.Big(10000)
	ctx := context.Background()
	if err := f.Save(ctx, s); err != nil {
		b.Fatal(err)
	}
	base := &state.State{Version: s.Version, Serial: s.Serial, Lineage: s.Lineage, Target: s.Target}
	var e *state.Entry
	for _, e = range s.Entries {
		break
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := f.Append(ctx, base, []state.Change{state.PutEntry(fmt.Sprintf("/new/%d.mov", i), e)}); err != nil {
			b.Fatal(err)
		}
	}
}
