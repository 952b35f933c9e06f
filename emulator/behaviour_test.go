package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRateLimits(t *testing.T) {
	type hit struct {
		Status     int
		Limit      string
		Remaining  string
		Window     string
		RetryAfter string
	}
	tests := []struct {
		name    string
		opts    func(*Options)
		route   func(e *env) (method, path string, body any)
		calls   int
		advance time.Duration // after the calls, then one more
		want    []hit
	}{
		{
			name: "local upload 5 per second with Retry-After",
			opts: func(o *Options) { o.RateLimitScale = 1 },
			route: func(e *env) (string, string, any) {
				return "POST", e.folderPath(e.seed.RootFolderID) + "/files/local_upload",
					map[string]any{"data": map[string]any{"name": "a.mov", "file_size": 1}}
			},
			calls: 6, advance: 200 * time.Millisecond,
			want: []hit{
				{201, "5", "4", "1000", ""}, {201, "5", "3", "1000", ""}, {201, "5", "2", "1000", ""},
				{201, "5", "1", "1000", ""}, {201, "5", "0", "1000", ""}, {429, "5", "0", "1000", "1"},
				{201, "5", "0", "1000", ""},
			},
		},
		{
			name: "create folder 3 per second without Retry-After",
			opts: func(o *Options) { o.RateLimitScale = 1; o.NoRetryAfter = true },
			route: func(e *env) (string, string, any) {
				return "POST", e.folderPath(e.seed.RootFolderID) + "/folders",
					map[string]any{"data": map[string]any{"name": "d"}}
			},
			calls: 4, advance: time.Second,
			want: []hit{
				{201, "3", "2", "1000", ""}, {201, "3", "1", "1000", ""}, {201, "3", "0", "1000", ""},
				{429, "3", "0", "1000", ""}, {201, "3", "2", "1000", ""},
			},
		},
		{
			name: "version stacks 10 per minute, scaled by 0.2",
			opts: func(o *Options) { o.RateLimitScale = 0.2 },
			route: func(e *env) (string, string, any) {
				return "POST", e.folderPath(e.seed.RootFolderID) + "/version_stacks",
					map[string]any{"data": map[string]any{"file_ids": []string{"x", "y"}}}
			},
			calls: 3, advance: 30 * time.Second,
			want: []hit{
				{404, "2", "1", "60000", ""}, {404, "2", "0", "60000", ""}, {429, "2", "0", "60000", "30"},
				{404, "2", "0", "60000", ""},
			},
		},
		{
			name: "children 100 per minute",
			opts: func(o *Options) { o.RateLimitScale = 1 },
			route: func(e *env) (string, string, any) {
				return "GET", e.folderPath(e.seed.RootFolderID) + "/children", nil
			},
			calls: 1,
			want:  []hit{{200, "100", "99", "60000", ""}, {200, "100", "98", "60000", ""}},
		},
		{
			name: "scale 0 turns limits off and still sends the headers",
			opts: func(o *Options) { o.RateLimitScale = 0 },
			route: func(e *env) (string, string, any) {
				return "POST", e.folderPath(e.seed.RootFolderID) + "/folders",
					map[string]any{"data": map[string]any{"name": "d"}}
			},
			calls: 10,
			want:  slices.Repeat([]hit{{201, "1000000000", "1000000000", "1000", ""}}, 11),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			var got []hit
			for i := range tt.calls + 1 {
				if i == tt.calls {
					e.clock.Add(tt.advance)
				}
				m, p, b := tt.route(e)
				r := e.call(m, p, b)
				got = append(got, hit{r.status, r.header.Get("x-ratelimit-limit"), r.header.Get("x-ratelimit-remaining"),
					r.header.Get("x-ratelimit-window"), r.header.Get("Retry-After")})
				if r.status == http.StatusTooManyRequests {
					errorItem(t, r)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("buckets are per account user and route, shared by the user's tokens", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.RateLimitScale = 1 })
		second := e.emu.issueToken() // another token of the same user, as a second process would hold
		stranger := "emu_stranger"
		e.emu.tokens.add(stranger, "another-user", time.Time{})
		path := e.acct() + "/files/nope"
		var remaining []string
		for i := range 5 {
			token := e.seed.Token
			if i%2 == 1 {
				token = second
			}
			r := e.mustStatus(e.callToken("GET", path, nil, token), http.StatusNotFound)
			remaining = append(remaining, r.header.Get("x-ratelimit-remaining"))
		}
		if diff := cmp.Diff([]string{"4", "3", "2", "1", "0"}, remaining); diff != "" {
			t.Errorf("x-ratelimit-remaining across two tokens of one user (-want +got):\n%s", diff)
		}
		e.mustStatus(e.callToken("GET", path, nil, second), http.StatusTooManyRequests)
		e.mustStatus(e.call("GET", path, nil), http.StatusTooManyRequests)
		e.mustStatus(e.callToken("GET", path, nil, stranger), http.StatusNotFound)
		e.mustStatus(e.call("GET", path+"/status", nil), http.StatusNotFound)
	})

	// The spec requires the headers on every answer, whatever the status and the scale.
	t.Run("headers on every answer", func(t *testing.T) {
		for _, scale := range []float64{0, 1} {
			e := newEnv(t, func(o *Options) { o.RateLimitScale = scale; o.APIFaultRate = 0 })
			stack := e.folderPath(e.seed.RootFolderID) + "/version_stacks"
			answers := []resp{
				e.call("GET", "/v4/me", nil),
				e.callToken("GET", "/v4/me", nil, ""),     // 401
				e.callToken("GET", "/v4/me", nil, "nope"), // 401
				e.call("GET", e.acct()+"/files/nope", nil),
				e.call("GET", e.folderPath(e.seed.RootFolderID)+"/files?page_size=0", nil),
				e.call("POST", stack, map[string]any{"data": map[string]any{"file_ids": []string{"x"}}}),
				e.call("POST", e.folderPath(e.seed.RootFolderID)+"/files/local_upload", `{"data":`),
			}
			e.emu.SetFaults(Faults{APIFaultRate: 1, RateLimitScale: scale})
			answers = append(answers, e.call("GET", "/v4/me", nil)) // 500 or 503
			for i, r := range answers {
				for _, k := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-window"} {
					if v, err := strconv.Atoi(r.header.Get(k)); err != nil || v < 0 {
						t.Errorf("scale %v, answer %d (%d): %s = %q", scale, i, r.status, k, r.header.Get(k))
					}
				}
			}
		}
	})

	t.Run("expired token", func(t *testing.T) {
		e := newEnv(t, nil)
		short := e.emu.issueToken()
		e.mustStatus(e.callToken("GET", "/v4/me", nil, short), http.StatusOK)
		e.clock.Add(time.Hour - time.Nanosecond)
		e.mustStatus(e.callToken("GET", "/v4/me", nil, short), http.StatusOK)
		e.clock.Add(time.Nanosecond)
		errorItem(t, e.mustStatus(e.callToken("GET", "/v4/me", nil, short), http.StatusUnauthorized))
		e.mustStatus(e.call("GET", "/v4/me", nil), http.StatusOK) // the seed token never expires
	})
}

