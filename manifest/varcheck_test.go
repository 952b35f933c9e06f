package manifest

import (
	"errors"
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
