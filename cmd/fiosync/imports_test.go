package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the package graph one-way: cmd -> apply -> plan -> {manifest,
// state, frameio}, and the emulator apart from everything, so the client and the emulator
// cannot share a mistake.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/fiosync/fiosync/"
	allowed := map[string][]string{
		"manifest": {},
		"state":    {"internal/escape"},
		"frameio":  {},
		"emulator": {},
		"auth":     {},
		"plan":     {"manifest", "state", "frameio", "internal/escape"},
		"apply":    {"plan", "manifest", "state", "frameio", "internal/escape"},

		"state/pgstate":    {"state", "internal/escape"},
		"internal/pgtest":  {},
		"internal/emutest": {"emulator", "frameio"},
		"internal/escape":  {},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "../../"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v\n%s", pkg, err, out)
		}
		allowedSet := map[string]bool{pkg: true}
		for _, a := range ok {
			allowedSet[a] = true
		}
		for _, dep := range strings.Fields(string(out)) {
			name, found := strings.CutPrefix(dep, mod)
			if !found || name == pkg {
				continue
			}
			if top, _, _ := strings.Cut(name, "/"); !allowedSet[top] && !allowedSet[name] {
				t.Errorf("package %s imports %s; allowed project imports: %v", pkg, dep, ok)
			}
		}
	}
}
