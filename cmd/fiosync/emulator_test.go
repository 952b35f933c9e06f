package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/sourcegraph/conc"
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
