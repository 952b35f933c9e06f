package plan

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

func TestPlanFileRoundTrip(t *testing.T) {
	p := examplePlan(t)
	p.Warnings = []string{"Frame.io has 2 folders at /A; using the oldest (id x)"}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "X-Amz-Signature") || strings.Contains(string(data), "secret") {
		t.Errorf("plan file holds a URL's query string:\n%s", data)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Times come back in UTC, which is what Build records anyway.
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestPlanFileRefused(t *testing.T) {
	good, err := Encode(examplePlan(t))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string { return reseal(t, strings.Replace(string(good), old, new, 1)) }
	tests := []struct {
		name, data, wantErr string
	}{
		{"not JSON", "hello", "not a fiosync plan file"},
		{"older format", `{"format_version":"3"}`, `format version "3" is not "4"; make the plan again with this fiosync`},
		{"newer format", `{"format_version":"5"}`, `format version "5" is not "4"`},
		{"edited", strings.Replace(string(good), `"unchanged": 14`, `"unchanged": 15`, 1), "checksum mismatch"},
		{"no checksum", string(good[:bytes.LastIndex(good, []byte(",\n  \"checksum\""))]) + "\n}\n", "no checksum"},
		{"trailing data", string(good) + "{}", "the checksum is not the last field"},
		{"unknown field", edit(`"lineage"`, `"colour": 1, "lineage"`), `unknown field "colour"`},
		{"unknown action", edit(`"action": "create"`, `"action": "explode"`), `unknown action "explode"`},
		{"update without prior", edit(`"prior"`, `"_prior"`), `unknown field "_prior"`},
		{"entry left out", edit(`"/2026-11-26/A-Cam/A001.mov": null,`, ``), `entries: no entry recorded for "/2026-11-26/A-Cam/A001.mov", which the plan changes`},
		{"entry of an address not changed", edit(`"entries": {`, `"entries": {"/elsewhere.mov": null, `), `entries: an entry recorded for "/elsewhere.mov", which the plan does not change`},
		{"zero digest", edit(`"/2026-11-26/A-Cam/A001.mov": null`, `"/2026-11-26/A-Cam/A001.mov": "blake3:`+strings.Repeat("0", 64)+`"`), `a zero digest`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// reseal gives data, a plan file edited by a test, a checksum that fits again: the checksum
// catches accidents, and the tests of what else refuses an edit need it out of the way.
func reseal(t *testing.T, data string) string {
	t.Helper()
	i := strings.LastIndex(data, ",\n  \"checksum\"")
	if i < 0 {
		t.Fatalf("no checksum in %s", data)
	}
	body := []byte(data[:i])
	return string(append(body, checksumTail(source.Digest(blake3.Sum256(body)))...))
}

func TestCheckStale(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mtime time.Time) manifest.Desired {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return manifest.Desired{Address: "/" + name, Folder: "/", Name: name, Source: source.OfFile(name, fi), Path: path}
	}
	newFile := write("new.mov", "0123456789", t0)
	changedFile := write("changed.mov", "abcdef", t0)
	reel := remote("/reel.mp4", "https://cdn.example.com/reel.mp4?sig=1")
	gone := entry(source.Identity{Kind: source.Local, Size: 3}, "f-gone")

	st := newState(map[string]*state.Entry{
		changedFile.Address: entry(source.Identity{Kind: source.Local, Path: "changed.mov", Size: 6, Hash: digest("old")}, "f-c"),
		"/gone.mov":         gone,
	})
	files := []manifest.Desired{changedFile, newFile, reel}
	err := Identify(t.Context(), files, st, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(Inputs{Files: files, State: st, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 4 || files[0].Source.Hash.IsZero() {
		t.Fatalf("setup: want 4 changes and a hashed changed.mov, got %+v", p.Changes)
	}

	tests := []struct {
		name    string
		prepare func(t *testing.T, st *state.State) []manifest.Desired
		wantErr string
	}{
		{
			name:    "nothing changed",
			prepare: func(*testing.T, *state.State) []manifest.Desired { return files },
		},
		{
			name: "state serial moved, and an entry the plan does not write changed",
			prepare: func(_ *testing.T, st *state.State) []manifest.Desired {
				st.Serial++
				st.Entries["/other.mov"] = gone.Clone()
				return files
			},
		},
		{
			name: "entry of an update rewritten",
			prepare: func(_ *testing.T, st *state.State) []manifest.Desired {
				st.Entries[changedFile.Address].VerifiedAt = t0
				return files
			},
			wantErr: "plan is stale: /changed.mov changed in the state since the plan was made (its entry is another now); run fiosync plan again",
		},
		{
			name: "entry of a delete removed, entry at a create recorded",
			prepare: func(_ *testing.T, st *state.State) []manifest.Desired {
				st.Entries[newFile.Address] = st.Entries["/gone.mov"]
				delete(st.Entries, "/gone.mov")
				return files
			},
			wantErr: "plan is stale: 2 differences from the plan:\n  /gone.mov changed in the state since the plan was made (its entry was removed)\n" +
				"  /new.mov changed in the state since the plan was made (a file is recorded there now)\nrun fiosync plan again",
		},

		{
			name: "state lineage changed",
			prepare: func(_ *testing.T, st *state.State) []manifest.Desired {
				st.Lineage = "other"
				return files
			},
			wantErr: "plan is stale: it was made for state lineage lin, but the state now has lineage other; run fiosync plan again",
		},
		{
			name: "local file grew",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				return []manifest.Desired{changedFile, write("new.mov", "0123456789AB", t0), reel}
			},
			wantErr: "plan is stale: /new.mov changed since the plan was made (size 10 -> 12); run fiosync plan again",
		},
		{
			name: "local file touched, not hashed by the plan",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				return []manifest.Desired{changedFile, write("new.mov", "0123456789", t0.Add(time.Second)), reel}
			},
			wantErr: "plan is stale: /new.mov changed since the plan was made (modified 2026-11-26 09:00:00Z -> 2026-11-26 09:00:01Z); run fiosync plan again",
		},
		{
			name: "local file touched, same hash",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				return []manifest.Desired{write("changed.mov", "abcdef", t0.Add(time.Second)), newFile, reel}
			},
		},
		{
			name: "local file rewritten with the same size",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				return []manifest.Desired{write("changed.mov", "ABCDEF", t0.Add(time.Second)), newFile, reel}
			},
			wantErr: "plan is stale: /changed.mov changed since the plan was made (content changed); run fiosync plan again",
		},
		{
			name: "remote URL changed",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				return []manifest.Desired{changedFile, newFile, remote("/reel.mp4", "https://cdn.example.com/reel.mp4?sig=2")}
			},
			wantErr: "plan is stale: /reel.mp4 changed since the plan was made (source URL changed); run fiosync plan again",
		},
		{
			name: "file left the manifest and a deleted one came back",
			prepare: func(*testing.T, *state.State) []manifest.Desired {
				back := local("/gone.mov", 3, t0)
				return []manifest.Desired{changedFile, back, reel}
			},
			wantErr: "plan is stale: 2 differences from the plan:\n  /gone.mov is in the manifest again\n  /new.mov is no longer in the manifest\nrun fiosync plan again",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := st.Clone()
			files := tt.prepare(t, st)
			err := CheckStale(p, st, files)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckStale: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, ErrStale) {
				t.Fatalf("CheckStale error:\n got %v\nwant %s", err, tt.wantErr)
			}
		})
	}
	// A plan made before any state was saved has a lineage of its own: one saved since is
	// another history, unless it is the plan's (a stored state at serial 0, as runners of a
	// first delivery share one).
	unsaved := *p
	unsaved.Serial = 0
	unsaved.Lineage = "throwaway"
	want := "plan is stale: it was made before any state existed, and an apply has written one since (serial 7); run fiosync plan again"
	if err := CheckStale(&unsaved, st, files); err == nil || err.Error() != want {
		t.Errorf("CheckStale of a plan made from no state:\n got %v\nwant %s", err, want)
	}
	unsaved.Lineage = st.Lineage
	if err := CheckStale(&unsaved, st, files); err != nil {
		t.Errorf("CheckStale of a plan made from the same lineage at serial 0: %v", err)
	}
}
