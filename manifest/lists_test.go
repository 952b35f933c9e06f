package manifest

import "testing"

func TestLists(t *testing.T) {
	m, err := Parse("fiosync.yaml", []byte(`version: 1
target:
  project: P
uploads:
  - local: shoot/day12
    to: /Day12
    exclude: ["**/.DS_Store", "proxies"]
  - local: "grades/*.mov"
    to: /Grades
  - local: "vfx/**/*.exr"
    to: /VFX
  - local: notes.txt
    to: /
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel, want string
	}{
		{"shoot/day12/A001.mov", "/Day12/A001.mov"},
		{"shoot/day12/card/A/B001.mov", "/Day12/card/A/B001.mov"},
		{"shoot/day12/card/.DS_Store", ""},
		{"shoot/day12/proxies/p.mov", ""},
		{"shoot/day11/A001.mov", ""},
		{"grades/G01.mov", "/Grades/G01.mov"},
		{"grades/G01.wav", ""},
		{"grades/sub/G01.mov", ""},
		{"vfx/shot010/shot010.1001.exr", "/VFX/shot010/shot010.1001.exr"},
		{"notes.txt", ""}, // a single-file entry: its file missing is Expand's error
	}
	for _, tt := range tests {
		got, ok := m.Lists(tt.rel)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("Lists(%q) = %q, %v; want %q", tt.rel, got, ok, tt.want)
		}
	}
}

func TestSuggestName(t *testing.T) {
	names := []string{"Sandbox", "Dailies", "Post", "VFX Pulls"}
	for want, got := range map[string]string{"Dailes": "Dailies", "dailies": "Dailies", "Pre": "", "vfx pull": "VFX Pulls", "Sanbox": "Sandbox", "Marketing": ""} {
		if s := SuggestName(want, names); s != got {
			t.Errorf("SuggestName(%q) = %q, want %q", want, s, got)
		}
	}
}