func TestFaults(t *testing.T) {
	t.Run("api faults at rate 1 take no effect", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.APIFaultRate = 1 })
		seen := map[int]bool{}
		for range 20 {
			r := e.call("POST", e.folderPath(e.seed.RootFolderID)+"/files/local_upload",
				map[string]any{"data": map[string]any{"name": "a.mov", "file_size": 1}})
			if r.status != 500 && r.status != 503 {
				t.Fatalf("status %d, want 500 or 503", r.status)
			}
			errorItem(t, r)
			seen[r.status] = true
		}
		if !seen[500] || !seen[503] {
			t.Errorf("statuses seen %v, want both 500 and 503", seen)
		}
		if n := e.emu.Stats().FilesCreated; n != 0 {
			t.Errorf("files_created = %d under faults, want 0", n)
		}
		e.emu.SetFaults(Faults{})
		e.createFile(e.seed.RootFolderID, "a.mov", 1)
	})

	t.Run("part faults at rate 1", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.PartFaultRate = 1 })
		f := e.createFile(e.seed.RootFolderID, "a.mov", 4)
		u := uploadURLs(t, f)[0].URL
		r := e.mustStatus(e.putPart(u, []byte("abcd"), "video/quicktime", nil), http.StatusInternalServerError)
		if code := s3Code(t, r); code != "InternalError" {
			t.Errorf("code %q, want InternalError", code)
		}
		e.emu.SetFaults(Faults{})
		e.mustStatus(e.putPart(u, []byte("abcd"), "video/quicktime", nil), http.StatusOK)
		if info, _ := e.emu.FileInfo(f["id"].(string)); info.Status != "uploaded" {
			t.Errorf("status %q after a good PUT, want uploaded", info.Status)
		}
	})

	t.Run("resets at rate 1 cut the connection", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.ResetRate = 1 })
		f := e.createFile(e.seed.RootFolderID, "a.mov", 4)
		u := uploadURLs(t, f)[0].URL
		req, _ := http.NewRequest(http.MethodPut, u, bytesReader([]byte("abcd")))
		req.Header.Set("Content-Type", "video/quicktime")
		req.Header.Set("x-amz-acl", "private")
		res, err := e.srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("PUT answered %d, want a cut connection", res.StatusCode)
		}
		if got := e.emu.Stats().Requests[routePart]; got[statusReset] != 1 {
			t.Errorf("PUT part stats = %v, want one reset", got)
		}
		if info, _ := e.emu.FileInfo(f["id"].(string)); info.PartsReceived != 0 {
			t.Errorf("a reset PUT stored a part: %+v", info)
		}
	})

	t.Run("SetFaults round trip", func(t *testing.T) {
		e := newEnv(t, nil)
		f := Faults{APIFaultRate: 0.5, PartFaultRate: 0.25, ResetRate: 0.1, Latency: time.Millisecond,
			NoRetryAfter: true, RateLimitScale: 2}
		e.emu.SetFaults(f)
		if diff := cmp.Diff(f, e.emu.Faults()); diff != "" {
			t.Errorf("Faults (-want +got):\n%s", diff)
		}
		e.emu.SetFaults(Faults{APIFaultRate: 7, ResetRate: -1})
		if got := e.emu.Faults(); got.APIFaultRate != 1 || got.ResetRate != 0 {
			t.Errorf("rates not clamped: %+v", got)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"api fault rate above 1", func(o *Options) { o.APIFaultRate = 1.5 }},
		{"negative part fault rate", func(o *Options) { o.PartFaultRate = -0.1 }},
		{"negative rate limit scale", func(o *Options) { o.RateLimitScale = -1 }},
		{"negative part size", func(o *Options) { o.PartSize = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.edit(&o)
			if emu, err := New(o); err == nil {
				emu.Close()
				t.Fatal("New accepted bad options")
			}
		})
	}
	t.Run("zero options get defaults", func(t *testing.T) {
		emu, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.Close()
		if emu.opts.PartSize != 20<<20 || emu.opts.URLTTL != 24*time.Hour || emu.opts.TokenTTL != time.Hour {
			t.Errorf("defaults not applied: %+v", emu.opts)
		}
	})
}

