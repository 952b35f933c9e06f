package manifest

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVarCheck: a variable the caller's check refuses is reported at the value, with the
// check's reason, and its value never appears; the others expand.
func TestVarCheck(t *testing.T) {
	vars := map[string]string{"FRAMEIO_TOKEN": "tok-7c1f", "DAY": "day12", "COPY": "tok-7c1f"}
	check := func(name, value string) error {
		switch {
		case name == "FRAMEIO_TOKEN":
			return errors.New("it names a credential")
		case value == "tok-7c1f":
			return errors.New("its value is a credential")
		}
		return nil
	}
	src := head + "  - local: media/${DAY}\n    to: /exfil/${FRAMEIO_TOKEN}\n  - local: b\n    to: /c/${COPY}\n"
	_, err := Parse("fiosync.yaml", []byte(src), env(vars), WithVarCheck(check))
	if err == nil {
		t.Fatal("Parse expanded a refused variable")
	}
	want := []string{
		"fiosync.yaml:6:9: uploads[0].to: refusing to expand ${FRAMEIO_TOKEN}: it names a credential",
		"fiosync.yaml:8:9: uploads[1].to: refusing to expand ${COPY}: its value is a credential",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "tok-7c1f") {
		t.Errorf("errors show the value: %v", err)
	}
	m, err := Parse("fiosync.yaml", []byte(head+"  - local: media/${DAY}\n    to: /x\n"), env(vars), WithVarCheck(check))
	if err != nil {
		t.Fatal(err)
	}
	if m.Uploads[0].Local != "media/day12" {
		t.Errorf("local = %q, want media/day12", m.Uploads[0].Local)
	}
}

// TestExpandRefusesControlNames: a local file or directory whose name holds a control
// character is refused with its path, escaped, as name: and to: are (issue 16, hole 4); the
// rest of the entry is not planned either, since a partial expansion could prune.
func TestExpandRefusesControlNames(t *testing.T) {
	forged := "x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged."
	dir := tree(t, map[string]string{
		"media/ok.mov":               "1",
		"media/" + forged:            "2",
		"media/\x1b]0;pwned\x07.mov": "3",
		"media/sub\rdir/inner.mov":   "4",
		"media/invoice\u202egpj.exe": "5", // bidi is no control character: escaped when shown
		"media/skipped\x1b.tmp":      "6",
	})
	_, err := expandIn(t, dir, "  - local: media\n    to: /Day\n    exclude: [\"*.tmp\"]\n")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Expand error %v, want an ErrorList", err)
	}
	at := filepath.Join(dir, "fiosync.yaml") + ":5:12: "
	want := []string{
		at + `uploads[0].local: directory name "media/sub\rdir" contains control characters; rename it, or exclude it`,
		at + `uploads[0].local: file name "media/x.mov  local  1 B\n  - NDA.pdf  prune\nPlan: 0 to upload, 1 to delete, 0 unchanged." contains control characters; rename it, or exclude it`,
		at + `uploads[0].local: file name "media/\x1b]0;pwned\a.mov" contains control characters; rename it, or exclude it`,
	}
	got := strings.Split(list.Error(), "\n")
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
