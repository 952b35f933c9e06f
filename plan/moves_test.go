package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// renamedDay is a day folder renamed from /Day 01 to /2026-11-26: a big clip, a small text
// file and a small versioned cut, each with the content it had.
func renamedDay() (files []manifest.Desired, st *state.State) {
	const big = 20 << 20
	oldBig, newBig := local("/Day 01/A001.mov", big, t0), local("/2026-11-26/A001.mov", big, t0)
	oldTxt, newTxt := local("/Day 01/notes.txt", 100, t0), local("/2026-11-26/notes.txt", 100, t0)
	oldCut, newCut := local("/Day 01/cut.mov", 200, t0), local("/2026-11-26/cut.mov", 200, t0)
	cut := entry(localSource(oldCut, "cut v2"), "f-cut")
	cut.VersionStackID, cut.Previous = "vs-cut", []string{"f-cut-v1"}
	st = newState(map[string]*state.Entry{
		oldBig.Address: entry(localSource(oldBig, "big"), "f-big"),
		oldTxt.Address: entry(localSource(oldTxt, "notes"), "f-txt"),
		oldCut.Address: cut,
	})
	files = []manifest.Desired{
		withSource(newBig, localSource(newBig, "big")),
		withSource(newCut, localSource(newCut, "cut v2")),
		withSource(newTxt, localSource(newTxt, "notes")),
	}
	return files, st
}

// moveLines renders p's changes as "action address [<- from]" lines.
func moveLines(p *Plan) []string {
	var out []string
	for _, c := range p.Changes {
		line := string(c.Action) + " " + c.Address
		if c.From != "" {
			line += " <- " + c.From
		}
		out = append(out, line)
	}
	return out
}

func TestBuildMoves(t *testing.T) {
	tests := []struct {
		name        string
		prune       bool
		moves       Moves
		sel         Selection
		want        []string
		untracked   []string
		wantEmptied []string
	}{
		{
			name: "prune: true moves the big file and the versioned one, uploads the small one", prune: true,
			moves: MovesFor(true, false, false, 0),
			want: []string{"move /2026-11-26/A001.mov <- /Day 01/A001.mov", "move /2026-11-26/cut.mov <- /Day 01/cut.mov",
				"create /2026-11-26/notes.txt", "delete /Day 01/notes.txt"},
			wantEmptied: []string{"/Day 01"},
		},
		{
			name: "--no-moves uploads everything again", prune: true, moves: MovesFor(true, false, true, 0),
			want: []string{"create /2026-11-26/A001.mov", "create /2026-11-26/cut.mov", "create /2026-11-26/notes.txt",
				"delete /Day 01/A001.mov", "delete /Day 01/cut.mov", "delete /Day 01/notes.txt"},
		},
		{
			name: "prune: false without --moves leaves the old files", moves: MovesFor(false, false, false, 0),
			want:      []string{"create /2026-11-26/A001.mov", "create /2026-11-26/cut.mov", "create /2026-11-26/notes.txt"},
			untracked: []string{"/Day 01/A001.mov", "/Day 01/cut.mov", "/Day 01/notes.txt"},
		},
		{
			name: "--moves with prune: false moves, and leaves the small file", moves: MovesFor(false, true, false, 0),
			want:      []string{"move /2026-11-26/A001.mov <- /Day 01/A001.mov", "move /2026-11-26/cut.mov <- /Day 01/cut.mov", "create /2026-11-26/notes.txt"},
			untracked: []string{"/Day 01/notes.txt"},
		},
		{
			name: "a threshold of 1 byte moves every file", prune: true, moves: MovesFor(true, false, false, 1),
			want: []string{"move /2026-11-26/A001.mov <- /Day 01/A001.mov", "move /2026-11-26/cut.mov <- /Day 01/cut.mov",
				"move /2026-11-26/notes.txt <- /Day 01/notes.txt"},
			wantEmptied: []string{"/Day 01"},
		},
		{
			name: "a move needs both ends in the targeting", prune: true, moves: MovesFor(true, false, false, 0),
			sel:  Selection{Targets: []string{"/2026-11-26"}},
			want: []string{"create /2026-11-26/A001.mov", "create /2026-11-26/cut.mov", "create /2026-11-26/notes.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, st := renamedDay()
			p, err := Build(Inputs{Files: files, Prune: tt.prune, State: st, Moves: tt.moves, Select: tt.sel})
			if err != nil {
				t.Fatal(err)
			}
			if got := moveLines(p); !slices.Equal(got, tt.want) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !slices.Equal(p.Untracked, tt.untracked) && len(p.Untracked)+len(tt.untracked) > 0 {
				t.Errorf("untracked %v, want %v", p.Untracked, tt.untracked)
			}
			if !slices.Equal(p.Emptied, tt.wantEmptied) {
				t.Errorf("emptied %v, want %v", p.Emptied, tt.wantEmptied)
			}
			for _, c := range p.Changes {
				if c.Action != Move {
					continue
				}
				if c.Prior == nil || c.Prior.FileID != st.Entries[c.From].FileID || c.Source.Path != "src"+c.Address {
					t.Errorf("move %s: prior %+v, source %+v", c.Address, c.Prior, c.Source)
				}
				if _, ok := p.Folders["/2026-11-26"]; !ok {
					t.Errorf("the move's folder is not among the plan's folders: %v", p.Folders)
				}
			}
			if s := p.Summary(); tt.wantEmptied != nil && s.Bytes != 100 && s.Move < 3 {
				t.Errorf("summary bytes %d: a move uploads nothing", s.Bytes)
			}
		})
	}
}

