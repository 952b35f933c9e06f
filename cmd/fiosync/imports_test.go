package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportDirection keeps the package graph one-way: cmd -> apply -> plan -> {manifest,
// state, frameio}, with the leaves source (content identity), internal/display (how values
// are written), internal/escape (how untrusted text is written) and internal/atomicfile below them all, the state's encoding and backends below the model's
// users, and the emulator apart from everything, so the client and the emulator cannot
// share a mistake. Each package may depend, directly or not, on exactly the project packages
// listed for it.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/fiosync/fiosync/"
	allowed := map[string][]string{
		"source":              {},
		"internal/display":    {},
		"internal/escape":     {},
		"internal/sequence":   {},
		"internal/progress":   {},
		"internal/atomicfile": {},
		"frameio":             {},
		"emulator":            {},
		"auth":                {},
		"manifest":            {"source", "internal/display"},
		"state":               {"source"},
		"state/statefile":     {"state", "source"},
		"state/store":         {"state", "state/statefile", "source"},
		"state/pgstate":       {"state", "state/statefile", "state/store", "source"},
		"plan":                {"manifest", "state", "state/statefile", "state/store", "frameio", "source", "internal/display", "internal/escape", "internal/sequence", "internal/atomicfile", "partjournal", "mhl"},
		"apply":               {"plan", "manifest", "state", "state/statefile", "state/store", "frameio", "source", "internal/display", "internal/escape", "internal/sequence", "internal/atomicfile", "partjournal", "mhl"},
		"partjournal":         {"source"},
		"mhl":                 {},
		"verify":              {"frameio", "state", "state/statefile", "state/store", "source"},
		"receipt":             {"frameio", "state", "source", "internal/escape"},

		"state/statetest":       {"state", "source"},
		"state/store/storetest": {"state", "state/store", "state/statefile", "source"},
		"internal/pgtest":       {},
		"internal/emutest":      {"emulator", "frameio"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			name, found := strings.CutPrefix(dep, mod)
			if !found || name == pkg {
				continue
			}
			if !slices.Contains(ok, name) {
				t.Errorf("package %s imports %s; allowed project imports: %v", pkg, dep, ok)
			}
		}
	}
}
