package emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSnapshotSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.RateLimitScale = 0
	opts.DataDir = dir
	opts.PartSize = 4

	start := func() *env {
		emu, err := New(opts)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		srv := httptest.NewServer(emu)
		return &env{t: t, emu: emu, srv: srv, seed: emu.Seed()}
	}
	stop := func(e *env) {
		e.srv.Close()
		if err := e.emu.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	children := func(e *env) []string {
		v := e.mustStatus(e.call("GET", e.folderPath(e.seed.RootFolderID)+"/children", nil), http.StatusOK).json(t)
		var out []string
		for _, it := range v["data"].([]any) {
			m := it.(map[string]any)
			out = append(out, m["type"].(string)+":"+m["name"].(string))
		}
		return out
	}

	first := start()
	root := first.seed.RootFolderID
	first.createFolder(root, "Day 01")
	done := first.createFile(root, "done.txt", 6)
	for i, u := range uploadURLs(t, done) {
		part := []byte("abcdef")[i*3 : i*3+3]
		first.mustStatus(first.putPart(u.URL, part, "text/plain", nil), http.StatusOK)
	}
	pending := first.createFile(root, "pending.mov", 8)
	v1 := first.createFile(root, "v1.mov", 1)["id"].(string)
	v2 := first.createFile(root, "v2.mov", 1)["id"].(string)
	first.mustStatus(first.call("POST", first.folderPath(root)+"/version_stacks",
		map[string]any{"data": map[string]any{"file_ids": []string{v1, v2}}}), http.StatusCreated)
	wantChildren := children(first)
	wantInfo, _ := first.emu.FileInfo(done["id"].(string))
	oldSeed := first.seed
	stop(first)

	second := start()
	defer stop(second)
	// The token survives the restart (the user sourced it once), kept apart from the
	// snapshot, which holds no secrets, in a file only its owner can read.
	if second.seed.Token != oldSeed.Token {
		t.Errorf("the token changed across a restart with a data directory: %q, then %q", oldSeed.Token, second.seed.Token)
	}
	snap, err := os.ReadFile(filepath.Join(dir, snapshotName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), oldSeed.Token) {
		t.Error("the snapshot holds the token")
	}
	if fi, err := os.Stat(filepath.Join(dir, tokenName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file: %v, %v; want mode 0600", fi, err)
	}
	if diff := cmp.Diff(oldSeed, second.seed); diff != "" {
		t.Errorf("seed after restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChildren, children(second)); diff != "" {
		t.Errorf("children after restart (-want +got):\n%s", diff)
	}
	if got, _ := second.emu.FileInfo(done["id"].(string)); got != wantInfo {
		t.Errorf("FileInfo after restart = %+v, want %+v", got, wantInfo)
	}
	second.mustStatus(second.callToken("GET", "/v4/me", nil, first.seed.Token), http.StatusOK)
	// URLs signed before the restart are refused; the pending file can be recreated.
	old, err := url.Parse(uploadURLs(t, pending)[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	newHost, _ := url.Parse(second.srv.URL)
	old.Host = newHost.Host
	r := second.putPart(old.String(), []byte("abcd"), "video/quicktime", nil)
	second.mustStatus(r, http.StatusForbidden)
	second.createFile(root, "later.mov", 1)
	got := children(second)
	if got[len(got)-1] != "file:later.mov" {
		t.Errorf("a file created after the restart lists at %v, want last", got)
	}
}

func TestFixedToken(t *testing.T) {
	dir := t.TempDir()
	start := func(token string) (*env, error) {
		opts := DefaultOptions()
		opts.RateLimitScale = 0
		opts.DataDir = dir
		opts.Token = token
		emu, err := New(opts)
		if err != nil {
			return nil, err
		}
		e := &env{t: t, emu: emu, srv: httptest.NewServer(emu), seed: emu.Seed()}
		t.Cleanup(func() { e.srv.Close(); _ = e.emu.Close() })
		return e, nil
	}
	e, err := start("tok_fixed.for-tests")
	if err != nil {
		t.Fatal(err)
	}
	if e.seed.Token != "tok_fixed.for-tests" {
		t.Fatalf("seed token %q, want the one given", e.seed.Token)
	}
	e.mustStatus(e.callToken("GET", "/v4/me", nil, "tok_fixed.for-tests"), http.StatusOK)
	e.srv.Close()
	_ = e.emu.Close()

	// A restart without --token keeps the token given before.
	again, err := start("")
	if err != nil {
		t.Fatal(err)
	}
	if again.seed.Token != "tok_fixed.for-tests" {
		t.Errorf("after a restart without a token: %q, want the fixed token kept", again.seed.Token)
	}

	for _, bad := range []string{"short", "has space in it", "quote'token", "new\nline-token"} {
		if _, err := start(bad); err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("token %q: error %v, want a token error", bad, err)
		}
	}
}
