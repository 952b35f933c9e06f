package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// forged is the file name of issue 16's hole 4: printed raw, it forges a prune line and a
// summary in the text plan. On Linux a file name may hold newlines.
const forged = "x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged."

// renderAll renders name through every text and markdown form of plan, apply and state, as an
// address, a file id, a URL, a note and an error, and returns each form's output.
func renderAll(t testing.TB, name string) map[string]string {
	addr := "/Day/" + name
	local := source.Identity{Kind: source.Local, Path: "media/" + name, Size: 1}
	p := &plan.Plan{
		Changes: []plan.Change{
			{Address: addr + "1", Action: plan.Create, Kind: source.Local, Size: 1, Reason: plan.ReasonNew, Source: local},
			{Address: addr + "2", Action: plan.Create, Kind: source.Remote, Reason: plan.ReasonNew, Source: source.Identity{Kind: source.Remote, URL: "https://cdn.example.com/" + name}},
			{Address: addr + "3", Action: plan.Update, Kind: source.Local, Size: 1, Reason: "content changed", OnChange: "version", Source: local},
			{Address: addr + "4", Action: plan.Delete, Kind: source.Local, Size: 1, Reason: "no longer in the manifest"},
			{Address: addr + "5", Action: plan.Adopt, Kind: source.Local, Size: 1, Reason: "already in Frame.io", Existing: &plan.RemoteFile{ID: "id-" + name}},
		},
		Untracked: []string{addr + "6"},
		Unchanged: 1,
	}
	out := map[string]string{}
	var b bytes.Buffer
	if err := plan.WriteText(&b, p, plan.Style{}); err != nil {
		t.Fatal(err)
	}
	out["plan text"] = b.String()
	b.Reset()
	if err := plan.WriteMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	out["plan markdown"] = b.String()

	st := state.New(state.Target{})
	st.Entries[addr] = &state.Entry{Source: local, FileID: "id-" + name, ParentID: "p-" + name, Status: state.StatusComplete, Previous: []string{"old-" + name}}
	st.Entries["/plain.mov"] = &state.Entry{Source: local, FileID: "id", Status: state.StatusComplete}
	b.Reset()
	if err := writeStateList(&b, st); err != nil {
		t.Fatal(err)
	}
	out["state list"] = b.String()
	b.Reset()
	if err := describeEntry(&b, st, addr); err != nil {
		t.Fatal(err)
	}
	out["state show"] = b.String()

	b.Reset()
	v := newApplyView(&stdio{Out: &b}, false, nil, -1)
	for _, e := range []apply.Event{
		{Type: apply.EventStart, Files: 5, Total: 3},
		{Type: apply.EventFolder, Address: "/Day"},
		{Type: apply.EventFileStart, Address: addr + "1", Total: 1},
		{Type: apply.EventFileDone, Address: addr + "1", Bytes: 1, Note: "note " + name},
		{Type: apply.EventFileFailed, Address: addr + "2", Error: "create " + name + ": refused"},
		{Type: apply.EventFileSkipped, Address: addr + "3"},
		{Type: apply.EventDelete, Address: addr + "4"},
	} {
		v.Event(e)
	}
	v.finish(&apply.Result{Done: 2, Failed: 1, Skipped: 1, Deleted: 1}, nil)
	out["apply"] = b.String()
	return out
}

// checkRendered holds the invariants of FuzzRenderNames: as many lines as the same forms
// have for a plain name (one per item; a grouped row counts as one), and nothing that does
// not print but the newlines that end them. The markdown summary may leave rows out to stay
// under plan.MarkdownLimit; the rows it shows and the ones it counts as left out are five.
func checkRendered(t *testing.T, name string) {
	t.Helper()
	want := renderAll(t, "plain.mov")
	for form, text := range renderAll(t, name) {
		if !utf8.ValidString(text) {
			t.Errorf("%s of %.200q is not UTF-8: %.400q", form, name, text)
		}
		if i := strings.IndexFunc(text, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }); i >= 0 {
			t.Errorf("%s of %.200q holds a raw %q: %.400q", form, name, text[i:min(i+4, len(text))], text)
		}
		if form == "plan markdown" {
			rows, left := 0, 0
			for _, l := range strings.Split(text, "\n") {
				switch {
				case strings.HasPrefix(l, "| | address") || strings.HasPrefix(l, "|---"):
				case strings.HasPrefix(l, "| folder |") || strings.HasPrefix(l, "| `"): // the folder table
				case strings.HasPrefix(l, "| "):
					rows++
					if cells := strings.Count(l, "|") - strings.Count(l, `\|`); cells != 6 {
						t.Errorf("a markdown row of %.200q has %d cells, want 5: %.400q", name, cells-1, l)
					}
				case strings.HasPrefix(l, "... and "):
					fmt.Sscanf(l, "... and %d more", &left)
				}
			}
			if rows+left != 5 {
				t.Errorf("markdown of %.200q shows %d rows and leaves out %d, want 5 in all: %.400q", name, rows, left, text)
			}
			continue
		}
		if got, n := strings.Count(text, "\n"), strings.Count(want[form], "\n"); got != n {
			t.Errorf("%s of %.200q has %d lines, want %d (one per item): %.600q", form, name, got, n, text)
		}
	}
}

