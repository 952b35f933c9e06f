package emulator

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// knownDeviations names the schema cases that still differ from the spec, with the issue's
// deviation each shows. A listed case must fail (so the list cannot go stale); fixing a
// deviation removes its cases from here.
var knownDeviations = map[string]string{}

// TestSchema calls every operation fiosync uses, and those the deviations name, and
// checks each answer's status and body against the OpenAPI extract.
func TestSchema(t *testing.T) {
	doc := loadSpec(t)
	payload := randomBytes(5000, 11)
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		_, _ = w.Write(payload)
	}))
	defer source.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/gone.mp4"
	dead.Close()

	e := newEnv(t, func(o *Options) { o.PartSize = 2000 })
	s := e.seed
	a := e.acct()
	root := s.RootFolderID
	withFolder := e.createFolder(root, "With a folder")
	e.createFolder(withFolder, "Inner")
	stacked := e.createFolder(root, "Stacked")
	v1 := e.upload(stacked, "cut_v1.mov", payload[:3000])
	v2 := e.upload(stacked, "cut_v2.mov", payload)
	stack := e.mustStatus(e.call("POST", e.folderPath(stacked)+"/version_stacks",
		map[string]any{"data": map[string]any{"file_ids": []string{v1, v2}}}), http.StatusCreated).json(t)["data"].(map[string]any)["id"].(string)
	plain := e.createFolder(root, "Plain")
	file := e.upload(plain, "a.wav", payload)
	n1 := e.upload(plain, "n_v1.mov", payload[:10])
	n2 := e.upload(plain, "n_v2.mov", payload[:20])
	gone := e.upload(plain, "gone.mov", payload[:5])
	failed := e.mustStatus(e.call("POST", e.folderPath(plain)+"/files/remote_upload",
		map[string]any{"data": map[string]any{"name": "failed.mp4", "source_url": deadURL}}), http.StatusAccepted).json(t)["data"].(map[string]any)["id"].(string)
	e.emu.wg.Wait()
	data := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"data": m}
	}

	const (
		opMe             = "GET /v4/me"
		opAccounts       = "GET /v4/accounts"
		opWorkspaces     = "GET /v4/accounts/{account_id}/workspaces"
		opProjects       = "GET /v4/accounts/{account_id}/workspaces/{workspace_id}/projects"
		opProject        = "GET /v4/accounts/{account_id}/projects/{project_id}"
		opFolder         = "GET /v4/accounts/{account_id}/folders/{folder_id}"
		opChildren       = "GET /v4/accounts/{account_id}/folders/{folder_id}/children"
		opFolders        = "GET /v4/accounts/{account_id}/folders/{folder_id}/folders"
		opFiles          = "GET /v4/accounts/{account_id}/folders/{folder_id}/files"
		opCreateFolder   = "POST /v4/accounts/{account_id}/folders/{folder_id}/folders"
		opLocalUpload    = "POST /v4/accounts/{account_id}/folders/{folder_id}/files/local_upload"
		opRemoteUpload   = "POST /v4/accounts/{account_id}/folders/{folder_id}/files/remote_upload"
		opFile           = "GET /v4/accounts/{account_id}/files/{file_id}"
		opStatus         = "GET /v4/accounts/{account_id}/files/{file_id}/status"
		opDelete         = "DELETE /v4/accounts/{account_id}/files/{file_id}"
		opStacks         = "GET /v4/accounts/{account_id}/folders/{folder_id}/version_stacks"
		opCreateStack    = "POST /v4/accounts/{account_id}/folders/{folder_id}/version_stacks"
		opStack          = "GET /v4/accounts/{account_id}/version_stacks/{version_stack_id}"
		opStackChildren  = "GET /v4/accounts/{account_id}/version_stacks/{version_stack_id}/children"
		opMoveFile       = "PATCH /v4/accounts/{account_id}/files/{file_id}/move"
		opBulkMove       = "PATCH /v4/accounts/{account_id}/files/move"
		opMoveStack      = "PATCH /v4/accounts/{account_id}/version_stacks/{version_stack_id}/move"
		opUpdateFile     = "PATCH /v4/accounts/{account_id}/files/{file_id}"
		statusOK         = http.StatusOK
		statusBadRequest = http.StatusBadRequest
	)
	tests := []struct {
		name   string
		op     string // the operation in the extract, "METHOD /path template"
		path   string
		body   any
		token  string // "" sends the seed token, "-" none
		status int
		want   []string // dotted paths that must hold a non-null value
	}{
		{name: "me", op: opMe, path: "/v4/me", status: statusOK},
		{name: "accounts", op: opAccounts, path: "/v4/accounts", status: statusOK},
		{name: "workspaces", op: opWorkspaces, path: a + "/workspaces", status: statusOK},
		{name: "workspaces page_size 500 is refused", op: opWorkspaces, path: a + "/workspaces?page_size=500", status: statusBadRequest},
		{name: "projects", op: opProjects, path: a + "/workspaces/" + s.WorkspaceID + "/projects", status: statusOK},
		{name: "project", op: opProject, path: a + "/projects/" + s.ProjectID, status: statusOK},
		{name: "create folder", op: opCreateFolder, path: e.folderPath(root) + "/folders", body: data("name", "New"), status: http.StatusCreated},
		{name: "show folder", op: opFolder, path: e.folderPath(withFolder), status: statusOK},
		{name: "subfolders", op: opFolders, path: e.folderPath(withFolder) + "/folders", status: statusOK},
		{name: "children of a folder with a folder", op: opChildren, path: e.folderPath(withFolder) + "/children", status: statusOK},
		{name: "children of files", op: opChildren, path: e.folderPath(plain) + "/children", status: statusOK},
		{name: "children page_size 500", op: opChildren, path: e.folderPath(plain) + "/children?page_size=500", status: statusOK},
		{name: "children with a version stack", op: opChildren, path: e.folderPath(stacked) + "/children", status: statusOK},
		{name: "files", op: opFiles, path: e.folderPath(plain) + "/files", status: statusOK},
		{name: "files page_size 500", op: opFiles, path: e.folderPath(plain) + "/files?page_size=500", status: statusOK},
		{name: "folders page_size 500", op: opFolders, path: e.folderPath(root) + "/folders?page_size=500", status: statusOK},
		{name: "page_size 0 is refused", op: opFiles, path: e.folderPath(plain) + "/files?page_size=0", status: statusBadRequest},
		{name: "unknown folder", op: opFiles, path: e.folderPath("nope") + "/files", status: http.StatusNotFound},
		{name: "local upload", op: opLocalUpload, path: e.folderPath(plain) + "/files/local_upload",
			body: data("name", "b.mov", "file_size", 4100), status: http.StatusCreated, want: []string{"data.upload_urls"}},
		{name: "local upload of 0 bytes", op: opLocalUpload, path: e.folderPath(plain) + "/files/local_upload",
			body: data("name", "empty.txt", "file_size", 0), status: http.StatusUnprocessableEntity},
		{name: "local upload without a name", op: opLocalUpload, path: e.folderPath(plain) + "/files/local_upload",
			body: data("file_size", 1), status: http.StatusUnprocessableEntity},
		{name: "remote upload", op: opRemoteUpload, path: e.folderPath(plain) + "/files/remote_upload",
			body: data("name", "r.mp4", "source_url", source.URL+"/r.mp4"), status: http.StatusAccepted},
		{name: "remote upload of an unreachable source", op: opRemoteUpload, path: e.folderPath(plain) + "/files/remote_upload",
			body: data("name", "dead.mp4", "source_url", deadURL), status: http.StatusAccepted},
		{name: "show file", op: opFile, path: a + "/files/" + file, status: statusOK},
		{name: "show file with media_links.original", op: opFile, path: a + "/files/" + file + "?include=media_links.original",
			status: statusOK, want: []string{"data.media_links.original.download_url"}},
		{name: "show a failed remote upload", op: opFile, path: a + "/files/" + failed, status: statusOK},
		{name: "status of a failed remote upload", op: opStatus, path: a + "/files/" + failed + "/status", status: statusOK},
		{name: "show stacked file", op: opFile, path: a + "/files/" + v1, status: statusOK},
		{name: "unknown file", op: opFile, path: a + "/files/nope", status: http.StatusNotFound},
		{name: "file status", op: opStatus, path: a + "/files/" + file + "/status", status: statusOK},
		{name: "delete file", op: opDelete, path: a + "/files/" + gone, status: http.StatusNoContent},
		{name: "create version stack", op: opCreateStack, path: e.folderPath(plain) + "/version_stacks",
			body: data("file_ids", []string{n1, n2}), status: http.StatusCreated, want: []string{"data.head_version"}},
		{name: "create version stack of one file", op: opCreateStack, path: e.folderPath(plain) + "/version_stacks",
			body: data("file_ids", []string{n1}), status: http.StatusUnprocessableEntity},
		{name: "show version stack", op: opStack, path: a + "/version_stacks/" + stack, status: statusOK, want: []string{"data.head_version"}},
		{name: "version stack children", op: opStackChildren, path: a + "/version_stacks/" + stack + "/children", status: statusOK},
		{name: "version stack children page_size 500 is refused", op: opStackChildren,
			path: a + "/version_stacks/" + stack + "/children?page_size=500", status: statusBadRequest},
		{name: "version stacks of a folder", op: opStacks, path: e.folderPath(stacked) + "/version_stacks", status: statusOK},
		{name: "version stacks of a folder page_size 500", op: opStacks, path: e.folderPath(stacked) + "/version_stacks?page_size=500", status: statusOK},
		{name: "move file", op: opMoveFile, path: a + "/files/" + file + "/move", body: data("parent_id", withFolder), status: statusOK},
		{name: "move file to an unknown folder", op: opMoveFile, path: a + "/files/" + file + "/move", body: data("parent_id", "nope"),
			status: http.StatusNotFound},
		{name: "move file without parent_id", op: opMoveFile, path: a + "/files/" + file + "/move", body: data(),
			status: http.StatusUnprocessableEntity},
		{name: "bulk move", op: opBulkMove, path: a + "/files/move", body: data("parent_id", plain, "file_ids", []string{file}), status: statusOK},
		{name: "bulk move of no files", op: opBulkMove, path: a + "/files/move", body: data("parent_id", plain, "file_ids", []string{}),
			status: http.StatusUnprocessableEntity},
		{name: "bulk move of an unknown file", op: opBulkMove, path: a + "/files/move", body: data("parent_id", plain, "file_ids", []string{"nope"}),
			status: http.StatusNotFound},
		{name: "move version stack", op: opMoveStack, path: a + "/version_stacks/" + stack + "/move", body: data("parent_id", withFolder),
			status: statusOK, want: []string{"data.head_version"}},
		{name: "rename file", op: opUpdateFile, path: a + "/files/" + file, body: data("name", "renamed.wav"), status: statusOK},
		{name: "rename file to a slash", op: opUpdateFile, path: a + "/files/" + file, body: data("name", "a/b"), status: http.StatusUnprocessableEntity},
		{name: "no token", op: opMe, path: "/v4/me", token: "-", status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := s.Token
			if tt.token == "-" {
				token = ""
			}
			r := e.callToken(method(tt.op), tt.path, tt.body, token)
			problems := conformance(t, doc, tt.op, r, tt.status, tt.want)
			reason, known := knownDeviations[tt.name]
			switch {
			case known && len(problems) == 0:
				t.Errorf("conforms now: remove it from knownDeviations (%s)", reason)
			case known:
				t.Skipf("known deviation %s: %v", reason, problems)
			case len(problems) > 0:
				for _, p := range problems {
					t.Error(p)
				}
			}
		})
	}
	// The rate limiter's 429, from a bucket drained while the fake clock stands still.
	t.Run("rate limited", func(t *testing.T) {
		e.emu.SetFaults(Faults{RateLimitScale: 1})
		var r resp
		for range 6 {
			r = e.call("GET", a+"/files/"+file+"/status", nil)
		}
		for _, p := range conformance(t, doc, opStatus, r, http.StatusTooManyRequests, nil) {
			t.Error(p)
		}
	})
}

// method returns the method of an operation key.
func method(op string) string {
	m, _, _ := strings.Cut(op, " ")
	return m
}

// conformance lists how answer r differs from what the extract documents for op.
func conformance(t *testing.T, doc *specDoc, op string, r resp, status int, want []string) []string {
	t.Helper()
	if r.status != status {
		return []string{"status " + strconv.Itoa(r.status) + ", want " + strconv.Itoa(status) + "; body " + string(r.body)}
	}
	sch, documented := doc.response(t, op, r.status)
	if !documented {
		return []string{"status " + strconv.Itoa(r.status) + " is not documented for " + op}
	}
	if sch == nil {
		if len(r.body) != 0 {
			return []string{"answer " + strconv.Itoa(r.status) + " has a body, and the spec defines none"}
		}
		return nil
	}
	v, err := decodeNumbers(r.body)
	if err != nil {
		return []string{"body is not JSON: " + err.Error()}
	}
	c := checker{doc: doc}
	c.check("$", v, sch)
	for _, p := range want {
		if lookup(v, p) == nil {
			c.errs = append(c.errs, "$."+p+": missing or null")
		}
	}
	return c.errs
}
