//go:build unix

package store

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state/statetest"
)

// bigState saves a state large enough for Load to map its file, and returns what was saved.
func bigState(t *testing.T) (*File, []byte) {
	t.Helper()
	f := newFile(t)
	if err := f.Save(context.Background(), statetest.Big(5000)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < mapMin {
		t.Fatalf("the state file is %d bytes, under mapMin (%d): make it bigger", len(data), mapMin)
	}
	return f, data
}

// TestLoadMapped: a state file large enough to be mapped loads as the same state a read of
// it decodes to, and what Load returns keeps nothing of the mapping it unmapped.
func TestLoadMapped(t *testing.T) {
	f, data := bigState(t)
	got, err := f.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := NewFile(f.path).decode(string(data), false)
	if err != nil {
		t.Fatal(err)
	}
	// Reading every string of got after the unmap would fault if one pointed into it.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mapped load differs from a read one (-want +got):\n%s", diff)
	}
}

// TestLoadMappedCutShort: a state file cut short while it is mapped (another program writing
// it in place) makes loading it an error that says so, not a crash.
func TestLoadMappedCutShort(t *testing.T) {
	f, _ := bigState(t)
	data, lent, release, err := readState(f.path)
	if err != nil || !lent {
		t.Fatalf("readState: lent %v, %v; want the file mapped", lent, err)
	}
	defer release()
	if err := os.Truncate(f.path, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeMapped(f.path, data); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("decode of a file cut short under its mapping: %v, want an error saying so", err)
	}
}
