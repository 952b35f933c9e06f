package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExpandPolicy: the top-level exclude and the default excludes leave files and
// directories out of every walk and say so (Expansion.Policy); an entry's own exclude is not
// policy, and exclude_defaults: false turns the defaults off.
func TestExpandPolicy(t *testing.T) {
	files := map[string]string{
		"a/A001.mov":       "1",
		"a/.DS_Store":      "x",
		"a/._A001.mov":     "x",
		"a/Thumbs.db":      "x",
		"a/render.tmp":     "x",
		"a/cache/c.bin":    "x",
		"a/sub/render.tmp": "x",
		"a/sub/keep.tmp":   "x",
		"a/sub/B001.mov":   "2",
		"b/only/.DS_Store": "x",
		"b/only/b.mov":     "3",
		"single/.DS_Store": "x",
	}
	tests := []struct {
		name, top, uploads string
		want               []string
	}{
		{"defaults", "", "  - local: a\n    to: /A\n", []string{
			"/A/A001.mov <- a/A001.mov",
			"/A/cache/c.bin <- a/cache/c.bin",
			"/A/render.tmp <- a/render.tmp",
			"/A/sub/B001.mov <- a/sub/B001.mov",
			"/A/sub/keep.tmp <- a/sub/keep.tmp",
			"/A/sub/render.tmp <- a/sub/render.tmp",
			"left out: /A/.DS_Store (.DS_Store, dir false, default true)",
			"left out: /A/._A001.mov (._*, dir false, default true)",
			"left out: /A/Thumbs.db (Thumbs.db, dir false, default true)",
		}},
		{"top-level exclude by name at any depth, by path below the base, a directory",
			"exclude: [render.tmp, \"sub/keep.*\", cache]\nexclude_defaults: false\n",
			"  - local: a\n    to: /A\n  - local: b\n    to: /B\n    exclude: [\"**/.DS_Store\"]\n", []string{
				"/A/.DS_Store <- a/.DS_Store",
				"/A/._A001.mov <- a/._A001.mov",
				"/A/A001.mov <- a/A001.mov",
				"/A/Thumbs.db <- a/Thumbs.db",
				"/A/sub/B001.mov <- a/sub/B001.mov",
				"/B/only/b.mov <- b/only/b.mov",
				"left out: /A/cache (cache, dir true, default false)",
				"left out: /A/render.tmp (render.tmp, dir false, default false)",
				"left out: /A/sub/keep.tmp (sub/keep.*, dir false, default false)",
				"left out: /A/sub/render.tmp (render.tmp, dir false, default false)",
			}},
		{"an entry naming one file is not subject to policy", "", "  - local: single/.DS_Store\n    to: /S\n", []string{
			"/S/.DS_Store <- single/.DS_Store",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, files)
			path := filepath.Join(dir, "fiosync.yaml")
			src := strings.Replace(head, "uploads:\n", tt.top+"uploads:\n", 1) + tt.uploads
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			x, err := m.Expand()
			if diff := cmp.Diff(tt.want, summarize(dir, x, err)); diff != "" {
				t.Errorf("expansion (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyHitCovers(t *testing.T) {
	dir := PolicyHit{Address: "/A/cache", Dir: true}
	file := PolicyHit{Address: "/A/.DS_Store"}
	for _, c := range []struct {
		h    PolicyHit
		addr string
		want bool
	}{
		{dir, "/A/cache/c.bin", true}, {dir, "/A/cache", false}, {dir, "/A/cachet/x", false},
		{file, "/A/.DS_Store", true}, {file, "/A/.DS_Store/x", false},
	} {
		if got := c.h.Covers(c.addr); got != c.want {
			t.Errorf("%+v covers %s = %v, want %v", c.h, c.addr, got, c.want)
		}
	}
}
