package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statetest"
)

func TestDescribeEntry(t *testing.T) {
	s := statetest.Sample()
	var b strings.Builder
	if err := describeEntry(&b, s, "/Dailies/A-Cam/A001.mov"); err != nil {
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
	if err := describeEntry(&b, s, "/Reels/reel.mp4"); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "https://cdn.example.com/reel.mp4 (query string not recorded)") || strings.Contains(got, "secret") {
		t.Errorf("Describe of a remote entry:\n%s", got)
	}

	if err := describeEntry(&b, s, "/nope"); !errors.Is(err, state.ErrNoEntry) {
		t.Errorf("Describe of a missing address: error %v, want ErrNoEntry", err)
	}
}

func TestWriteStateList(t *testing.T) {
	var b strings.Builder
	if err := writeStateList(&b, statetest.Sample()); err != nil {
		t.Fatal(err)
	}
	want := `/Dailies/A-Cam/A001.mov  complete  local   1.2 MiB  file-1
/Reels/reel.mp4          pending   remote  -        file-2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteList mismatch (-want +got):\n%s", diff)
	}
}
