package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// TestImport covers what the scripts cannot reach easily: ids that are folders or uploads in
// progress, a remote source, and a first import that creates the state. It sets the process
// environment, so it does not run in parallel.
func TestImport(t *testing.T) {
	emu := cliEnv(t)
	seed, c := emu.Seed, emu.Client
	ctx := context.Background()

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fiosync.yaml", `version: 1
target:
  project: Sandbox
uploads:
  - local: a.mov
    to: /
  - remote: https://cdn.example.com/reel.mp4?sig=secret
    to: /
`)
	write("a.mov", "0123456789")
	manifestPath := filepath.Join(dir, "fiosync.yaml")

	folder, err := c.CreateFolder(ctx, seed.AccountID, seed.RootFolderID, "Elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	partial, err := c.CreateLocalUpload(ctx, seed.AccountID, seed.RootFolderID, "a.mov", 10)
	if err != nil {
		t.Fatal(err)
	}
	// A finished file of one byte.
	reel, err := c.CreateLocalUpload(ctx, seed.AccountID, seed.RootFolderID, "reel.mp4", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UploadPart(ctx, reel.UploadURLs[0], reel.MediaType, strings.NewReader("r")); err != nil {
		t.Fatal(err)
	}

	runImport := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"import", "-f", manifestPath}, args...), stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String(), errb.String(), code
	}

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "a folder is not a file", args: []string{"/a.mov", folder.ID}, wantCode: 1, wantStderr: "no file " + folder.ID + " in Frame.io"},
		{name: "an upload in progress", args: []string{"/a.mov", partial.ID}, wantCode: 1, wantStderr: `is not completely uploaded (status "created")`},
		{name: "no address", args: []string{"/nope.mov", reel.ID}, wantCode: 1, wantStderr: `the manifest produces no address "/nope.mov"; near it: /a.mov, /reel.mp4`},
		{name: "missing argument", args: []string{"/a.mov"}, wantCode: 1, wantStderr: "expected \"<FILE_ID>\""},
		{name: "remote source, by name alone", args: []string{"/reel.mp4", reel.ID}, wantStdout: "Imported /reel.mp4: Frame.io file " + reel.ID + ` ("reel.mp4", 1 B) from https://cdn.example.com/reel.mp4.`,
			wantStderr: "fiosync cannot compare its content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runImport(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantStderr)
			}
			if strings.Contains(stdout+stderr, "secret") {
				t.Errorf("output shows the URL's query string:\n%s%s", stdout, stderr)
			}
		})
	}

	st, err := store.NewFile(filepath.Join(dir, "fiosync.state.json")).Load(ctx)
	if err != nil {
		t.Fatalf("the first import wrote no state: %v", err)
	}
	e := st.Entries["/reel.mp4"]
	if e == nil || e.FileID != reel.ID || e.Status != state.StatusComplete || e.Source.URLHash != source.HashURL("https://cdn.example.com/reel.mp4?sig=secret") {
		t.Errorf("entry of /reel.mp4 = %+v, want complete file %s with the URL's hash", e, reel.ID)
	}
	if st.Target.ProjectID != seed.ProjectID {
		t.Errorf("state target project %q, want %q", st.Target.ProjectID, seed.ProjectID)
	}
	if len(st.Entries) != 1 {
		t.Errorf("the state has %d entries after one successful import, want 1: %v", len(st.Entries), st.Addresses())
	}
}
