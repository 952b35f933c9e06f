package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode: a plan file comes from disk (often a CI artifact) and may be damaged or from
// another version. Decode must never panic, and what it accepts must survive Encode and
// Decode again unchanged.
func FuzzDecode(f *testing.F) {
	for _, p := range []*Plan{examplePlan(f), adoptPlan(f)} {
		data, err := Encode(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format_version":"1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Encode(p)
		if err != nil {
			t.Fatalf("Encode of a decoded plan: %v", err)
		}
		p2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode of its own encoding: %v", err)
		}
		if diff := cmp.Diff(p, p2); diff != "" {
			t.Errorf("plan changed through Encode and Decode (-first +second):\n%s", diff)
		}
	})
}
