package main

import (
	"testing"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
)

func TestDefaultStatePath(t *testing.T) {
	for in, want := range map[string]string{
		"fiosync.yaml":           "fiosync.state.json",
		"day04.yaml":             "day04.state.json",
		"deliveries/day04.yml":   "deliveries/day04.state.json",
		"../x/manifest":          "../x/manifest.state.json",
		"/abs/dir/a.b.yaml":      "/abs/dir/a.b.state.json",
		"with space/My Day.yaml": "with space/My Day.state.json",
	} {
		if got := defaultStatePath(in); got != want {
			t.Errorf("defaultStatePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"fiosync.state.json": "fiosync.state.json",
		"../a/day-04.json":   "../a/day-04.json",
		"My Day.state.json":  "'My Day.state.json'",
		"it's.state.json":    `'it'\''s.state.json'`,
		"$HOME/x":            "'$HOME/x'",
		"":                   "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestLooksLikePlan: every plan file plan.Encode writes is known by its first bytes, so a
// plan written with --out anywhere in an uploaded tree is never uploaded; a JSON file of
// another shape is not mistaken for one.
func TestLooksLikePlan(t *testing.T) {
	for name, p := range map[string]*plan.Plan{
		"empty":    {},
		"with odd": {Manifest: `d"ay 04.yaml`, Lineage: "l", Serial: 7, Target: state.Target{ProjectID: "p"}},
	} {
		data, err := plan.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		if !looksLikePlan(data[:min(64, len(data))]) {
			t.Errorf("%s: a plan file plan.Encode wrote is not recognised:\n%s", name, data)
		}
	}
	for _, other := range []string{
		`{"format_version": "2", "manifest": "x"}`,
		"{\n  \"format_version\": \"1\",\n  \"changes\": []\n}\n",
		"{\n  \"format_version\": \"",
		"",
	} {
		if looksLikePlan([]byte(other)) {
			t.Errorf("%q taken for a plan file", other)
		}
	}
}
