package plan

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

const (
	gib = int64(1) << 30
	mib = int64(1) << 20
)

// examplePlan is the plan of product.md's "Plan output" example, built through Build.
func examplePlan(t testing.TB) *Plan {
	t.Helper()
	a001 := local("/2026-11-26/A-Cam/A001.mov", 1288490189, t0) // 1.2 GiB
	g01 := local("/2026-11-26/Grades/G01.mov", 880*mib, t0.Add(1))
	reel := remote("/Reels/reel_v3.mp4", "https://cdn.example.com/reel_v3.mp4?X-Amz-Signature=secret")
	old := entry(source.Identity{Kind: source.Local, Path: "old.mov", Size: 3 * gib}, "f-old")
	g01Old := entry(source.Identity{Kind: source.Local, Path: "grades/G01.mov", Size: 870 * mib}, "f-g01")

	entries := map[string]*state.Entry{
		"/2026-11-20/old.mov":        old,
		"/2026-11-26/Grades/G01.mov": g01Old,
	}
	files := []manifest.Desired{a001, g01}
	for i := range 14 {
		d := local(fmt.Sprintf("/2026-11-26/B-Cam/B%03d.mov", i), 100, t0)
		files = append(files, d)
		entries[d.Address] = entry(localSource(d, "same"), fmt.Sprintf("f-b%d", i))
	}
	files = append(files, reel)
	p, err := Build(Inputs{Files: files, State: newState(entries), Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// adoptPlan adopts a local and a remote file already in Frame.io beside one create.
func adoptPlan(t testing.TB) *Plan {
	t.Helper()
	a001 := local("/2026-11-26/A-Cam/A001.mov", 1288490189, t0)
	a002 := local("/2026-11-26/A-Cam/A002.mov", 5*mib, t0)
	reel := remote("/Reels/reel_v3.mp4", "https://cdn.example.com/reel_v3.mp4?X-Amz-Signature=secret")
	p, err := Build(Inputs{Files: []manifest.Desired{a001, a002, reel}, Adopt: true, Remote: &Snapshot{
		Target:  testTarget,
		Folders: map[string]string{"/": "root", "/2026-11-26": "f-day", "/2026-11-26/A-Cam": "f-acam", "/Reels": "f-reels"},
		Listed: map[string][]RemoteFile{
			"/2026-11-26/A-Cam": {{ID: "f-a001", Name: "A001.mov", ParentID: "f-acam", Size: 1288490189, Status: "uploaded", CreatedAt: t0}},
			"/Reels":            {{ID: "f-reel", Name: "reel_v3.mp4", ParentID: "f-reels", Size: 77, Status: "transcoded", CreatedAt: t0}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func untrackedPlan(t testing.TB) *Plan {
	t.Helper()
	d := local("/A/kept.mov", 100, t0)
	entries := map[string]*state.Entry{
		d.Address:          entry(localSource(d, "x"), "f-kept"),
		"/A/gone.mov":      entry(source.Identity{Kind: source.Local, Size: 1}, "f-gone"),
		"/B/also gone.mp4": entry(source.OfURL("https://x.example/a.mp4"), "f-also"),
	}
	p, err := Build(Inputs{Files: []manifest.Desired{d}, State: newState(entries)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mhlPlan is a card uploaded under an ASC MHL history: two clips the history covers and a
// file it does not.
func mhlPlan(t testing.TB) *Plan {
	t.Helper()
	files := []manifest.Desired{
		local("/Day01/A002R2EC/Clips/A002C006.mov", 5*mib, t0),
		local("/Day01/A002R2EC/Clips/A002C007.mov", 4*mib, t0),
		local("/Day01/A002R2EC/notes.txt", 22, t0),
	}
	check := &MHL{notInMHL: map[string]bool{"/Day01/A002R2EC/notes.txt": true}}
	p, err := Build(Inputs{Files: files, MHL: check})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRender(t *testing.T) {
	plans := []struct {
		name string
		plan func(testing.TB) *Plan
	}{
		{"example", examplePlan},
		{"adopt", adoptPlan},
		{"nochanges", untrackedPlan},
		{"shootday", func(t testing.TB) *Plan {
			files, _ := shootDay()
			p, err := Build(Inputs{Files: files, Remote: &Snapshot{Target: testTarget, Folders: map[string]string{"/": "root"}}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"mhl", mhlPlan},
		{"empty", func(testing.TB) *Plan {
			p, err := Build(Inputs{})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	formats := []struct {
		ext   string
		write func(*bytes.Buffer, *Plan) error
	}{
		{"txt", func(b *bytes.Buffer, p *Plan) error { return WriteText(b, p, Style{}) }},
		{"color.txt", func(b *bytes.Buffer, p *Plan) error { return WriteText(b, p, Style{Color: true}) }},
		{"json", func(b *bytes.Buffer, p *Plan) error { return WriteJSON(b, p) }},
		{"md", func(b *bytes.Buffer, p *Plan) error { return WriteMarkdown(b, p) }},
	}
	for _, pl := range plans {
		for _, f := range formats {
			t.Run(pl.name+"."+f.ext, func(t *testing.T) {
				p := pl.plan(t)
				var b bytes.Buffer
				if err := f.write(&b, p); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(b.String(), "secret") {
					t.Errorf("output shows a URL's query string:\n%s", b.String())
				}
				golden(t, pl.name+"."+f.ext, b.Bytes())
			})
		}
	}
}

// TestMarkdownLimit renders plans far larger than a pull request comment allows: every
// folder's totals still show, and the change rows plus the count left out add up.
func TestMarkdownLimit(t *testing.T) {
	tests := []struct {
		name    string
		files   func() ([]manifest.Desired, map[string]*state.Entry)
		folders []string // that the folder table must name
		rolled  bool
	}{
		{name: "fits", files: func() ([]manifest.Desired, map[string]*state.Entry) {
			return spread(5, 5, 1)
		}, folders: []string{"/U", "/V"}},
		{name: "creates cut", files: func() ([]manifest.Desired, map[string]*state.Entry) {
			return spread(10, 5000, 1)
		}, folders: []string{"/U", "/V"}},
		{name: "updates cut, creates all left out", files: func() ([]manifest.Desired, map[string]*state.Entry) {
			return spread(5000, 10, 1)
		}, folders: []string{"/U", "/V"}},
		{name: "shoot day: 2000 frames, sound, sidecars", files: shootDay,
			folders: []string{"/Day01/A-Cam", "/Day01/Sound", "/Day01/VFX/shot010"}},
		{name: "rolled up: 3000 folders", files: func() ([]manifest.Desired, map[string]*state.Entry) {
			var files []manifest.Desired
			for i := range 3000 {
				files = append(files, local(fmt.Sprintf("/Day01/Cards/card-%s-%04d/clip.mov", strings.Repeat("x", 20), i), 20, t0))
			}
			files = append(files, local("/Day01/Sound/take.wav", 20, t0))
			return files, nil
		}, folders: []string{"/Day01/Cards/**", "/Day01/Sound"}, rolled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, entries := tt.files()
			p, err := Build(Inputs{Files: files, State: newState(entries)})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteMarkdown(&b, p); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if b.Len() >= MarkdownLimit {
				t.Errorf("markdown is %d bytes, want under %d", b.Len(), MarkdownLimit)
			}
			shown, tabled := markdownCounts(t, out)
			var more int
			if i := strings.Index(out, "... and "); i >= 0 {
				fmt.Sscanf(out[i:], "... and %d more", &more)
			}
			if shown+more != len(p.Changes) {
				t.Errorf("%d files in rows + %d left out != %d changes", shown, more, len(p.Changes))
			}
			if tabled != len(p.Changes) {
				t.Errorf("the folder table counts %d files, want %d", tabled, len(p.Changes))
			}
			for _, f := range tt.folders {
				if !strings.Contains(out, "| `"+f+"` |") {
					t.Errorf("folder table has no row for %s:\n%.3000s", f, out)
				}
			}
			if got := strings.Contains(out, "Rolled up:"); got != tt.rolled {
				t.Errorf("rolled up = %v, want %v", got, tt.rolled)
			}
			if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
				t.Errorf("unbalanced <details> block")
			}
		})
	}
}

// spread is a plan's files: updates in /U, creates in /V, names that are no sequence.
func spread(updates, creates, _ int) ([]manifest.Desired, map[string]*state.Entry) {
	var files []manifest.Desired
	entries := map[string]*state.Entry{}
	for i := range updates {
		d := local(fmt.Sprintf("/U/%s-%05d-%s.mov", word(i), i, strings.Repeat("u", 40)), 20, t0)
		files = append(files, d)
		entries[d.Address] = entry(source.Identity{Kind: source.Local, Size: 10}, "f")
	}
	for i := range creates {
		files = append(files, local(fmt.Sprintf("/V/%s-%05d-%s.mov", word(i), i, strings.Repeat("c", 40)), 20, t0))
	}
	return files, entries
}

// word gives i a distinct prefix, so that names differ in more than their number.
func word(i int) string { return fmt.Sprintf("%c%c", 'a'+i%26, 'a'+i/26%26) }

// shootDay is the shoot day: camera clips, 2,000 EXR frames with sidecars, sound.
func shootDay() ([]manifest.Desired, map[string]*state.Entry) {
	var files []manifest.Desired
	for i := range 12 {
		files = append(files, local(fmt.Sprintf("/Day01/A-Cam/A%03dC%03d_261126_R1AB.mov", 1, i+1), 900*mib, t0))
	}
	for f := 1001; f <= 3000; f++ {
		files = append(files, local(fmt.Sprintf("/Day01/VFX/shot010/shot010.%04d.exr", f), 2048, t0))
		if f%100 == 0 {
			files = append(files, local(fmt.Sprintf("/Day01/VFX/shot010/shot010.%04d.exr.xmp", f), 100, t0))
		}
	}
	for i := range 6 {
		files = append(files, local(fmt.Sprintf("/Day01/Sound/%s_T%02d.wav", word(i), i), 80*mib, t0))
	}
	slices.SortFunc(files, func(a, b manifest.Desired) int { return strings.Compare(a.Address, b.Address) })
	return files, nil
}

// markdownCounts adds up the files the change rows stand for and those the folder table
// counts (to upload + to delete + other).
func markdownCounts(t *testing.T, out string) (shown, tabled int) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		cells := strings.Split(l, " | ")
		switch {
		case len(cells) == 5 && (strings.HasPrefix(l, "| + |") || strings.HasPrefix(l, "| ~ |") || strings.HasPrefix(l, "| - |") || strings.HasPrefix(l, "| = |")):
			n := 1
			if _, err := fmt.Sscanf(cells[4], "%d files", &n); err != nil {
				fmt.Sscanf(cells[4], "%d more files", &n)
			}
			shown += n
		case len(cells) == 5 && strings.HasPrefix(l, "| `"):
			var up, del, other int
			fmt.Sscanf(cells[1], "%d", &up)
			fmt.Sscanf(cells[3], "%d", &del)
			fmt.Sscanf(strings.TrimSuffix(cells[4], " |"), "%d", &other)
			tabled += up + del + other
		}
	}
	return shown, tabled
}
