package statefile

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/state/statetest"
)

// FuzzDecode: a state file is read from disk, where anything can happen to it. Decode must
// never panic, and what it accepts must survive Encode and Decode again unchanged.
func FuzzDecode(f *testing.F) {
	golden, err := os.ReadFile("testdata/state.golden.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	small, err := Encode(statetest.Big(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode of a decoded state: %v", err)
		}
		s2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode of its own encoding: %v", err)
		}
		if diff := cmp.Diff(s, s2); diff != "" {
			t.Errorf("state changed through Encode and Decode (-first +second):\n%s", diff)
		}
	})
}
