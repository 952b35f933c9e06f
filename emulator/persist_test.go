package emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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
	if second.seed.Token == oldSeed.Token {
		t.Error("the token survived the restart; it must not be stored")
	}
	oldSeed.Token = second.seed.Token
	if diff := cmp.Diff(oldSeed, second.seed); diff != "" {
		t.Errorf("seed after restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantChildren, children(second)); diff != "" {
		t.Errorf("children after restart (-want +got):\n%s", diff)
	}
	if got, _ := second.emu.FileInfo(done["id"].(string)); got != wantInfo {
		t.Errorf("FileInfo after restart = %+v, want %+v", got, wantInfo)
	}
	second.mustStatus(second.callToken("GET", "/v4/me", nil, first.seed.Token), http.StatusUnauthorized)
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
