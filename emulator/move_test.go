package emulator

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ids lists the ids of a listing's items.
func ids(t testing.TB, r resp) []string {
	t.Helper()
	var out []string
	for _, it := range r.json(t)["data"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestMoves(t *testing.T) {
	e := newEnv(t, nil)
	root := e.seed.RootFolderID
	a := e.acct()
	from := e.createFolder(root, "Day 01")
	to := e.createFolder(root, "2026-11-26")
	data := randomBytes(3000, 3)
	f1 := e.upload(from, "A001.mov", data)
	f2 := e.upload(from, "A002.mov", data[:100])
	f3 := e.upload(from, "A003.mov", data[:200])
	v1 := e.upload(from, "cut_v1.mov", data[:10])
	v2 := e.upload(from, "cut_v2.mov", data[:20])
	stack := e.mustStatus(e.call("POST", e.folderPath(from)+"/version_stacks",
		map[string]any{"data": map[string]any{"file_ids": []string{v1, v2}}}), http.StatusCreated).json(t)["data"].(map[string]any)["id"].(string)
	before := e.emu.Stats()

	t.Run("files.move keeps the id and lists the file in its new folder", func(t *testing.T) {
		got := e.mustStatus(e.call("PATCH", a+"/files/"+f1+"/move", map[string]any{"data": map[string]any{"parent_id": to}}), http.StatusOK).json(t)["data"].(map[string]any)
		if got["id"] != f1 || got["parent_id"] != to {
			t.Fatalf("moved file: %v", got)
		}
		if l := ids(t, e.call("GET", e.folderPath(to)+"/files", nil)); !slices.Equal(l, []string{f1}) {
			t.Errorf("new folder lists %v", l)
		}
		if l := ids(t, e.call("GET", e.folderPath(from)+"/files", nil)); slices.Contains(l, f1) {
			t.Errorf("old folder still lists the file: %v", l)
		}
		if info, _ := e.emu.FileInfo(f1); info.ParentID != to || info.Status != statusUploaded {
			t.Errorf("file info after the move: %+v", info)
		}
	})
	t.Run("bulk move moves every file or none", func(t *testing.T) {
		r := e.call("PATCH", a+"/files/move", map[string]any{"data": map[string]any{"parent_id": to, "file_ids": []string{f3, "nope"}}})
		if r.status != http.StatusNotFound {
			t.Fatalf("bulk move with an unknown id: %d %s", r.status, r.body)
		}
		if info, _ := e.emu.FileInfo(f3); info.ParentID != from {
			t.Fatalf("a refused bulk move moved %s", f3)
		}
		got := ids(t, e.mustStatus(e.call("PATCH", a+"/files/move", map[string]any{"data": map[string]any{"parent_id": to, "file_ids": []string{f3, f2}}}), http.StatusOK))
		if !slices.Equal(got, []string{f3, f2}) {
			t.Errorf("bulk move answered %v", got)
		}
		// Listings stay in creation order, whatever order the files arrived in.
		if l := ids(t, e.call("GET", e.folderPath(to)+"/files", nil)); !slices.Equal(l, []string{f1, f2, f3}) {
			t.Errorf("new folder lists %v, want creation order", l)
		}
		many := make([]string, 101)
		for i := range many {
			many[i] = f2
		}
		if r := e.call("PATCH", a+"/files/move", map[string]any{"data": map[string]any{"parent_id": to, "file_ids": many}}); r.status != http.StatusUnprocessableEntity {
			t.Errorf("bulk move of 101 ids: %d", r.status)
		}
	})
	t.Run("version_stacks.move moves the stack with its versions", func(t *testing.T) {
		got := e.mustStatus(e.call("PATCH", a+"/version_stacks/"+stack+"/move", map[string]any{"data": map[string]any{"parent_id": to}}), http.StatusOK).json(t)["data"].(map[string]any)
		if got["id"] != stack || got["parent_id"] != to {
			t.Fatalf("moved stack: %v", got)
		}
		if l := ids(t, e.call("GET", a+"/version_stacks/"+stack+"/children", nil)); !slices.Equal(l, []string{v1, v2}) {
			t.Errorf("stack versions after the move: %v", l)
		}
		if l := ids(t, e.call("GET", e.folderPath(to)+"/version_stacks", nil)); !slices.Equal(l, []string{stack}) {
			t.Errorf("new folder's stacks: %v", l)
		}
		if l := ids(t, e.call("GET", e.folderPath(from)+"/children", nil)); len(l) != 0 {
			t.Errorf("old folder not empty: %v", l)
		}
	})
	t.Run("files.update renames", func(t *testing.T) {
		got := e.mustStatus(e.call("PATCH", a+"/files/"+f1, map[string]any{"data": map[string]any{"name": "A001_b.mov"}}), http.StatusOK).json(t)["data"].(map[string]any)
		if got["id"] != f1 || got["name"] != "A001_b.mov" {
			t.Errorf("renamed file: %v", got)
		}
	})
	t.Run("a move to another project is refused", func(t *testing.T) {
		ws := e.emu.AddWorkspace("Other")
		_, otherRoot := e.emu.AddProject(ws, "Elsewhere")
		r := e.call("PATCH", a+"/files/"+f1+"/move", map[string]any{"data": map[string]any{"parent_id": otherRoot}})
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("cross-project move: %d %s", r.status, r.body)
		}
	})
	t.Run("moves upload nothing", func(t *testing.T) {
		after := e.emu.Stats()
		if after.BytesReceived != before.BytesReceived || after.FilesCreated != before.FilesCreated {
			t.Errorf("moves changed the upload stats: %+v -> %+v", before, after)
		}
		if after.FilesMoved != 5 { // f1, f3+f2, the stack's two versions
			t.Errorf("files_moved = %d, want 5", after.FilesMoved)
		}
	})
}

func TestMoveRateLimits(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		body       func(file, folder string) map[string]any
		limit      int
	}{
		{"files.move", "/files/{id}/move", func(_, folder string) map[string]any { return map[string]any{"parent_id": folder} }, 100},
		{"bulk move", "/files/move", func(file, folder string) map[string]any {
			return map[string]any{"parent_id": folder, "file_ids": []string{file}}
		}, 60},
		{"version_stacks.move", "/version_stacks/{stack}/move", func(_, folder string) map[string]any { return map[string]any{"parent_id": folder} }, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.RateLimitScale = 1 })
			root := e.seed.RootFolderID
			v1 := e.upload(root, "v1.mov", []byte("one"))
			v2 := e.upload(root, "v2.mov", []byte("two"))
			stack := e.mustStatus(e.call("POST", e.folderPath(root)+"/version_stacks",
				map[string]any{"data": map[string]any{"file_ids": []string{v1, v2}}}), http.StatusCreated).json(t)["data"].(map[string]any)["id"].(string)
			file := e.upload(root, "f.mov", []byte("three"))
			path := e.acct() + tt.path
			path = strings.NewReplacer("{id}", file, "{stack}", stack).Replace(path)
			var r resp
			for i := range tt.limit + 1 {
				r = e.call("PATCH", path, map[string]any{"data": tt.body(file, root)})
				if i < tt.limit && r.status != http.StatusOK {
					t.Fatalf("call %d: %d %s", i+1, r.status, r.body)
				}
			}
			if r.status != http.StatusTooManyRequests || r.header.Get("x-ratelimit-limit") != strconv.Itoa(tt.limit) {
				t.Errorf("call %d: %d, limit %q; want 429 at %d/min", tt.limit+1, r.status, r.header.Get("x-ratelimit-limit"), tt.limit)
			}
		})
	}
}