func TestRemoteUpload(t *testing.T) {
	payload := randomBytes(300_000, 3)
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/reel.mp4":
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
			w.Write(payload)
		case "/huge.mov":
			w.Header().Set("Content-Length", "50000000001")
		case "/broken.mov":
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		default:
			http.NotFound(w, r)
		}
	}))
	defer source.Close()
	e := newEnv(t, nil)
	remote := func(name, path string) resp {
		return e.call("POST", e.folderPath(e.seed.RootFolderID)+"/files/remote_upload",
			map[string]any{"data": map[string]any{"name": name, "source_url": source.URL + path + "?sig=secret"}})
	}

	t.Run("fetches, stores and hashes", func(t *testing.T) {
		v := e.mustStatus(remote("reel.mp4", "/reel.mp4"), http.StatusAccepted).json(t)
		f := v["data"].(map[string]any)
		if diff := cmp.Diff(fileFields, keys(f)); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
		// Frame.io answers before it fetches: the size is 0 until the source has told it.
		if f["status"] != "created" || f["file_size"] != 0.0 || f["media_type"] != "video/mp4" {
			t.Errorf("file = %v, want created, 0 bytes so far, video/mp4", f)
		}
		id := f["id"].(string)
		wantLinks := map[string]any{"status": e.acct() + "/files/" + id + "/status"}
		if diff := cmp.Diff(wantLinks, v["links"]); diff != "" {
			t.Errorf("links (-want +got):\n%s", diff)
		}
		e.emu.wg.Wait()
		want := FileInfo{ID: id, Name: "reel.mp4", ParentID: e.seed.RootFolderID, Size: int64(len(payload)),
			BLAKE3: blake3Hex(payload), Status: "uploaded", PartsReceived: 1}
		info, _ := e.emu.FileInfo(id)
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("FileInfo (-want +got):\n%s", diff)
		}
		st := e.mustStatus(e.call("GET", wantLinks["status"].(string), nil), http.StatusOK).json(t)["data"].(map[string]any)
		if st["upload_complete"] != true || st["upload_failed"] != false {
			t.Errorf("status = %v, want complete", st)
		}
		show := e.mustStatus(e.call("GET", e.acct()+"/files/"+id, nil), http.StatusOK).json(t)["data"].(map[string]any)
		if show["file_size"] != float64(len(payload)) || show["status"] != "uploaded" {
			t.Errorf("file after the fetch = %v, want uploaded, %d bytes", show, len(payload))
		}
		got := e.mustStatus(e.get(e.originalLinks(id)["download_url"].(string)), http.StatusOK)
		if blake3Hex(got.body) != blake3Hex(payload) {
			t.Error("the download of a remote upload differs from its source")
		}
	})

	t.Run("broken body fails the upload", func(t *testing.T) {
		v := e.mustStatus(remote("broken.mov", "/broken.mov"), http.StatusAccepted).json(t)
		id := v["data"].(map[string]any)["id"].(string)
		e.emu.wg.Wait()
		st := e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"/status", nil), http.StatusOK).json(t)["data"].(map[string]any)
		if st["upload_complete"] != false || st["upload_failed"] != true {
			t.Errorf("status = %v, want failed", st)
		}
	})

	// Failures arrive after the 202, in the upload status, as on Frame.io.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	for _, tt := range []struct{ name, url string }{
		{"over 50 GB", source.URL + "/huge.mov?sig=secret"},
		{"source answers 404", source.URL + "/missing.mov?sig=secret"},
		{"unreachable source", deadURL + "/x.mov?sig=secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mustStatus(e.call("POST", e.folderPath(e.seed.RootFolderID)+"/files/remote_upload",
				map[string]any{"data": map[string]any{"name": "x.mov", "source_url": tt.url}}), http.StatusAccepted)
			id := r.json(t)["data"].(map[string]any)["id"].(string)
			e.emu.wg.Wait()
			st := e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"/status", nil), http.StatusOK)
			data := st.json(t)["data"].(map[string]any)
			if data["upload_complete"] != false || data["upload_failed"] != true {
				t.Errorf("status = %v, want failed", data)
			}
			show := e.mustStatus(e.call("GET", e.acct()+"/files/"+id, nil), http.StatusOK)
			if containsString(st.body, "secret") || containsString(show.body, "secret") {
				t.Errorf("the file or its status leaks the source query: %s %s", st.body, show.body)
			}
		})
	}
}