// FuzzRenderNames feeds random names (control characters, bidi controls, newlines, long
// ones) through the text and markdown renderers of plan, apply and state (issue 16, hole 4).
func FuzzRenderNames(f *testing.F) {
	for _, s := range []string{
		forged, "\x1b]0;pwned\x07\x1b[2J", "invoice\u202egpj.exe", "a\u2066b\u2069\u200e\u200f\u061c",
		"tab\tcr\rdel\x7fnel\u0085ls\u2028", "bad\xff\xfe", `back\slash\n`, "pipe|`tick`<b>*em*</b>",
		strings.Repeat("long\u202e\n", 300), strings.Repeat("\x1b", 20000), "", "ü",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		checkRendered(t, name)
	})
}

// TestForgedPruneLine reproduces the attack of issue 16's hole 4. A local file named to forge
// a prune line and a summary is refused by validate and plan, naming it escaped, and nothing
// is uploaded; and where such a name reaches a renderer anyway (a state edited by hand), the
// text plan, state list and apply show it on one line, its newlines escaped.
func TestForgedPruneLine(t *testing.T) {
	emu := cliEnv(t)
	dir := t.TempDir()
	mf := filepath.Join(dir, "fiosync.yaml")
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nprune: true\nuploads:\n  - local: media\n    to: /\n")
	write("media/"+forged, "x")
	write("media/real.mov", "r")
	fiosync := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String(), errb.String(), code
	}
	escaped := `x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged.`
	for _, cmd := range []string{"validate", "plan", "apply"} {
		args := []string{cmd, "-f", mf}
		if cmd == "apply" {
			args = append(args, "--auto-approve")
		}
		out, errs, code := fiosync(args...)
		if code != 1 || strings.Contains(out+errs, "\n  - NDA.pdf") || !strings.Contains(errs, escaped) {
			t.Errorf("%s exited %d; want 1 naming the file escaped; stdout:\n%s\nstderr:\n%s", cmd, code, out, errs)
		}
	}
	if n := emu.Emu.Stats().FilesCreated; n != 0 {
		t.Errorf("Frame.io got %d files", n)
	}

	// Apply the real file, then edit the state as an attacker with write access to it would:
	// its entry moves to the forged address, which the manifest no longer produces.
	if err := os.Remove(filepath.Join(dir, "media", forged)); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := fiosync("apply", "-f", mf, "--auto-approve"); code != 0 {
		t.Fatalf("apply exited %d:\n%s", code, errs)
	}
	b := store.NewFile(filepath.Join(dir, "fiosync.state.json"))
	st, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st.Entries["/"+forged] = st.Entries["/real.mov"].Clone()
	if err := b.Save(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	out, errs, code := fiosync("plan", "-f", mf)
	if code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, errs)
	}
	want := "  - /" + escaped + "  prune\nPlan: 0 to upload (0 B), 1 to delete, 1 unchanged.\n"
	if target, rest, ok := strings.Cut(out, "\n\n"); ok && strings.HasPrefix(target, "Target: ") && !strings.Contains(target, "\n") {
		out = rest // the target line is Frame.io's names, not the file's
	}
	if out != want {
		t.Errorf("plan printed:\n%s\nwant:\n%s", out, want)
	}
	out, _, _ = fiosync("state", "list", "-f", mf)
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "/"+escaped+"  complete") {
		t.Errorf("state list printed:\n%s", out)
	}
}