// TestMovesSurviveRestart: a moved file and a moved stack are where they were moved to after
// a restart from the data directory, and files_moved is kept.
func TestMovesSurviveRestart(t *testing.T) {
	opts := DefaultOptions()
	opts.RateLimitScale = 0
	opts.DataDir = t.TempDir()
	start := func() *env {
		emu, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return &env{t: t, emu: emu, srv: httptest.NewServer(emu), seed: emu.Seed()}
	}
	stop := func(e *env) {
		e.srv.Close()
		if err := e.emu.Close(); err != nil {
			t.Fatal(err)
		}
	}
	e := start()
	root := e.seed.RootFolderID
	to := e.createFolder(root, "To")
	f := e.upload(root, "a.mov", []byte("abc"))
	v1, v2 := e.upload(root, "v1.mov", []byte("1")), e.upload(root, "v2.mov", []byte("22"))
	stack := e.mustStatus(e.call("POST", e.folderPath(root)+"/version_stacks",
		map[string]any{"data": map[string]any{"file_ids": []string{v1, v2}}}), http.StatusCreated).json(t)["data"].(map[string]any)["id"].(string)
	e.mustStatus(e.call("PATCH", e.acct()+"/files/"+f+"/move", map[string]any{"data": map[string]any{"parent_id": to}}), http.StatusOK)
	e.mustStatus(e.call("PATCH", e.acct()+"/version_stacks/"+stack+"/move", map[string]any{"data": map[string]any{"parent_id": to}}), http.StatusOK)
	stop(e)

	e = start()
	defer stop(e)
	if l := ids(t, e.call("GET", e.folderPath(to)+"/children", nil)); !slices.Equal(l, []string{f, stack}) {
		t.Errorf("after a restart the folder lists %v, want the file and the stack", l)
	}
	if l := ids(t, e.call("GET", e.acct()+"/version_stacks/"+stack+"/children", nil)); !slices.Equal(l, []string{v1, v2}) {
		t.Errorf("after a restart the stack holds %v", l)
	}
	if n := e.emu.Stats().FilesMoved; n != 3 {
		t.Errorf("files_moved after a restart: %d, want 3", n)
	}
}