func TestVersionStacks(t *testing.T) {
	e := newEnv(t, nil)
	root := e.seed.RootFolderID
	v1 := e.createFile(root, "cut_v1.mov", 1)["id"].(string)
	v2 := e.createFile(root, "cut_v2.mov", 2)["id"].(string)
	v3 := e.createFile(root, "cut_v3.mov", 3)["id"].(string)
	other := e.createFolder(root, "Other")
	elsewhere := e.createFile(other, "x.mov", 1)["id"].(string)
	stacks := e.folderPath(root) + "/version_stacks"
	body := func(ids ...string) any { return map[string]any{"data": map[string]any{"file_ids": ids}} }

	s := e.mustStatus(e.call("POST", stacks, body(v1, v2)), http.StatusCreated).json(t)["data"].(map[string]any)
	stackFields := []string{"created_at", "head_version", "id", "name", "parent_id", "project_id", "type", "updated_at", "view_url"}
	if diff := cmp.Diff(stackFields, keys(s)); diff != "" {
		t.Errorf("stack fields (-want +got):\n%s", diff)
	}
	head, _ := s["head_version"].(map[string]any)
	if s["type"] != "version_stack" || s["name"] != "cut_v2.mov" || s["parent_id"] != root || head["id"] != v2 || head["file_size"] != 2.0 {
		t.Errorf("stack = %v, want version_stack named after its head %s in the root", s, v2)
	}
	stackID := s["id"].(string)
	stackPath := e.acct() + "/version_stacks/" + stackID
	show := e.mustStatus(e.call("GET", stackPath, nil), http.StatusOK).json(t)["data"].(map[string]any)
	if diff := cmp.Diff(s, show); diff != "" {
		t.Errorf("GET version stack differs from the create answer (-create +show):\n%s", diff)
	}
	versions := func() []string {
		v := e.mustStatus(e.call("GET", stackPath+"/children", nil), http.StatusOK).json(t)
		var out []string
		for _, it := range v["data"].([]any) {
			m := it.(map[string]any)
			out = append(out, m["type"].(string)+":"+m["name"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"file:cut_v1.mov", "file:cut_v2.mov"}, versions()); diff != "" {
		t.Errorf("stack children (-want +got):\n%s", diff)
	}

	names := func(route string) []string {
		v := e.mustStatus(e.call("GET", e.folderPath(root)+route, nil), http.StatusOK).json(t)
		var out []string
		for _, it := range v["data"].([]any) {
			m := it.(map[string]any)
			out = append(out, m["type"].(string)+":"+m["name"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"file:cut_v3.mov"}, names("/files")); diff != "" {
		t.Errorf("/files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"file:cut_v3.mov", "folder:Other", "version_stack:cut_v2.mov"}, names("/children")); diff != "" {
		t.Errorf("/children (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"version_stack:cut_v2.mov"}, names("/children?type=version_stack")); diff != "" {
		t.Errorf("/children?type=version_stack (-want +got):\n%s", diff)
	}
	f := e.mustStatus(e.call("GET", e.acct()+"/files/"+v1, nil), http.StatusOK).json(t)["data"].(map[string]any)
	if f["parent_id"] != stackID {
		t.Errorf("stacked file parent_id = %v, want the stack %s", f["parent_id"], stackID)
	}

	// A new version stacks onto the stack, named by the stack or by any file in it.
	s2 := e.mustStatus(e.call("POST", stacks, body(v2, v3)), http.StatusCreated).json(t)["data"].(map[string]any)
	if s2["id"] != stackID || s2["name"] != "cut_v3.mov" {
		t.Errorf("stacking onto a member gave %v, want stack %s headed by cut_v3.mov", s2, stackID)
	}
	if diff := cmp.Diff([]string{"folder:Other", "version_stack:cut_v3.mov"}, names("/children")); diff != "" {
		t.Errorf("/children after v3 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"version_stack:cut_v3.mov"}, names("/version_stacks")); diff != "" {
		t.Errorf("/version_stacks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"file:cut_v1.mov", "file:cut_v2.mov", "file:cut_v3.mov"}, versions()); diff != "" {
		t.Errorf("stack children after v3 (-want +got):\n%s", diff)
	}
	e.mustStatus(e.call("GET", e.acct()+"/version_stacks/"+v1, nil), http.StatusNotFound) // a file is no stack

	for _, tt := range []struct {
		name       string
		ids        []string
		wantStatus int
		wantPtr    string
	}{
		{"file in another folder", []string{stackID, elsewhere}, 422, "/data/file_ids/1"},
		{"unknown file", []string{stackID, "nope"}, 404, "/data/file_ids/1"},
		{"already stacked", []string{stackID, v1}, 409, "/data/file_ids/1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			item := errorItem(t, e.mustStatus(e.call("POST", stacks, body(tt.ids...)), tt.wantStatus))
			if diff := cmp.Diff(map[string]any{"pointer": tt.wantPtr}, item["source"]); diff != "" {
				t.Errorf("source (-want +got):\n%s", diff)
			}
		})
	}

	// Deleting every version removes the stack from its folder.
	for _, id := range []string{v1, v2, v3} {
		e.mustStatus(e.call("DELETE", e.acct()+"/files/"+id, nil), http.StatusNoContent)
	}
	if diff := cmp.Diff([]string{"folder:Other"}, names("/children")); diff != "" {
		t.Errorf("/children after deleting the versions (-want +got):\n%s", diff)
	}
	e.mustStatus(e.call("GET", stackPath, nil), http.StatusNotFound)
}

func TestStats(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RateLimitScale = 1 })
	e.mustStatus(e.call("GET", "/v4/me", nil), http.StatusOK)
	e.mustStatus(e.callToken("GET", "/v4/me", nil, ""), http.StatusUnauthorized)
	f := e.createFile(e.seed.RootFolderID, "a.mov", 3)
	e.mustStatus(e.putPart(uploadURLs(t, f)[0].URL, []byte("abc"), "video/quicktime", nil), http.StatusOK)
	e.mustStatus(e.call("GET", e.acct()+"/files/"+f["id"].(string), nil), http.StatusOK)
	e.mustStatus(e.call("DELETE", e.acct()+"/files/"+f["id"].(string), nil), http.StatusNoContent)
	e.mustStatus(e.callToken("GET", "/_emulator/files/nope", nil, ""), http.StatusNotFound)

	want := Stats{
		FilesCreated: 1, FilesDeleted: 1, BytesReceived: 3,
		Requests: map[string]map[string]int64{
			"GET /v4/me": {"200": 1, "401": 1},
			"POST /v4/accounts/{a}/folders/{f}/files/local_upload": {"201": 1},
			"PUT part":                           {"200": 1},
			"GET /v4/accounts/{a}/files/{id}":    {"200": 1},
			"DELETE /v4/accounts/{a}/files/{id}": {"204": 1},
		},
	}
	if diff := cmp.Diff(want, e.emu.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	r := e.mustStatus(e.callToken("GET", "/_emulator/stats", nil, ""), http.StatusOK)
	var got Stats
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/_emulator/stats (-want +got):\n%s", diff)
	}
	if r.header.Get("x-ratelimit-limit") != "" {
		t.Error("/_emulator/stats carries rate-limit headers; it is not rate limited")
	}
}
