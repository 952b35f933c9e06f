package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/plan"
)

// card copies scenario_01's card (one xxh64 generation) to a temporary manifest directory,
// with the modification times its history records, and returns the directory.
func card(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "mhl", "testdata", "scenarios", "scenario_01", "travel_01")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	recorded := time.Date(2020, 1, 15, 13, 0, 0, 0, time.UTC)
	for _, f := range []string{"Sidecar.txt", "Clips/A002C006_141024_R2EC.mov", "Clips/A002C007_141024_R2EC.mov"} {
		os.Chtimes(filepath.Join(dir, "A002R2EC", f), recorded, recorded)
	}
	return dir
}

func checkMHL(t *testing.T, dir, yaml string) (*plan.MHL, error) {
	t.Helper()
	m, err := manifest.Parse(filepath.Join(dir, "fiosync.yaml"), []byte("version: 1\ntarget:\n  project: P\nuploads:\n"+yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := m.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return plan.CheckMHL(m, x.Files)
}

const cardEntry = "  - local: A002R2EC\n    to: /D\n    mhl: auto\n"

func TestCheckMHLClean(t *testing.T) {
	dir := card(t)
	check, err := checkMHL(t, dir, cardEntry)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := check.Expect("/D/Sidecar.txt")
	if !ok || e.Hashes[mhl.XXH64] != "3ab5a4166b9bde44" || e.Size != 58 || filepath.Base(e.Generation) != "0001_A002R2EC_2020-01-16_091500Z.mhl" {
		t.Fatalf("Expect(Sidecar.txt) = %+v, %v", e, ok)
	}
	if check.NotCovered("/D/ascmhl/ascmhl_chain.xml") {
		t.Error("the history's own chain file is reported as not in MHL")
	}
	// A path naming the history (or its ascmhl folder) finds the same.
	for _, named := range []string{"A002R2EC", "A002R2EC/ascmhl"} {
		check, err := checkMHL(t, dir, "  - local: A002R2EC/Clips\n    to: /D\n    mhl: "+named+"\n")
		if err != nil {
			t.Fatalf("mhl: %s: %v", named, err)
		}
		if _, ok := check.Expect("/D/A002C006_141024_R2EC.mov"); !ok {
			t.Errorf("mhl: %s: no record for a clip", named)
		}
	}
}

func TestCheckMHLRefuses(t *testing.T) {
	cases := map[string]struct {
		change func(dir string)
		want   []string
	}{
		"size changed": {
			change: func(dir string) {
				p := filepath.Join(dir, "A002R2EC", "Sidecar.txt")
				fi, _ := os.Stat(p)
				os.WriteFile(p, []byte("longer than the fifty-eight bytes the DIT hashed on set, by a few"), 0o644)
				os.Chtimes(p, fi.ModTime(), fi.ModTime())
			},
			want: []string{"Sidecar.txt", "65 bytes on disk, 58 bytes in the ASC MHL history", "0001_A002R2EC_2020-01-16_091500Z.mhl"},
		},
		"mtime changed": {
			change: func(dir string) {
				now := time.Now()
				os.Chtimes(filepath.Join(dir, "A002R2EC", "Sidecar.txt"), now, now)
			},
			want: []string{"Sidecar.txt", "2020-01-15T13:00:00Z in the ASC MHL history"},
		},
		"listed file missing": {
			change: func(dir string) { os.Remove(filepath.Join(dir, "A002R2EC", "Clips", "A002C007_141024_R2EC.mov")) },
			want:   []string{"A002C007_141024_R2EC.mov: listed in the ASC MHL history", "missing on disk"},
		},
		"generation tampered": {
			change: func(dir string) {
				p := filepath.Join(dir, "A002R2EC", "ascmhl", "0001_A002R2EC_2020-01-16_091500Z.mhl")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(b), `size="58"`, `size="59"`, 1)), 0o644)
			},
			want: []string{"0001_A002R2EC_2020-01-16_091500Z.mhl", "the chain records", "changed after it was written"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := card(t)
			tc.change(dir)
			_, err := checkMHL(t, dir, cardEntry)
			var me *plan.MHLError
			if !errors.As(err, &me) {
				t.Fatalf("CheckMHL = %v, want an MHLError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A named history that is not there.
	_, err := checkMHL(t, card(t), "  - local: A002R2EC\n    to: /D\n    mhl: nowhere\n")
	if err == nil || !strings.Contains(err.Error(), "uploads[0].mhl names no ASC MHL history") {
		t.Errorf("mhl: nowhere: %v", err)
	}
}

// Files an entry with mhl: uploads that no history covers are reported, not refused.
func TestCheckMHLNotCovered(t *testing.T) {
	dir := card(t)
	os.WriteFile(filepath.Join(dir, "A002R2EC", "Clips", "new.mov"), []byte("new"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("n"), 0o644)
	check, err := checkMHL(t, dir, cardEntry+"  - local: notes.txt\n    to: /D\n    mhl: auto\n  - local: A002R2EC/Sidecar.txt\n    to: /E\n")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"/D/Clips/new.mov": true, "/D/notes.txt": true, "/D/Sidecar.txt": false, "/E/Sidecar.txt": false} {
		if got := check.NotCovered(addr); got != want {
			t.Errorf("NotCovered(%s) = %v, want %v", addr, got, want)
		}
	}
	if _, ok := check.Expect("/E/Sidecar.txt"); ok {
		t.Error("an entry without mhl: is checked")
	}
}
