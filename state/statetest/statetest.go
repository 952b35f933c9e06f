package statetest

import (
	"fmt"
	"time"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// Sample returns a state with one local and one remote entry and fixed
// values throughout, so its encoding is stable. Times are in a non-UTC zone
// to check that they are written in UTC.
func Sample() *state.State {
	zone := time.FixedZone("CET", 3600)
	s := state.New(state.Target{AccountID: "acc", WorkspaceID: "ws", ProjectID: "proj", RootFolderID: "root", Project: "Sandbox"})
	s.Lineage = "5f0c6b1e-8d2a-4c1b-9e3f-2a7d4b6c8e01"
	s.Manifest = "fiosync.yaml"
	s.Folders["/Dailies"] = "folder-1"
	s.Folders["/Dailies/A-Cam"] = "folder-2"
	s.Entries["/Dailies/A-Cam/A001.mov"] = &state.Entry{
		Source: source.Identity{
			Kind:    source.Local,
			Path:    "media/A001.mov",
			Size:    1234567,
			ModTime: time.Date(2026, 11, 26, 10, 0, 0, 123456789, zone),
			Inode:   4242,
			Ctime:   time.Date(2026, 11, 26, 10, 0, 1, 0, zone),
			Hash:    source.HashURL("pretend content"),
		},
		FileID:     "file-1",
		ParentID:   "folder-2",
		Previous:   []string{"file-0"},
		Status:     state.StatusComplete,
		CreatedAt:  time.Date(2026, 11, 26, 11, 0, 0, 0, zone),
		UploadedAt: time.Date(2026, 11, 26, 11, 5, 0, 0, zone),
	}
	s.Entries["/Reels/reel.mp4"] = &state.Entry{
		Source:    source.OfURL("https://cdn.example.com/reel.mp4?X-Amz-Signature=secret"),
		FileID:    "file-2",
		ParentID:  "folder-3",
		Status:    state.StatusPending,
		CreatedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
	}
	return s
}

// Big returns a state of n complete local entries, shaped like a real delivery.
func Big(n int) *state.State {
	s := state.New(state.Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", RootFolderID: "r"})
	now := time.Now()
	for i := range n {
		addr := fmt.Sprintf("/Dailies/day%02d/A-Cam/A%03dC%03d.mov", i%30, i%7, i)
		s.Entries[addr] = &state.Entry{
			Source:   source.Identity{Kind: source.Local, Path: "shoot" + addr, Size: int64(i) * 1000, ModTime: now, Inode: uint64(i), Ctime: now, Hash: source.Digest{byte(i), 2, 3}},
			FileID:   fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			ParentID: "5687d886-9ab8-41c7-925a-70a0e1eadcd2", Status: state.StatusComplete, CreatedAt: now, UploadedAt: now,
		}
	}
	return s
}
