package state

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// bigState returns a state of n complete local entries, shaped like a real delivery.
func bigState(n int) *State {
	s := New(Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", RootFolderID: "r"})
	now := time.Now()
	for i := range n {
		addr := fmt.Sprintf("/Dailies/day%02d/A-Cam/A%03dC%03d.mov", i%30, i%7, i)
		s.Entries[addr] = &Entry{
			Source:   Source{Kind: KindLocal, Path: "shoot" + addr, Size: int64(i) * 1000, ModTime: now, Inode: uint64(i), Ctime: now, Hash: Digest{byte(i), 2, 3}},
			FileID:   fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			ParentID: "5687d886-9ab8-41c7-925a-70a0e1eadcd2", Status: StatusComplete, CreatedAt: now, UploadedAt: now,
		}
	}
	return s
}

// BenchmarkSave10k saves a state of 10,000 entries: apply does this after every file
// (coalesced), so it bounds how fast many small files can be delivered.
func BenchmarkSave10k(b *testing.B) {
	f := NewFile(filepath.Join(b.TempDir(), "fiosync.state.json"))
	s := bigState(10000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode10k is the encoding share of a save.
func BenchmarkEncode10k(b *testing.B) {
	s := bigState(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}
