package frameio_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
)

// TestMoves moves and renames through every move endpoint and checks that ids, versions and
// stored bytes stay and nothing is uploaded again.
func TestMoves(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID
	src := newGenReader(1<<20+3, 2)
	f1, err := upload(ctx, e.client, e.seed, "A001.mov", src, src.size, 2)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := upload(ctx, e.client, e.seed, "A002.mov", src, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := upload(ctx, e.client, e.seed, "cut.mov", src, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := upload(ctx, e.client, e.seed, "cut.mov", src, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := e.client.CreateVersionStack(ctx, a, root, []string{v1.ID, v2.ID})
	if err != nil {
		t.Fatal(err)
	}
	day, err := e.client.CreateFolder(ctx, a, root, "2026-11-26")
	if err != nil {
		t.Fatal(err)
	}
	before := e.emu.Stats()

	moved, err := e.client.MoveFile(ctx, a, f1.ID, day.ID)
	if err != nil {
		t.Fatalf("MoveFile: %v", err)
	}
	if moved.ID != f1.ID || moved.ParentID != day.ID {
		t.Errorf("MoveFile = %+v, want %s in %s", moved, f1.ID, day.ID)
	}
	many, err := e.client.MoveFiles(ctx, a, root, []string{f1.ID, f2.ID})
	if err != nil || len(many) != 2 || many[0].ID != f1.ID || many[0].ParentID != root {
		t.Fatalf("MoveFiles = %+v, %v", many, err)
	}
	ms, err := e.client.MoveVersionStack(ctx, a, stack.ID, day.ID)
	if err != nil || ms.ID != stack.ID || ms.ParentID != day.ID {
		t.Fatalf("MoveVersionStack = %+v, %v", ms, err)
	}
	if info := fileInfo(t, e, v2.ID); info.ParentID != stack.ID {
		t.Errorf("a version left its stack: parent %s", info.ParentID)
	}
	renamed, err := e.client.RenameFile(ctx, a, f2.ID, "A002_b.mov")
	if err != nil || renamed.ID != f2.ID || renamed.Name != "A002_b.mov" {
		t.Fatalf("RenameFile = %+v, %v", renamed, err)
	}
	if info := fileInfo(t, e, f1.ID); info.BLAKE3 != blake3Hex(t, src, src.size) {
		t.Errorf("moved file's bytes changed")
	}
	after := e.emu.Stats()
	if after.BytesReceived != before.BytesReceived || after.FilesCreated != before.FilesCreated {
		t.Errorf("moves uploaded: %+v -> %+v", before, after)
	}

	// Errors are typed and name the request; bad arguments fail before any call.
	_, err = e.client.MoveFile(ctx, a, f1.ID, "no-such-folder")
	var apiErr *frameio.APIError
	if !frameio.IsNotFound(err) || !errors.As(err, &apiErr) || apiErr.Method != "PATCH" || !strings.Contains(err.Error(), "/move") {
		t.Errorf("MoveFile to an unknown folder: %v, want a typed 404 naming PATCH .../move", err)
	}
	sent := after.Requests
	for _, bad := range []func() error{
		func() error { _, err := e.client.MoveFiles(ctx, a, root, nil); return err },
		func() error {
			_, err := e.client.MoveFiles(ctx, a, root, make([]string, frameio.MaxMoveFiles+1))
			return err
		},
		func() error { _, err := e.client.MoveFile(ctx, a, f1.ID, ""); return err },
		func() error { _, err := e.client.RenameFile(ctx, a, f1.ID, ""); return err },
	} {
		if err := bad(); err == nil || frameio.StatusCode(err) != 0 {
			t.Errorf("bad arguments: %v, want an error before any call", err)
		}
	}
	if got := e.emu.Stats().Requests; len(got) != len(sent) {
		t.Errorf("bad arguments reached the server")
	}
}

// TestMoveRetried holds that a move, being idempotent, is retried on 5xx (unlike a create).
func TestMoveRetried(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing(),
		frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxWait: time.Second}))
	ctx := t.Context()
	f, err := upload(ctx, e.client, e.seed, "A001.mov", newGenReader(100, 1), 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.emu.SetFaults(emulator.Faults{APIFaultRate: 1})
	_, err = e.client.MoveFile(ctx, e.seed.AccountID, f.ID, e.seed.RootFolderID)
	route := "PATCH /v4/accounts/{a}/files/{id}/move"
	if n := requests(e, route, "500") + requests(e, route, "503"); n != 3 || err == nil {
		t.Errorf("move under faults: %d sends, err %v; want 3 sends and an error", n, err)
	}
}
