package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sourcegraph/conc"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
)

// TestEmulatorCommand starts `fiosync emulator`, reads its ready line, calls the API it
// announces with the token it printed, then interrupts it and expects a clean exit.
func TestEmulatorCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var wg conc.WaitGroup
	code := -1
	wg.Go(func() {
		code = run(ctx, []string{"emulator", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, stdio{In: nil, Out: outW, Err: io.Discard})
		outW.Close()
	})

	var ready struct {
		APIURL       string `json:"api_url"`
		Token        string `json:"token"`
		AccountID    string `json:"account_id"`
		WorkspaceID  string `json:"workspace_id"`
		ProjectID    string `json:"project_id"`
		Project      string `json:"project"`
		RootFolderID string `json:"root_folder_id"`
	}
	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil {
		t.Fatalf("read ready line: %v", err)
	}
	if err := json.Unmarshal(line, &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if ready.APIURL == "" || ready.Token == "" || ready.AccountID == "" || ready.ProjectID == "" || ready.RootFolderID == "" || ready.Project != "Sandbox" {
		t.Fatalf("ready line lacks fields: %s", line)
	}

	req, _ := http.NewRequestWithContext(ctx, "GET", ready.APIURL+"/v4/accounts/"+ready.AccountID+"/projects/"+ready.ProjectID, nil)
	req.Header.Set("Authorization", "Bearer "+ready.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET project: %v", err)
	}
	var body struct {
		Data struct {
			ID           string `json:"id"`
			RootFolderID string `json:"root_folder_id"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || body.Data.RootFolderID != ready.RootFolderID {
		t.Fatalf("GET project: status %d, body %+v, err %v", resp.StatusCode, body, err)
	}

	cancel()
	wg.Wait()
	if code != exitOK {
		t.Fatalf("emulator exited %d after interrupt, want 0", code)
	}
}

// TestEmulatorEnvFile starts `fiosync emulator --token T --env-file F`: when the ready line
// is out, F holds exports a shell can source that point at the emulator with T, readable by
// its owner only; F is gone once the emulator stops.
func TestEmulatorEnvFile(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to source the env file with")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	envFile := filepath.Join(t.TempDir(), "emulator.env")
	outR, outW := io.Pipe()
	var wg conc.WaitGroup
	code := -1
	wg.Go(func() {
		code = run(ctx, []string{"emulator", "--token", "fixed_token-1234", "--env-file", envFile}, stdio{Out: outW, Err: io.Discard})
		outW.Close()
	})
	var ready struct {
		APIURL string `json:"api_url"`
		Token  string `json:"token"`
	}
	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil {
		t.Fatalf("read ready line: %v", err)
	}
	if err := json.Unmarshal(line, &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if ready.Token != "fixed_token-1234" {
		t.Errorf("ready token %q, want the --token value", ready.Token)
	}
	if fi, err := os.Stat(envFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v, %v; want it written with mode 0600 before the ready line", fi, err)
	}
	out, err := exec.Command(sh, "-c", `. "$1" && printf '%s %s' "$FRAMEIO_API_URL" "$FRAMEIO_TOKEN"`, "sh", envFile).Output()
	if err != nil {
		t.Fatalf("source env file: %v", err)
	}
	if want := ready.APIURL + " fixed_token-1234"; string(out) != want {
		t.Errorf("sourced env file gives %q, want %q", out, want)
	}
	cancel()
	wg.Wait()
	if code != exitOK {
		t.Fatalf("emulator exited %d after interrupt, want 0", code)
	}
	if _, err := os.Stat(envFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("env file after the emulator stopped: %v, want it removed", err)
	}
}

// TestEmulatorCorruptFlag: `fiosync emulator --data DIR --corrupt ID` flips one stored byte
// of a file an earlier run stored, so the BLAKE3 it reports no longer matches the upload.
func TestEmulatorCorruptFlag(t *testing.T) {
	dir := t.TempDir()
	opts := emulator.DefaultOptions()
	opts.DataDir, opts.RateLimitScale = dir, 0
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	seed := emu.Seed()
	client := emutest.NewClient(t, srv.URL, seed.Token)
	data := bytes.Repeat([]byte("frame "), 100)
	f, err := client.CreateLocalUpload(t.Context(), seed.AccountID, seed.RootFolderID, "a.mov", int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range f.UploadURLs {
		off := int64(i) * f.UploadURLs[0].Size
		if err := client.UploadPart(t.Context(), u, f.MediaType, bytes.NewReader(data[off:off+u.Size])); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := emu.FileInfo(f.ID)
	srv.Close()
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var errOut bytes.Buffer
	var wg conc.WaitGroup
	code := -1
	wg.Go(func() {
		code = run(ctx, []string{"emulator", "--data", dir, "--corrupt", f.ID}, stdio{Out: outW, Err: &errOut})
		outW.Close()
	})
	var ready struct {
		APIURL string `json:"api_url"`
	}
	line, err := bufio.NewReader(outR).ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &ready) != nil {
		cancel()
		wg.Wait()
		t.Fatalf("ready line %q: %v; stderr %s", line, err, errOut.String())
	}
	resp, err := http.Get(ready.APIURL + "/_emulator/files/" + f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var after struct {
		Size   int64  `json:"size"`
		BLAKE3 string `json:"blake3"`
	}
	err = json.NewDecoder(resp.Body).Decode(&after)
	resp.Body.Close()
	cancel()
	wg.Wait()
	if err != nil || after.Size != int64(len(data)) || after.BLAKE3 == before.BLAKE3 || before.BLAKE3 == "" {
		t.Fatalf("after --corrupt: %+v (%v), before %+v", after, err, before)
	}
	if code != exitOK || !strings.Contains(errOut.String(), "flipped the byte at offset 300 of file "+f.ID) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
