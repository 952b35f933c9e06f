package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
)

func TestSummary(t *testing.T) {
	dir := tree(t, map[string]string{"a/1.mov": string(make([]byte, 1536)), "a/2.mov": "", "b.mov": "x"})
	tests := []struct {
		name, uploads, want string
	}{
		{"locals and a remote", "  - local: a\n    to: /a\n  - local: b.mov\n    to: /\n  - remote: https://cdn.test/r.mp4\n    to: /r\n",
			"fiosync.yaml: 3 uploads, 3 files, 1.5 KiB, 1 remote"},
		{"one of each", "  - local: b.mov\n    to: /\n", "fiosync.yaml: 1 upload, 1 file, 1 B"},
		{"nothing to do", "  []\n", "fiosync.yaml: 0 uploads, 0 files, 0 B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(dir)
			if err := os.WriteFile("fiosync.yaml", []byte(head+tt.uploads), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Load("fiosync.yaml")
			if err != nil {
				t.Fatal(err)
			}
			x, err := m.Expand()
			if err != nil {
				t.Fatal(err)
			}
			if got := x.Summary(m); got != tt.want {
				t.Errorf("Summary = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDesired checks every field of a local and a remote Desired.
func TestDesired(t *testing.T) {
	dir := tree(t, map[string]string{"shoot/A/c.mov": "clip"})
	x, err := expandIn(t, dir, "  - local: shoot\n    to: /Day\n    on_change: replace\n  - remote: https://cdn.test/r.mp4?sig=1\n    to: /\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Files) != 2 {
		t.Fatalf("got %d files, want 2", len(x.Files))
	}
	path := filepath.Join(dir, "shoot", "A", "c.mov")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Desired{
		{
			Address: "/Day/A/c.mov", Folder: "/Day/A", Name: "c.mov",
			Source: source.OfFile("shoot/A/c.mov", fi), Path: path,
			OnChange: OnChangeReplace, Upload: 0, Pos: Pos{5, 5},
		},
		{
			Address: "/r.mp4", Folder: "/", Name: "r.mp4", Source: source.OfURL("https://cdn.test/r.mp4?sig=1"),
			URL: "https://cdn.test/r.mp4?sig=1", OnChange: OnChangeVersion, Upload: 1, Pos: Pos{8, 5},
		},
	}
	if diff := cmp.Diff(want, x.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if x.Files[0].Source.Size != 4 || x.Files[1].Source.URL != "https://cdn.test/r.mp4" {
		t.Errorf("identities %+v, want the stat of c.mov and the URL without its query", x.Files)
	}
}

// TestStarter checks that `fiosync init`'s file parses, and that expanding
// it without a media directory says exactly what is missing.
func TestStarter(t *testing.T) {
	dir := tree(t, nil)
	path := filepath.Join(dir, "fiosync.yaml")
	if err := os.WriteFile(path, Starter(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatalf("Load(starter): %v", err)
	}
	_, err = m.Expand()
	want := []string{`fiosync.yaml:22:12: uploads[0].local: "media" does not exist`}
	if diff := cmp.Diff(want, summarize(dir, nil, err)); diff != "" {
		t.Errorf("Expand(starter) without media (-want +got):\n%s", diff)
	}
	if err := os.MkdirAll(filepath.Join(dir, "media", "day01"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "media", "day01", "A001.mov"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := m.Expand()
	if err != nil {
		t.Fatalf("Expand(starter) with media: %v", err)
	}
	if got := summarize(dir, x, nil); !cmp.Equal(got, []string{"/day01/A001.mov <- media/day01/A001.mov"}) {
		t.Errorf("Expand(starter) = %q", got)
	}
	Starter()[0] = 'X'
	if Starter()[0] == 'X' {
		t.Error("Starter returns a shared slice")
	}
}