func TestBuildMovePairs(t *testing.T) {
	t.Run("two copies of one content move to two addresses, each once", func(t *testing.T) {
		a, b := local("/Old/a.mov", 9<<20, t0), local("/Old/b.mov", 9<<20, t0)
		na, nb := local("/New/a.mov", 9<<20, t0), local("/New/b.mov", 9<<20, t0)
		st := newState(map[string]*state.Entry{a.Address: entry(localSource(a, "same"), "f-a"), b.Address: entry(localSource(b, "same"), "f-b")})
		p, err := Build(Inputs{Files: []manifest.Desired{withSource(na, localSource(na, "same")), withSource(nb, localSource(nb, "same"))},
			Prune: true, State: st, Moves: MovesFor(true, false, false, 0)})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"move /New/a.mov <- /Old/a.mov", "move /New/b.mov <- /Old/b.mov"}
		if got := moveLines(p); !slices.Equal(got, want) {
			t.Errorf("changes %v, want %v", got, want)
		}
	})
	t.Run("other content at the new address is a create and a delete", func(t *testing.T) {
		a, na := local("/Old/a.mov", 9<<20, t0), local("/New/a.mov", 9<<20, t0)
		st := newState(map[string]*state.Entry{a.Address: entry(localSource(a, "one"), "f-a")})
		p, err := Build(Inputs{Files: []manifest.Desired{withSource(na, localSource(na, "two"))}, Prune: true, State: st, Moves: MovesFor(true, false, false, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveLines(p), []string{"create /New/a.mov", "delete /Old/a.mov"}; !slices.Equal(got, want) {
			t.Errorf("changes %v, want %v", got, want)
		}
	})
	t.Run("a file gone from Frame.io is uploaded, not moved", func(t *testing.T) {
		a, na := local("/Old/a.mov", 9<<20, t0), local("/New/a.mov", 9<<20, t0)
		st := newState(map[string]*state.Entry{a.Address: entry(localSource(a, "one"), "f-a")})
		snap := &Snapshot{Target: testTarget, Folders: map[string]string{}, Files: map[string]RemoteFile{}}
		p, err := Build(Inputs{Files: []manifest.Desired{withSource(na, localSource(na, "one"))}, Prune: true, State: st,
			Remote: snap, Moves: MovesFor(true, false, false, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if got := moveLines(p); !slices.Equal(got, []string{"create /New/a.mov", "delete /Old/a.mov"}) {
			t.Errorf("changes %v", got)
		}
	})
}

// TestIdentifyMovesReadsOnlyCandidates holds that finding moves hashes only the new files of
// a dropped address's size, never the rest.
func TestIdentifyMovesReadsOnlyCandidates(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) manifest.Desired {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		folder, name := splitAddress("/" + rel)
		return manifest.Desired{Address: "/" + rel, Folder: folder, Name: name, Path: p, Source: source.OfFile(rel, fi)}
	}
	moved := write("New/a.mov", "0123456789")
	other := write("New/b.mov", "other size")
	other2 := write("New/c.mov", "12345")
	old := entry(source.Identity{Kind: source.Local, Path: "Old/a.mov", Size: 10, Hash: digest("0123456789")}, "f-a")
	tooSmall := entry(source.Identity{Kind: source.Local, Path: "Old/c.mov", Size: 5, Hash: digest("54321")}, "f-c")
	st := newState(map[string]*state.Entry{"/Old/a.mov": old, "/Old/c.mov": tooSmall})
	files := []manifest.Desired{moved, other, other2}
	reads := countReads(t)
	// Sizes 10 and 5 are both dropped, but the 5-byte one is below the threshold.
	if err := IdentifyMoves(context.Background(), files, st, Selection{}, MovesFor(true, false, false, 10), 1); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 2 { // a.mov and b.mov are 10 bytes
		t.Errorf("read %d files, want the 2 of the dropped size", n)
	}
	if files[0].Source.Hash != old.Source.Hash || !files[2].Source.Hash.IsZero() {
		t.Errorf("hashes: %v %v", files[0].Source.Hash, files[2].Source.Hash)
	}
	reads.Store(0)
	if err := IdentifyMoves(context.Background(), files, st, Selection{}, MovesFor(false, false, false, 10), 1); err != nil || reads.Load() != 0 {
		t.Errorf("moves off: %d reads, %v", reads.Load(), err)
	}
}

// TestBuildUnfinishedMove: an entry whose move was written ahead and never confirmed is a
// finish, and a dropped one whose move was not finished can still move on.
func TestBuildUnfinishedMove(t *testing.T) {
	n := local("/New/a.mov", 9<<20, t0)
	e := entry(localSource(n, "a"), "f-a")
	e.Followup = &state.Followup{Step: state.StepMove, FileID: "f-a"}
	p, err := Build(Inputs{Files: []manifest.Desired{withSource(n, localSource(n, "a"))}, Prune: true,
		State: newState(map[string]*state.Entry{n.Address: e}), Moves: MovesFor(true, false, false, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Finish || p.Changes[0].Reason != ReasonNotMoved || p.Changes[0].Size != 0 {
		t.Fatalf("changes %+v, want one finish %q", p.Changes, ReasonNotMoved)
	}
	back := local("/Old/a.mov", 9<<20, t0)
	p, err = Build(Inputs{Files: []manifest.Desired{withSource(back, localSource(back, "a"))}, Prune: true,
		State: newState(map[string]*state.Entry{n.Address: e}), Moves: MovesFor(true, false, false, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := moveLines(p); !slices.Equal(got, []string{"move /Old/a.mov <- /New/a.mov"}) {
		t.Errorf("changes %v, want the file moved back", got)
	}
}

// TestVerifyMoves holds a saved plan's moves to what the manifest and the state allow now: a
// move from another address, a move turned into a create, or other moves settings are
// refused; the plan file round trip keeps the move.
func TestVerifyMoves(t *testing.T) {
	build := func(m Moves) *Plan {
		files, st := renamedDay()
		p, err := Build(Inputs{Files: files, Prune: true, State: st, Moves: m})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	on := MovesFor(true, false, false, 0)
	data, err := Encode(build(on))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(saved, build(on)); err != nil {
		t.Fatalf("Verify of the decoded plan: %v", err)
	}
	if saved.Changes[0].Action != Move || saved.Changes[0].From != "/Day 01/A001.mov" || !slices.Equal(saved.Emptied, []string{"/Day 01"}) {
		t.Fatalf("decoded %+v, emptied %v", saved.Changes[0], saved.Emptied)
	}
	for name, tt := range map[string]struct {
		tamper func(p *Plan)
		want   string
	}{
		"another from":   {func(p *Plan) { p.Changes[0].From = "/Day 01/notes.txt" }, "moves the file of"},
		"moves off":      {func(p *Plan) { p.Moves.Enabled = false }, "made with moves"},
		"a lower bound":  {func(p *Plan) { p.Moves.MinSize = 1 }, "made with moves"},
		"create to move": {func(p *Plan) { p.Changes[2].Action, p.Changes[2].From = Move, "/Day 01/notes.txt" }, "the action now is create"},
	} {
		t.Run(name, func(t *testing.T) {
			p := build(on)
			tt.tamper(p)
			if err := Verify(p, build(on)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v, want %q", err, tt.want)
			}
		})
	}
	// A plan file whose move names no other address is refused when read.
	bad := build(on)
	bad.Changes[0].From = bad.Changes[0].Address
	if data, err := Encode(bad); err != nil {
		t.Fatal(err)
	} else if _, err := Decode(data); err == nil || !strings.Contains(err.Error(), "names no other address") {
		t.Errorf("Decode of a move from itself: %v", err)
	}
}

// TestCheckStaleMove: a saved move is stale once its old address is in the manifest again.
func TestCheckStaleMove(t *testing.T) {
	files, st := renamedDay()
	p, err := Build(Inputs{Files: files, Prune: true, State: st, Moves: MovesFor(true, false, false, 0)})
	if err != nil {
		t.Fatal(err)
	}
	back := local("/Day 01/A001.mov", 20<<20, t0)
	err = CheckStale(p, st, append(files, back))
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "/Day 01/A001.mov, which the plan moves away, is in the manifest again") {
		t.Errorf("CheckStale = %v", err)
	}
}

// TestRenderMoveEscapes: a move line names two addresses from the disk and the state; neither
// can add a line or a control sequence to the plan.
func TestRenderMoveEscapes(t *testing.T) {
	p := &Plan{Changes: []Change{{Address: "/New/a\x1b[2J.mov", Action: Move, Kind: source.Local, Folder: "/New", Name: "a\x1b[2J.mov",
		From: "/Old/a\n  - /fake.mov", Prior: &state.Entry{FileID: "f"}}}, Emptied: []string{"/Old\r"}}
	var text, md strings.Builder
	if err := WriteText(&text, p, Style{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.ContainsAny(out, "\x1b\r") || strings.Contains(out, "\n  - /fake.mov") {
			t.Errorf("%s output lets a name through unescaped:\n%q", name, out)
		}
	}
}
