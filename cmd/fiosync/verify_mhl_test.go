package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/mhl"
	"github.com/fiosync/fiosync/state/store"
)

// TestVerifyMHLOut: verify --mhl-out writes an ASC MHL transfer generation of the files it
// verified by download, hashed from the same bytes as their BLAKE3, with its chain; it is
// valid against the ASC MHL XSD. A second verify adds generation 2 and leaves generation 1
// byte for byte; a file that does not verify (its stored bytes corrupted) is left out of it.
func TestVerifyMHLOut(t *testing.T) {
	emu := cliEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "fiosync.yaml")
	writeFile(t, dir, "fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /Day01\n")
	content := map[string]string{"media/a.mov": "clip a", "media/sub/b.mov": strings.Repeat("frame b ", 5000)}
	for name, c := range content {
		writeFile(t, dir, name, c)
	}
	cli := func(args ...string) (string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(ctx, append(args, "-f", manifestPath), stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String() + errb.String(), code
	}
	if out, code := cli("apply", "--auto-approve"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	outDir := filepath.Join(t.TempDir(), "proof")
	out, code := cli("verify", "--mhl-out", outDir)
	if code != 0 || !strings.Contains(out, "ASC MHL: generation 1 written to ") || !strings.Contains(out, "(2 files, xxh128)") {
		t.Fatalf("verify --mhl-out: exit %d\n%s", code, out)
	}
	h, err := mhl.Load(outDir)
	if err != nil {
		t.Fatalf("the written history does not load: %v", err)
	}
	for name, c := range content {
		rel := "Day01/" + strings.TrimPrefix(name, "media/")
		rec, ok := h.Lookup(rel)
		want := mhl.NewHasher(mhl.XXH128)
		want.Write([]byte(c))
		if !ok || rec.Size != int64(len(c)) || rec.Hashes[mhl.XXH128] != want.Sum(mhl.XXH128) {
			t.Errorf("%s: record %+v (found %v), want size %d and xxh128 %s", rel, rec, ok, len(c), want.Sum(mhl.XXH128))
		}
	}
	gens, _ := filepath.Glob(filepath.Join(outDir, "ascmhl", "0001_*.mhl"))
	if len(gens) != 1 {
		t.Fatalf("generation files %v, want one 0001_*.mhl", gens)
	}
	first, _ := os.ReadFile(gens[0])
	xmllintCLI(t, "ASCMHL.xsd", gens[0])
	xmllintCLI(t, "ASCMHLDirectory.xsd", filepath.Join(outDir, "ascmhl", "ascmhl_chain.xml"))

	// One stored file corrupted: verify fails, and generation 2 records only the other.
	st, err := store.NewFile(filepath.Join(dir, "fiosync.state.json")).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Emu.Corrupt(st.Entries["/Day01/a.mov"].FileID); err != nil {
		t.Fatal(err)
	}
	out, code = cli("verify", "--mhl-out", outDir)
	if code != exitError || !strings.Contains(out, "ASC MHL: generation 2 written to ") || !strings.Contains(out, "(1 file, xxh128)") {
		t.Fatalf("verify --mhl-out after corruption: exit %d\n%s", code, out)
	}
	if again, _ := os.ReadFile(gens[0]); !bytes.Equal(again, first) {
		t.Error("generation 1 changed when generation 2 was written")
	}
	h, err = mhl.Load(outDir)
	if err != nil || len(h.Generations) != 2 {
		t.Fatalf("history after the second verify: %v, %v; want 2 chained generations", h, err)
	}
	gen2, _ := filepath.Glob(filepath.Join(outDir, "ascmhl", "0002_*.mhl"))
	if len(gen2) != 1 {
		t.Fatalf("generation 2 files %v", gen2)
	}
	body, _ := os.ReadFile(gen2[0])
	if bytes.Contains(body, []byte("a.mov")) || !bytes.Contains(body, []byte("b.mov")) {
		t.Errorf("generation 2 must record b.mov only:\n%s", body)
	}
}

// xmllintCLI validates file against one of the ASC MHL XSDs kept in mhl/testdata; without
// xmllint the check is skipped, except in CI (.ci/run installs it).
func xmllintCLI(t *testing.T, xsd, file string) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not installed (Debian libxml2-utils); .ci/run installs it")
		}
		t.Log("xmllint not installed (apt-get install libxml2-utils): XSD validation skipped")
		return
	}
	out, err := exec.Command(bin, "--noout", "--schema", filepath.Join("..", "..", "mhl", "testdata", xsd), file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint %s: %v\n%s", file, err, out)
	}
}
