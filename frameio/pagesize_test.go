package frameio_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/frameio"
)

const (
	statsFiles   = "GET /v4/accounts/{a}/folders/{f}/files"
	statsFolders = "GET /v4/accounts/{a}/folders/{f}/folders"
)

// fillFolder creates a folder holding n placeholder files of 1 byte each.
func fillFolder(t *testing.T, e *env, n int) string {
	t.Helper()
	ctx := context.Background()
	dir, err := e.client.CreateFolder(ctx, e.seed.AccountID, e.seed.RootFolderID, "Frames")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := e.client.CreateLocalUpload(ctx, e.seed.AccountID, dir.ID, fmt.Sprintf("f%04d.exr", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	return dir.ID
}

// TestAssetListsAsk500 holds that Files, Folders and Children ask for the spec's 500 items a
// page: a folder of 600 files costs two calls, not six.
func TestAssetListsAsk500(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	dir := fillFolder(t, e, 600)
	if got := len(collect(t, e.client.Files(context.Background(), e.seed.AccountID, dir))); got != 600 {
		t.Fatalf("Files listed %d, want 600", got)
	}
	collect(t, e.client.Folders(context.Background(), e.seed.AccountID, e.seed.RootFolderID))
	if got := len(collect(t, e.client.Children(context.Background(), e.seed.AccountID, dir, frameio.ListOptions{}))); got != 600 {
		t.Fatalf("Children listed %d, want 600", got)
	}
	got := e.emu.Stats().Requests
	want := map[string]map[string]int64{
		statsFiles:   {"200": 2},
		statsFolders: {"200": 1},
		"GET /v4/accounts/{a}/folders/{f}/children": {"200": 2},
	}
	for route, codes := range want {
		if diff := cmp.Diff(codes, got[route]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", route, diff)
		}
	}
}

// TestAssetPageSizeFallback holds that a server refusing page_size=500 (production may differ
// from the spec) costs one refused call per client: the list starts again at 100 and every
// later asset list asks for 100 at once.
func TestAssetPageSizeFallback(t *testing.T) {
	opts := noLimits()
	opts.MaxAssetPageSize = 100
	e := newEnv(t, opts, frameio.WithoutPacing())
	dir := fillFolder(t, e, 150)
	ctx := context.Background()
	if got := len(collect(t, e.client.Files(ctx, e.seed.AccountID, dir))); got != 150 {
		t.Fatalf("Files listed %d, want 150", got)
	}
	if got := len(collect(t, e.client.Files(ctx, e.seed.AccountID, dir))); got != 150 {
		t.Fatalf("Files listed %d the second time, want 150", got)
	}
	collect(t, e.client.Folders(ctx, e.seed.AccountID, e.seed.RootFolderID))
	got := e.emu.Stats().Requests
	if diff := cmp.Diff(map[string]int64{"400": 1, "200": 4}, got[statsFiles]); diff != "" {
		t.Errorf("files listings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"200": 1}, got[statsFolders]); diff != "" {
		t.Errorf("folders listing (-want +got):\n%s", diff)
	}

	// A new client learns it afresh; the error of a list that fails for another reason stays.
	other := e.newClient(t, frameio.WithoutPacing())
	if err := firstErr(other.Files(ctx, e.seed.AccountID, "nope")); !frameio.IsNotFound(err) {
		t.Errorf("Files of an unknown folder: %v, want 404", err)
	}
}

// collect drains a listing, failing the test on its error.
func collect(t *testing.T, seq func(func(frameio.File, error) bool)) []frameio.File {
	t.Helper()
	var out []frameio.File
	for f, err := range seq {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, f)
	}
	return out
}
