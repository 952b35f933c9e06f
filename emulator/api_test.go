package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var fileFields = []string{"created_at", "file_size", "id", "media_type", "name", "parent_id",
	"project_id", "status", "type", "updated_at", "view_url"}

var projectFields = []string{"created_at", "description", "id", "name", "root_folder_id", "status",
	"storage", "updated_at", "view_url", "workspace_id"}

func TestReadEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	s := e.seed
	tests := []struct {
		name     string
		path     string
		list     bool
		wantKeys []string
		check    func(t *testing.T, data any)
	}{
		{
			name: "me", path: "/v4/me", wantKeys: []string{"avatar_url", "email", "id", "name"},
		},
		{
			name: "accounts", path: "/v4/accounts", list: true,
			wantKeys: []string{"created_at", "display_name", "id", "roles", "storage_limit", "storage_usage", "updated_at"},
			check: func(t *testing.T, data any) {
				got := data.([]any)[0].(map[string]any)
				want := map[string]any{"id": s.AccountID, "display_name": "Emulator Account", "roles": []any{"owner"},
					"storage_limit": nil, "storage_usage": 0.0, "created_at": "2026-11-26T12:00:00Z",
					"updated_at": "2026-11-26T12:00:00Z"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("account (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "workspaces", path: e.acct() + "/workspaces", list: true,
			wantKeys: []string{"account_id", "created_at", "id", "name", "updated_at"},
			check: func(t *testing.T, data any) {
				got := data.([]any)[0].(map[string]any)
				if got["id"] != s.WorkspaceID || got["name"] != "Sandbox" {
					t.Errorf("workspace = %v, want id %s name Sandbox", got, s.WorkspaceID)
				}
			},
		},
		{
			name: "projects", path: e.acct() + "/workspaces/" + s.WorkspaceID + "/projects", list: true,
			wantKeys: projectFields,
			check: func(t *testing.T, data any) {
				got := data.([]any)[0].(map[string]any)
				want := map[string]any{"id": s.ProjectID, "name": "Sandbox", "root_folder_id": s.RootFolderID,
					"workspace_id": s.WorkspaceID, "status": "active", "created_at": "2026-11-26T12:00:00Z",
					"updated_at": "2026-11-26T12:00:00Z", "description": nil, "storage": 0.0,
					"view_url": e.srv.URL + "/project/" + s.ProjectID}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("project (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "project", path: e.acct() + "/projects/" + s.ProjectID,
			wantKeys: projectFields,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.mustStatus(e.call("GET", tt.path, nil), http.StatusOK).json(t)
			item := v["data"]
			if tt.list {
				if diff := cmp.Diff([]string{"data", "links", "total_count"}, keys(v)); diff != "" {
					t.Fatalf("list envelope keys (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(map[string]any{"next": nil}, v["links"]); diff != "" {
					t.Errorf("links (-want +got):\n%s", diff)
				}
				if v["total_count"] != nil {
					t.Errorf("total_count = %v, want null", v["total_count"])
				}
				item = v["data"].([]any)[0]
			} else if diff := cmp.Diff([]string{"data"}, keys(v)); diff != "" {
				t.Fatalf("envelope keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantKeys, keys(item.(map[string]any))); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, v["data"])
			}
		})
	}
}

func TestFileResource(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 20 << 20 })
	// The documented example: 50,645,990 bytes in three even parts.
	f := e.createFile(e.seed.RootFolderID, "A001.MOV", 50645990)
	wantFields := append(slices.Clone(fileFields), "upload_urls")
	slices.Sort(wantFields)
	if diff := cmp.Diff(wantFields, keys(f)); diff != "" {
		t.Errorf("local_upload fields (-want +got):\n%s", diff)
	}
	want := map[string]any{"name": "A001.MOV", "type": "file", "parent_id": e.seed.RootFolderID,
		"project_id": e.seed.ProjectID, "file_size": 50645990.0, "media_type": "video/quicktime",
		"status": "created"}
	got := map[string]any{}
	for k := range want {
		got[k] = f[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("local_upload values (-want +got):\n%s", diff)
	}
	var sizes []int64
	for _, u := range uploadURLs(t, f) {
		sizes = append(sizes, u.Size)
		pu, err := url.Parse(u.URL)
		if err != nil {
			t.Fatal(err)
		}
		if pu.Scheme != "http" || pu.Host != strings.TrimPrefix(e.srv.URL, "http://") {
			t.Errorf("part URL origin %s://%s, want %s", pu.Scheme, pu.Host, e.srv.URL)
		}
		q := pu.Query()
		for k, want := range map[string]string{"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Expires": "86400",
			"X-Amz-SignedHeaders": "content-type;host;x-amz-acl", "X-Amz-Date": "20261126T120000Z"} {
			if q.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, q.Get(k), want)
			}
		}
		if len(q.Get("X-Amz-Signature")) != 64 {
			t.Errorf("X-Amz-Signature = %q, want 64 hex digits", q.Get("X-Amz-Signature"))
		}
	}
	if diff := cmp.Diff([]int64{16881997, 16881997, 16881996}, sizes); diff != "" {
		t.Errorf("part sizes (-want +got):\n%s", diff)
	}

	show := e.mustStatus(e.call("GET", e.acct()+"/files/"+f["id"].(string), nil), http.StatusOK).json(t)
	if diff := cmp.Diff(fileFields, keys(show["data"].(map[string]any))); diff != "" {
		t.Errorf("show file fields (-want +got):\n%s", diff)
	}
	st := e.mustStatus(e.call("GET", e.acct()+"/files/"+f["id"].(string)+"/status", nil), http.StatusOK).json(t)
	wantStatus := map[string]any{"id": f["id"], "filetype": "video/quicktime", "upload_complete": false,
		"upload_failed": false, "uploaded_at": nil, "upload_completed_at": nil}
	if diff := cmp.Diff(wantStatus, st["data"]); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestMediaType(t *testing.T) {
	tests := map[string]string{
		"a.mov": "video/quicktime", "B.MP4": "video/mp4", "c.mxf": "application/mxf",
		"d.r3d": "video/x-red-r3d", "e.braw": "video/x-blackmagic-raw", "f.wav": "audio/wav",
		"g.mp3": "audio/mpeg", "h.jpg": "image/jpeg", "i.jpeg": "image/jpeg", "j.png": "image/png",
		"k.tif": "image/tiff", "l.tiff": "image/tiff", "m.pdf": "application/pdf", "n.txt": "text/plain",
		"o.xyz": "application/octet-stream", "noext": "application/octet-stream",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got := mediaType(name); got != want {
				t.Errorf("mediaType(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t, nil)
	root := e.seed.RootFolderID
	var want []string
	for i, name := range []string{"Day 01", "a.mov", "Day 02", "b.wav", "c.pdf"} {
		if i%2 == 0 && strings.HasPrefix(name, "Day") {
			e.createFolder(root, name)
		} else {
			e.createFile(root, name, 10)
		}
		want = append(want, name)
	}

	tests := []struct {
		name  string
		route string
		query string
		want  []string
	}{
		{"children", "/children", "", want},
		{"children files and folders", "/children", "&type=file,folder", want},
		{"children folders", "/children", "&type=folder", []string{"Day 01", "Day 02"}},
		{"folders", "/folders", "", []string{"Day 01", "Day 02"}},
		{"files", "/files", "", []string{"a.mov", "b.wav", "c.pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			next := e.folderPath(root) + tt.route + "?page_size=1&include_total_count=true" + tt.query
			for pages := 0; next != ""; pages++ {
				if pages > 10 {
					t.Fatal("links.next never ends")
				}
				v := e.mustStatus(e.call("GET", next, nil), http.StatusOK).json(t)
				data := v["data"].([]any)
				if len(data) != 1 {
					t.Fatalf("page %d has %d items, want 1", pages, len(data))
				}
				got = append(got, data[0].(map[string]any)["name"].(string))
				if tc := v["total_count"]; tc != float64(len(tt.want)) {
					t.Errorf("total_count = %v, want %d", tc, len(tt.want))
				}
				next = ""
				if n, ok := v["links"].(map[string]any)["next"].(string); ok {
					if !strings.HasPrefix(n, "/v4/") {
						t.Fatalf("links.next %q is not a relative path", n)
					}
					next = n
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("names over pages (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("default page holds all", func(t *testing.T) {
		v := e.mustStatus(e.call("GET", e.folderPath(root)+"/children", nil), http.StatusOK).json(t)
		if n := len(v["data"].([]any)); n != len(want) {
			t.Errorf("got %d items, want %d", n, len(want))
		}
		if v["links"].(map[string]any)["next"] != nil || v["total_count"] != nil {
			t.Errorf("links/total_count = %v/%v, want null/null", v["links"], v["total_count"])
		}
	})
}

// TestPageSizes holds the spec's two page-size ranges: asset lists take up to 500 items a
// page, the other lists up to 100; MaxAssetPageSize lowers the first, as a server that
// differs from the spec would.
func TestPageSizes(t *testing.T) {
	e := newEnv(t, nil)
	root := e.seed.RootFolderID
	folder := e.createFolder(root, "Frames")
	for i := range 120 {
		e.createFile(folder, fmt.Sprintf("f%04d.exr", i), 1)
	}
	v := e.mustStatus(e.call("GET", e.folderPath(folder)+"/files?page_size=500", nil), http.StatusOK).json(t)
	if n, next := len(v["data"].([]any)), v["links"].(map[string]any)["next"]; n != 120 || next != nil {
		t.Errorf("page_size=500 gave %d items and next %v, want 120 and null", n, next)
	}
	for _, path := range []string{
		e.folderPath(folder) + "/files?page_size=501",
		e.folderPath(root) + "/children?page_size=501",
		e.folderPath(root) + "/folders?page_size=501",
		e.acct() + "/workspaces?page_size=101",
		"/v4/accounts?page_size=101",
		e.acct() + "/workspaces/" + e.seed.WorkspaceID + "/projects?page_size=101",
	} {
		item := errorItem(t, e.mustStatus(e.call("GET", path, nil), http.StatusBadRequest))
		if diff := cmp.Diff(map[string]any{"pointer": "page_size"}, item["source"]); diff != "" {
			t.Errorf("%s: source (-want +got):\n%s", path, diff)
		}
	}
	e.mustStatus(e.call("GET", e.acct()+"/workspaces?page_size=100", nil), http.StatusOK)

	low := newEnv(t, func(o *Options) { o.MaxAssetPageSize = 100 })
	low.mustStatus(low.call("GET", low.folderPath(low.seed.RootFolderID)+"/files?page_size=500", nil), http.StatusBadRequest)
	low.mustStatus(low.call("GET", low.folderPath(low.seed.RootFolderID)+"/files?page_size=100", nil), http.StatusOK)
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	root := e.folderPath(e.seed.RootFolderID)
	local := root + "/files/local_upload"
	remote := root + "/files/remote_upload"
	data := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"data": m}
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		token      string // "" uses the seed token; "-" sends none
		wantStatus int
		wantSource map[string]any
	}{
		{name: "no token", method: "GET", path: "/v4/me", token: "-", wantStatus: 401},
		{name: "unknown token", method: "GET", path: "/v4/me", token: "nope", wantStatus: 401},
		{name: "malformed JSON", method: "POST", path: local, body: `{"data":`, wantStatus: 400},
		{name: "no data envelope", method: "POST", path: local, body: `{"name":"a.mov","file_size":1}`, wantStatus: 400},
		{name: "data not an object", method: "POST", path: local, body: `{"data":[1]}`, wantStatus: 400},
		{name: "empty name", method: "POST", path: local, body: data("name", "", "file_size", 1),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/name"}},
		{name: "missing name", method: "POST", path: local, body: data("file_size", 1),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/name"}},
		{name: "missing file_size", method: "POST", path: local, body: data("name", "a.mov"),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/file_size"}},
		{name: "negative file_size", method: "POST", path: local, body: data("name", "a.mov", "file_size", -1),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/file_size"}},
		{name: "file_size over 5 TB", method: "POST", path: local, body: data("name", "a.mov", "file_size", 5_000_000_000_001),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/file_size"}},
		{name: "file_size a string", method: "POST", path: local, body: data("name", "a.mov", "file_size", "10"),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/file_size"}},
		{name: "empty folder name", method: "POST", path: root + "/folders", body: data("name", " "),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/name"}},
		{name: "missing source_url", method: "POST", path: remote, body: data("name", "r.mp4"),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/source_url"}},
		{name: "invalid source_url", method: "POST", path: remote, body: data("name", "r.mp4", "source_url", "ftp://x/y"),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/source_url"}},
		{name: "relative source_url", method: "POST", path: remote, body: data("name", "r.mp4", "source_url", "/a.mp4"),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/source_url"}},
		{name: "one file to stack", method: "POST", path: root + "/version_stacks", body: data("file_ids", []string{"x"}),
			wantStatus: 422, wantSource: map[string]any{"pointer": "/data/file_ids"}},
		{name: "unknown account", method: "GET", path: "/v4/accounts/nope/workspaces", wantStatus: 404},
		{name: "unknown workspace", method: "GET", path: e.acct() + "/workspaces/nope/projects", wantStatus: 404},
		{name: "unknown project", method: "GET", path: e.acct() + "/projects/nope", wantStatus: 404},
		{name: "unknown folder children", method: "GET", path: e.folderPath("nope") + "/children", wantStatus: 404},
		{name: "unknown folder upload", method: "POST", path: e.folderPath("nope") + "/files/local_upload",
			body: data("name", "a.mov", "file_size", 1), wantStatus: 404},
		{name: "unknown file", method: "GET", path: e.acct() + "/files/nope", wantStatus: 404},
		{name: "unknown file status", method: "GET", path: e.acct() + "/files/nope/status", wantStatus: 404},
		{name: "unknown file delete", method: "DELETE", path: e.acct() + "/files/nope", wantStatus: 404},
		{name: "unknown stacked file", method: "POST", path: root + "/version_stacks", body: data("file_ids", []string{"x", "y"}),
			wantStatus: 404, wantSource: map[string]any{"pointer": "/data/file_ids/0"}},
		{name: "unknown route", method: "GET", path: "/v4/nothing", wantStatus: 404},
		{name: "page_size over 500", method: "GET", path: root + "/children?page_size=501",
			wantStatus: 400, wantSource: map[string]any{"pointer": "page_size"}},
		{name: "page_size zero", method: "GET", path: root + "/files?page_size=0",
			wantStatus: 400, wantSource: map[string]any{"pointer": "page_size"}},
		{name: "page_size not a number", method: "GET", path: root + "/folders?page_size=ten",
			wantStatus: 400, wantSource: map[string]any{"pointer": "page_size"}},
		{name: "foreign cursor", method: "GET", path: root + "/children?after=xyz",
			wantStatus: 400, wantSource: map[string]any{"pointer": "after"}},
		{name: "unknown type", method: "GET", path: root + "/children?type=file,asset",
			wantStatus: 400, wantSource: map[string]any{"pointer": "type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := e.seed.Token
			switch tt.token {
			case "-":
				token = ""
			case "":
			default:
				token = tt.token
			}
			r := e.callToken(tt.method, tt.path, tt.body, token)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			item := errorItem(t, r)
			var gotSource map[string]any
			if s, ok := item["source"].(map[string]any); ok {
				gotSource = s
			}
			if tt.wantSource != nil {
				if diff := cmp.Diff(tt.wantSource, gotSource); diff != "" {
					t.Errorf("source (-want +got):\n%s", diff)
				}
			}
		})
	}
	if got := e.emu.Stats().FilesCreated; got != 0 {
		t.Errorf("files_created = %d after only bad requests, want 0", got)
	}
}

// TestZeroByteFile holds the spec's minimum of 1 for file_size: Frame.io does not accept empty
// files, and the emulator refuses them like any invalid field.
func TestZeroByteFile(t *testing.T) {
	e := newEnv(t, nil)
	r := e.mustStatus(e.call("POST", e.folderPath(e.seed.RootFolderID)+"/files/local_upload",
		map[string]any{"data": map[string]any{"name": "empty.txt", "file_size": 0}}), http.StatusUnprocessableEntity)
	if diff := cmp.Diff(map[string]any{"pointer": "/data/file_size"}, errorItem(t, r)["source"]); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}
	if got := e.emu.Stats().FilesCreated; got != 0 {
		t.Errorf("files_created = %d, want 0", got)
	}
}

func TestDeleteFile(t *testing.T) {
	e := newEnv(t, nil)
	f := e.createFile(e.seed.RootFolderID, "gone.mov", 3)
	id := f["id"].(string)
	path := e.acct() + "/files/" + id
	r := e.mustStatus(e.call("DELETE", path, nil), http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 body = %q, want empty", r.body)
	}
	e.mustStatus(e.call("GET", path, nil), http.StatusNotFound)
	e.mustStatus(e.call("DELETE", path, nil), http.StatusNotFound)
	v := e.mustStatus(e.call("GET", e.folderPath(e.seed.RootFolderID)+"/files", nil), http.StatusOK).json(t)
	if n := len(v["data"].([]any)); n != 0 {
		t.Errorf("folder lists %d files after delete, want 0", n)
	}
	// A part PUT for a deleted file finds no upload.
	u := uploadURLs(t, f)[0]
	e.mustStatus(e.putPart(u.URL, []byte("abc"), "video/quicktime", nil), http.StatusNotFound)
	st := e.emu.Stats()
	if st.FilesCreated != 1 || st.FilesDeleted != 1 {
		t.Errorf("files created/deleted = %d/%d, want 1/1", st.FilesCreated, st.FilesDeleted)
	}
	if info, ok := e.emu.FileInfo(id); !ok || info.Status != "deleted" {
		t.Errorf("FileInfo = %+v, %v; want status deleted", info, ok)
	}
}

func TestAddWorkspaceAndProject(t *testing.T) {
	e := newEnv(t, nil)
	ws := e.emu.AddWorkspace("Post")
	p, root := e.emu.AddProject(ws, "Dailies")
	if p == "" || root == "" {
		t.Fatal("AddProject returned empty ids")
	}
	if p2, r2 := e.emu.AddProject("nope", "x"); p2 != "" || r2 != "" {
		t.Errorf("AddProject(unknown) = %q, %q; want empty", p2, r2)
	}
	v := e.mustStatus(e.call("GET", e.acct()+"/workspaces", nil), http.StatusOK).json(t)
	var names []string
	for _, w := range v["data"].([]any) {
		names = append(names, w.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"Sandbox", "Post"}, names); diff != "" {
		t.Errorf("workspaces (-want +got):\n%s", diff)
	}
	pr := e.mustStatus(e.call("GET", e.acct()+"/projects/"+p, nil), http.StatusOK).json(t)
	if got := pr["data"].(map[string]any)["root_folder_id"]; got != root {
		t.Errorf("root_folder_id = %v, want %s", got, root)
	}
	e.createFile(root, "x.mov", 1)
}
