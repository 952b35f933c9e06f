package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExamples loads and expands every manifest under examples/, so that
// the examples the README and `make demo` use never rot.
func TestExamples(t *testing.T) {
	want := map[string][]string{
		"dailies": {
			"/Dailies/day01/A-Cam/A001C001.mov <- shoot/day01/A-Cam/A001C001.mov",
			"/Dailies/day01/A-Cam/A001C002.mov <- shoot/day01/A-Cam/A001C002.mov",
			"/Dailies/day01/B-Cam/B001C001.mov <- shoot/day01/B-Cam/B001C001.mov",
			"/Dailies/day01/sound/day01_T01.wav <- shoot/day01/sound/day01_T01.wav",
			"/Dailies/day01/sound/day01_T02.wav <- shoot/day01/sound/day01_T02.wav",
			"/Dailies/day02/A-Cam/A002C001.mov <- shoot/day02/A-Cam/A002C001.mov",
			"/Dailies/day02/sound/day02_T01.wav <- shoot/day02/sound/day02_T01.wav",
		},
		"remote": {
			"/Reference/BigBuckBunny_320x180.mp4 <- https://download.blender.org/peach/bigbuckbunny_movies/BigBuckBunny_320x180.mp4",
			"/Reference/Tears of Steel (trailer).mov <- https://download.blender.org/demo/movies/ToS/ToS-4k-1920.mov",
		},
		"mixed": {
			"/Grades/G01_v2.mov <- grades/G01_v2.mov",
			"/Grades/wip/G02_v1.mov <- grades/wip/G02_v1.mov",
			"/Reels/reel_v3.mp4 <- https://download.blender.org/peach/bigbuckbunny_movies/BigBuckBunny_320x180.mp4",
		},
	}
	summaries := map[string]string{
		"dailies": "../examples/dailies/fiosync.yaml: 2 uploads, 7 files, 13.8 KiB",
		"remote":  "../examples/remote/fiosync.yaml: 2 uploads, 0 files, 0 B, 2 remote",
		"mixed":   "../examples/mixed/fiosync.yaml: 2 uploads, 2 files, 4 KiB, 1 remote",
	}
	paths, err := filepath.Glob(filepath.Join("..", "examples", "*", DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(want) {
		t.Errorf("found %d example manifests %q, want %d: add new ones to this test", len(paths), paths, len(want))
	}
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Target.Project != "Sandbox" || m.Target.Account != "" {
				t.Errorf("target = %+v, want project Sandbox and no account (the emulator's seed)", m.Target)
			}
			x, err := m.Expand()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[name], summarize(m.Dir, x, nil)); diff != "" {
				t.Errorf("expansion (-want +got):\n%s", diff)
			}
			if got := x.Summary(m); got != summaries[name] {
				t.Errorf("Summary = %q, want %q", got, summaries[name])
			}
		})
	}
	if _, err := os.Stat(filepath.Join("..", "examples", "README.md")); err != nil {
		t.Errorf("examples/README.md: %v", err)
	}
}
