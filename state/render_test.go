package state

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDescribe(t *testing.T) {
	s := sampleState()
	var b strings.Builder
	if err := s.Describe(&b, "/Dailies/A-Cam/A001.mov"); err != nil {
		t.Fatal(err)
	}
	want := `address:           /Dailies/A-Cam/A001.mov
status:            complete
file id:           file-1
parent id:         folder-2
previous file ids: file-0
created:           2026-11-26T10:00:00Z
uploaded:          2026-11-26T10:05:00Z
source:            local
  path:            media/A001.mov
  size:            1.2 MiB (1234567 bytes)
  modified:        2026-11-26T09:00:00Z
  inode:           4242
  changed:         2026-11-26T09:00:01Z
  content:         blake3:5aeb8f0d547b68e313db3769daf43f82508bdd2636156b856c23e3cd1fa0a64f
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Describe mismatch (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := s.Describe(&b, "/Reels/reel.mp4"); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "https://cdn.example.com/reel.mp4 (query string not recorded)") || strings.Contains(got, "secret") {
		t.Errorf("Describe of a remote entry:\n%s", got)
	}

	if err := s.Describe(&b, "/nope"); !errors.Is(err, ErrNoEntry) {
		t.Errorf("Describe of a missing address: error %v, want ErrNoEntry", err)
	}
}

func TestEntryJSON(t *testing.T) {
	s := sampleState()
	data, err := s.EntryJSON("/Reels/reel.mp4")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "address": "/Reels/reel.mp4",
  "source": {
    "kind": "remote",
    "url": "https://cdn.example.com/reel.mp4",
    "url_hash": "blake3:6a727a24fd2d9eabbc830e11a8a8cc663024eedd6f6af93a414b459bc3d5b481"
  },
  "file_id": "file-2",
  "parent_id": "folder-3",
  "status": "pending",
  "created_at": "2026-11-26T12:00:00Z"
}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("EntryJSON mismatch (-want +got):\n%s", diff)
	}
	local, err := s.EntryJSON("/Dailies/A-Cam/A001.mov")
	if err != nil {
		t.Fatal(err)
	}
	var back Entry
	if err := json.Unmarshal(local, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Entries["/Dailies/A-Cam/A001.mov"], &back); diff != "" {
		t.Errorf("EntryJSON does not round-trip (-want +got):\n%s", diff)
	}
	if _, err := s.EntryJSON("/nope"); !errors.Is(err, ErrNoEntry) {
		t.Errorf("EntryJSON of a missing address: error %v, want ErrNoEntry", err)
	}
}

func TestWriteList(t *testing.T) {
	var b strings.Builder
	if err := sampleState().WriteList(&b); err != nil {
		t.Fatal(err)
	}
	want := `/Dailies/A-Cam/A001.mov  complete  local   1.2 MiB  file-1
/Reels/reel.mp4          pending   remote  -        file-2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteList mismatch (-want +got):\n%s", diff)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 30: "1.0 GiB", 1288490189: "1.2 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
