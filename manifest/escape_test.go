package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPathEscape checks that local sources cannot leave the manifest's
// directory (by "..", by an absolute path or through a symlink) unless the
// entry says allow_outside: true.
func TestPathEscape(t *testing.T) {
	outer := tree(t, map[string]string{
		"secret/key.pem":           "k",
		"proj/media/ok.mov":        "1",
		"proj/media/leak":          "-> ../../secret/key.pem",
		"proj/media/leakdir":       "-> ../../secret",
		"proj/linked":              "-> ../secret",
		"proj/inside/nested/a.mov": "2",
	})
	proj := filepath.Join(outer, "proj")
	abs := filepath.ToSlash(filepath.Join(outer, "secret"))
	tests := []struct {
		name    string
		uploads string
		want    []string // with allow_outside left out
		allowed []string // with allow_outside: true
	}{
		{"parent directory", "  - local: ../secret\n    to: /s\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: leads outside the manifest's directory; set allow_outside: true to allow this`,
		}, []string{
			"/s/key.pem <- ../secret/key.pem",
		}},
		{"absolute path", "  - local: " + abs + "\n    to: /s\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: is an absolute path; local paths are relative to the manifest's directory (set allow_outside: true to allow this)`,
		}, []string{
			"/s/key.pem <- ../secret/key.pem",
		}},
		{"symlinks under a directory", "  - local: media\n    to: /m\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: symlink "media/leak" points outside the manifest's directory; set allow_outside: true to follow it`,
			`fiosync.yaml:5:12: uploads[0].local: symlink "media/leakdir" points outside the manifest's directory; set allow_outside: true to follow it`,
		}, []string{
			"/m/leak <- media/leak",
			"/m/leakdir/key.pem <- media/leakdir/key.pem",
			"/m/ok.mov <- media/ok.mov",
		}},
		{"symlinked source", "  - local: linked\n    to: /s\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: "linked" leads outside the manifest's directory through a symlink; set allow_outside: true to allow this`,
		}, []string{
			"/s/key.pem <- linked/key.pem",
		}},
		{"symlinked glob base", "  - local: \"linked/*.pem\"\n    to: /s\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: "linked" leads outside the manifest's directory through a symlink; set allow_outside: true to allow this`,
		}, []string{
			"/s/key.pem <- linked/key.pem",
		}},
		{"dot dot that stays inside", "  - local: inside/../media/ok.mov\n    to: /s\n", []string{
			"/s/ok.mov <- media/ok.mov",
		}, []string{
			"/s/ok.mov <- media/ok.mov",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(proj, "fiosync.yaml")
			if err := os.WriteFile(path, []byte(head+tt.uploads), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			if m, err := Load(path); err != nil {
				got = summarize(proj, nil, err)
			} else {
				x, err := m.Expand()
				got = summarize(proj, x, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("without allow_outside (-want +got):\n%s", diff)
			}

			allowing := strings.Replace(tt.uploads, "    to:", "    allow_outside: true\n    to:", 1)
			x, err := expandIn(t, proj, allowing)
			if diff := cmp.Diff(tt.allowed, summarize(proj, x, err)); diff != "" {
				t.Errorf("with allow_outside (-want +got):\n%s", diff)
			}
		})
	}
}
