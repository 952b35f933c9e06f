package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
)

// tree creates files below a new temporary directory and returns it with
// symlinks resolved. A value "-> TARGET" makes a symlink instead of a file;
// a name ending in "/" makes an empty directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(content, "-> "):
			err = os.Symlink(filepath.FromSlash(strings.TrimPrefix(content, "-> ")), p)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// expandIn writes a manifest with the given uploads into dir, loads and
// expands it.
func expandIn(t *testing.T, dir, uploads string) (*Expansion, error) {
	t.Helper()
	path := filepath.Join(dir, "fiosync.yaml")
	if err := os.WriteFile(path, []byte(head+uploads), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m.Expand()
}

// summarize turns an expansion into "ADDRESS <- SOURCE" lines, or into the
// error's lines with the temporary directory cut from file names.
func summarize(dir string, x *Expansion, err error) []string {
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) {
			return []string{fmt.Sprintf("not an ErrorList: %v", err)}
		}
		return strings.Split(strings.ReplaceAll(list.Error(), dir+string(filepath.Separator), ""), "\n")
	}
	var out []string
	for _, d := range x.Files {
		src := d.Source.Path
		if d.Source.Kind == source.Remote {
			src = d.URL
		}
		out = append(out, d.Address+" <- "+src)
	}
	for _, w := range x.Warnings {
		out = append(out, "warning: "+strings.ReplaceAll(w.Error(), dir+string(filepath.Separator), ""))
	}
	for _, h := range x.Policy {
		out = append(out, fmt.Sprintf("left out: %s (%s, dir %v, default %v)", h.Address, h.Pattern, h.Dir, h.Default))
	}
	return out
}

