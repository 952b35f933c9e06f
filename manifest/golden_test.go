package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGolden keeps the full text of a manifest with many mistakes in a
// golden file, so wording changes show up in review as a diff.
func TestGolden(t *testing.T) {
	tests := []string{"multi_error"}
	for _, name := range tests {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join("testdata", name+".yaml")
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if _, err := Parse(filepath.ToSlash(src), data, env(nil)); err != nil {
				got = err.Error() + "\n"
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("messages leak the URL's query string:\n%s", got)
			}
			if bytes.Contains([]byte(got), []byte("yaml.")) {
				t.Errorf("messages mention Go types:\n%s", got)
			}
		})
	}
}