func TestExpand(t *testing.T) {
	media := map[string]string{
		"shoot/day01/A-Cam/A001C001.mov": "a1",
		"shoot/day01/A-Cam/A001C002.mov": "a2",
		"shoot/day01/A-Cam/.DS_Store":    "junk",
		"shoot/day01/B-Cam/B001C001.mov": "b1",
		"shoot/day01/sound/T01.wav":      "s1",
		"shoot/day01/sound/deep/T02.wav": "s2",
		"shoot/day01/notes.txt":          "n",
		"shoot/empty/":                   "",
		"grades/G01.mov":                 "g1",
		"grades/old/G00.mov":             "g0",
		"grades/bundle.mov/inner.bin":    "x",
		"reel.mp4":                       "r",
	}
	tests := []struct {
		name    string
		files   map[string]string
		uploads string
		want    []string
	}{
		{"directory is mirrored", media, "  - local: shoot/day01/A-Cam\n    to: /Day 01/A-Cam/\n", []string{
			"/Day 01/A-Cam/A001C001.mov <- shoot/day01/A-Cam/A001C001.mov",
			"/Day 01/A-Cam/A001C002.mov <- shoot/day01/A-Cam/A001C002.mov",
			"left out: /Day 01/A-Cam/.DS_Store (.DS_Store, dir false, default true)",
		}},
		{"exclude applies below the base", media, "  - local: shoot\n    to: /\n    exclude: [\"**/.DS_Store\", \"day01/sound\", \"*.txt\", \"**/*.txt\"]\n", []string{
			"/day01/A-Cam/A001C001.mov <- shoot/day01/A-Cam/A001C001.mov",
			"/day01/A-Cam/A001C002.mov <- shoot/day01/A-Cam/A001C002.mov",
			"/day01/B-Cam/B001C001.mov <- shoot/day01/B-Cam/B001C001.mov",
		}},
		{"glob with ** mirrors below its fixed prefix", media, "  - local: \"shoot/**/*.mov\"\n    to: /Dailies\n", []string{
			"/Dailies/day01/A-Cam/A001C001.mov <- shoot/day01/A-Cam/A001C001.mov",
			"/Dailies/day01/A-Cam/A001C002.mov <- shoot/day01/A-Cam/A001C002.mov",
			"/Dailies/day01/B-Cam/B001C001.mov <- shoot/day01/B-Cam/B001C001.mov",
		}},
		{"glob without ** stays at its depth and takes matching directories whole", media, "  - local: \"grades/*.mov\"\n    to: /Grades\n", []string{
			"/Grades/G01.mov <- grades/G01.mov",
			"/Grades/bundle.mov/inner.bin <- grades/bundle.mov/inner.bin",
		}},
		{"glob with alternatives", media, "  - local: \"shoot/day01/{A-Cam/*C001.mov,sound/*.wav}\"\n    to: /x\n", []string{
			"/x/A-Cam/A001C001.mov <- shoot/day01/A-Cam/A001C001.mov",
			"/x/sound/T01.wav <- shoot/day01/sound/T01.wav",
		}},
		{"glob in the manifest's directory", media, "  - local: \"*.mp4\"\n    to: /Reels\n", []string{
			"/Reels/reel.mp4 <- reel.mp4",
		}},
		{"single file lands in to", media, "  - local: shoot/day01/sound/T01.wav\n    to: /Sound\n    on_change: keep\n", []string{
			"/Sound/T01.wav <- shoot/day01/sound/T01.wav",
		}},
		{"remote entries", media, "  - remote: https://cdn.test/reels/v3.mp4?sig=1\n    to: /Reels\n  - remote: https://cdn.test/x\n    to: /\n    name: Z.mp4\n", []string{
			"/Reels/v3.mp4 <- https://cdn.test/reels/v3.mp4?sig=1",
			"/Z.mp4 <- https://cdn.test/x",
		}},
		{"sorted byte-wise across entries", map[string]string{"a/b.mov": "1", "a/B.mov": "2", "a/é.mov": "3", "a/z.mov": "4"},
			"  - local: a\n    to: /\n  - remote: https://cdn.test/a.mp4\n    to: /\n", []string{
				"/B.mov <- a/B.mov",
				"/a.mp4 <- https://cdn.test/a.mp4",
				"/b.mov <- a/b.mov",
				"/z.mov <- a/z.mov",
				"/é.mov <- a/é.mov",
			}},
		{"names are NFC-normalised, paths are not", map[string]string{"cafe\u0301/Cafe\u0301.mov": "1"},
			"  - local: \"cafe\u0301\"\n    to: /Caf\u00e9s\n", []string{
				"/Caf\u00e9s/Caf\u00e9.mov <- cafe\u0301/Cafe\u0301.mov",
			}},
		{"the manifest is never uploaded", map[string]string{
			"clip.mov": "1", "sub/fiosync.yaml": "kept",
		}, "  - local: .\n    to: /\n", []string{
			"/clip.mov <- clip.mov",
			"/sub/fiosync.yaml <- sub/fiosync.yaml",
		}},
		{"symlinks inside the directory are followed", map[string]string{
			"real/a.mov": "1", "media/link.mov": "-> ../real/a.mov", "media/dir": "-> ../real",
		}, "  - local: media\n    to: /m\n", []string{
			"/m/dir/a.mov <- media/dir/a.mov",
			"/m/link.mov <- media/link.mov",
		}},
		{"symlinked source directory", map[string]string{"real/a.mov": "1", "media": "-> real"},
			"  - local: media\n    to: /m\n", []string{
				"/m/a.mov <- media/a.mov",
			}},

		// Errors.
		{"missing source", media, "  - local: shoot/day12\n    to: /a\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: "shoot/day12" does not exist`,
		}},
		{"glob whose base is missing", media, "  - local: \"nope/*.mov\"\n    to: /a\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: matches no files: "nope" does not exist`,
		}},
		{"glob that matches nothing", media, "  - local: \"shoot/**/*.mxf\"\n    to: /a\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: matches no files`,
		}},
		{"glob whose base is a file", media, "  - local: \"reel.mp4/*\"\n    to: /a\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: matches no files: "reel.mp4" is not a directory`,
		}},
		{"empty directory", media, "  - local: shoot/empty\n    to: /a\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: matches no files`,
		}},
		{"everything excluded", media, "  - local: shoot/day01/sound\n    to: /a\n    exclude: [\"**\"]\n", []string{
			`fiosync.yaml:5:12: uploads[0].local: matches no files (exclude removed 2)`,
		}},
		{"two entries produce one address", media,
			"  - local: shoot/day01/A-Cam\n    to: /A\n  - local: \"shoot/day01/A-Cam/*.mov\"\n    to: /A\n  - remote: https://cdn.test/A001C001.mov\n    to: /A\n", []string{
				`fiosync.yaml:7:5: uploads[1]: "/A/A001C001.mov" is also produced by uploads[0] at line 5 (and 1 more)`,
				`fiosync.yaml:9:5: uploads[2]: "/A/A001C001.mov" is also produced by uploads[0] at line 5`,
			}},
		{"one entry produces one address twice", map[string]string{"a/\u00e9.mov": "1", "a/e\u0301.mov": "2"},
			"  - local: a\n    to: /\n", []string{
				"fiosync.yaml:5:5: uploads[0]: \"/\u00e9.mov\" is produced twice, from \"a/e\u0301.mov\" and \"a/\u00e9.mov\" (names that differ only in Unicode normalisation?)",
			}},
		{"broken symlink", map[string]string{"m/a.mov": "1", "m/gone.mov": "-> nowhere.mov"},
			"  - local: m\n    to: /\n", []string{
				`fiosync.yaml:5:12: uploads[0].local: broken symlink "m/gone.mov"`,
			}},
		{"symlink loop to an ancestor", map[string]string{"m/a.mov": "1", "m/sub/up": "-> .."},
			"  - local: m\n    to: /\n", []string{
				`fiosync.yaml:5:12: uploads[0].local: symlink loop: "m/sub/up" leads back into a directory being walked`,
			}},
		{"symlink loop between siblings", map[string]string{"m/a/x.mov": "1", "m/b/y.mov": "2", "m/a/tob": "-> ../b", "m/b/toa": "-> ../a"},
			"  - local: m\n    to: /\n", []string{
				`fiosync.yaml:5:12: uploads[0].local: symlink loop: "m/a/tob/toa" leads back into a directory being walked`,
				`fiosync.yaml:5:12: uploads[0].local: symlink loop: "m/b/toa/tob" leads back into a directory being walked`,
			}},
		{"symlink that loops on itself", map[string]string{"m/a.mov": "1", "m/self": "-> self"},
			"  - local: m\n    to: /\n", []string{
				`fiosync.yaml:5:12: uploads[0].local: symlink loop: "m/self" never resolves to a file`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tree(t, tt.files)
			x, err := expandIn(t, dir, tt.uploads)
			if diff := cmp.Diff(tt.want, summarize(dir, x, err)); diff != "" {
				t.Errorf("expansion (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExpandIgnore: the files Manifest.Ignore names are left out wherever they live (issue
// 15, case 6): by path whatever the spelling, through a symlink in the tree, and by name in
// any directory, a dangling symlink included; a directory whose name matches is not walked.
func TestExpandIgnore(t *testing.T) {
	dir := tree(t, map[string]string{
		"media/a.mov":                      "1",
		"media/my.state":                   "{}",
		"media/my.state.backup":            "{}",
		"media/my.state.lock":              "{}",
		"media/tonight.plan":               "{}",
		"media/deep/x.state.json":          "{}",
		"media/deep/.x.state.json.tmp-123": "{}",
		"media/deep/b.mov":                 "2",
		"media/x.state.json.parts/p1":      "3",
		"media/link.mov":                   "-> ../states/real.json",
		"media/pending.state.json":         "-> ../states/not-yet.json",
		"states/real.json":                 "{}",
		"alias":                            "-> media",
		"fiosync.state.json":               "{}",
		"fiosync.state.json.backup":        "{}",
	})
	write := func(uploads string) *Manifest {
		t.Helper()
		path := filepath.Join(dir, "fiosync.yaml")
		if err := os.WriteFile(path, []byte(head+uploads), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		m.Ignore = Ignore{
			Paths: []string{
				filepath.Join(dir, "alias", "my.state"), // through a symlinked directory
				filepath.Join(dir, "media", "my.state.backup"),
				filepath.Join(dir, "media", "my.state.lock"),
				filepath.Join(dir, "media", "tonight.plan"),
				filepath.Join(dir, "states", "real.json"),
			},
			Names: []string{"*.state.json*"},
		}
		return m
	}
	m := write("  - local: .\n    to: /\n")
	x, err := m.Expand()
	want := []string{
		"/alias/a.mov <- alias/a.mov",
		"/alias/deep/b.mov <- alias/deep/b.mov",
		"/media/a.mov <- media/a.mov",
		"/media/deep/b.mov <- media/deep/b.mov",
	}
	if diff := cmp.Diff(want, summarize(dir, x, err)); diff != "" {
		t.Errorf("expansion (-want +got):\n%s", diff)
	}

	m = write("  - local: media/my.state\n    to: /\n")
	x, err = m.Expand()
	want = []string{`fiosync.yaml:5:12: uploads[0].local: matches no files (1 left out: state, lock and plan files are never uploaded)`}
	if diff := cmp.Diff(want, summarize(dir, x, err)); diff != "" {
		t.Errorf("a single state file (-want +got):\n%s", diff)
	}
}

// TestCompileName: the shortcuts for common name patterns agree with the glob matcher.
func TestCompileName(t *testing.T) {
	names := []string{"", "*", "a", "x.state.json", ".x.state.json.tmp-1", "fiosync.state.json.lock", "state.json", "a.mov", "a.lock", "lock", "name", "name.txt", "my name", `a\b`}
	for _, p := range []string{"*.state.json*", "*.lock", "name*", "name", "*", "**", "*a*", "a?", "[ab]*", "{a,b}.mov", `a\*`, "*.state.json", ""} {
		match := compileName(p)
		for _, n := range names {
			if got, want := match(n), doublestar.MatchUnvalidated(p, n); got != want {
				t.Errorf("compileName(%q)(%q) = %v, the glob matcher says %v", p, n, got, want)
			}
		}
	}
}

// TestJoinBlocks holds joinBlocks, which copies from several goroutines once there are enough
// files, to slices.Concat: every file once, in order, whatever the blocks' sizes.
func TestJoinBlocks(t *testing.T) {
	for _, sizes := range [][]int{nil, {0}, {5}, {64, 0, 128, 4096}, {4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 1}, {40000}, {1, 40000, 3}} {
		var blocks [][]Desired
		i := 0
		for _, n := range sizes {
			b := make([]Desired, n)
			for j := range b {
				b[j].Address = fmt.Sprint(i)
				i++
			}
			blocks = append(blocks, b)
		}
		got, want := joinBlocks(blocks), slices.Concat(blocks...)
		if len(got) != len(want) {
			t.Fatalf("sizes %v: %d files, want %d", sizes, len(got), len(want))
		}
		for j := range want {
			if got[j].Address != want[j].Address {
				t.Fatalf("sizes %v: file %d is %q, want %q", sizes, j, got[j].Address, want[j].Address)
			}
		}
	}
}

// TestJoinTail: joinTail is prefix+name, shared with s when s ends with it.
func TestJoinTail(t *testing.T) {
	for _, c := range []struct{ s, prefix, name string }{
		{"/home/u/m/media/d0/a.mov", "media/d0/", "a.mov"},
		{"/home/u/m/other/d0/a.mov", "media/d0/", "a.mov"},
		{"a.mov", "media/d0/", "a.mov"},
		{"/x/media/d0/b.mov", "media/d0/", "a.mov"},
		{"", "", ""},
	} {
		if got := joinTail(c.s, c.prefix, c.name); got != c.prefix+c.name {
			t.Errorf("joinTail(%q, %q, %q) = %q, want %q", c.s, c.prefix, c.name, got, c.prefix+c.name)
		}
	}
}
