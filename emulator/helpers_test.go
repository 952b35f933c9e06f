package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one emulator behind a test server, with a fake clock.
type env struct {
	t     testing.TB
	emu   *Emulator
	srv   *httptest.Server
	clock *clock
	seed  Seed
}

// newEnv starts an emulator with rate limits off unless opt turns them on.
func newEnv(t testing.TB, opt func(*Options)) *env {
	t.Helper()
	c := newClock()
	o := DefaultOptions()
	o.RateLimitScale = 0
	o.Now = c.Now
	o.FaultSeed = 1
	o.DataDir = t.TempDir()
	if opt != nil {
		opt(&o)
	}
	emu, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, emu: emu, srv: srv, clock: c, seed: emu.Seed()}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// call sends a raw request with the seed token. body may be nil, a string (sent as is) or a
// value encoded as JSON.
func (e *env) call(method, path string, body any) resp {
	e.t.Helper()
	return e.callToken(method, path, body, e.seed.Token)
}

func (e *env) callToken(method, path string, body any, token string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// mustStatus fails unless r has the given status.
func (e *env) mustStatus(r resp, want int) resp {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

func (e *env) acct() string { return "/v4/accounts/" + e.seed.AccountID }

func (e *env) folderPath(id string) string { return e.acct() + "/folders/" + id }

// createFile starts a local upload and returns the file resource.
func (e *env) createFile(folder, name string, size int64) map[string]any {
	e.t.Helper()
	r := e.mustStatus(e.call("POST", e.folderPath(folder)+"/files/local_upload",
		map[string]any{"data": map[string]any{"name": name, "file_size": size}}), http.StatusCreated)
	return r.json(e.t)["data"].(map[string]any)
}

func (e *env) createFolder(parent, name string) string {
	e.t.Helper()
	r := e.mustStatus(e.call("POST", e.folderPath(parent)+"/folders",
		map[string]any{"data": map[string]any{"name": name}}), http.StatusCreated)
	return r.json(e.t)["data"].(map[string]any)["id"].(string)
}

// putPart PUTs body to a part URL with the headers a correct client sends, changed by edit.
func (e *env) putPart(url string, body []byte, mediaType string, edit func(*http.Request)) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mediaType)
	req.Header.Set("x-amz-acl", "private")
	if edit != nil {
		edit(req)
	}
	return e.do(req)
}

// uploadURLs returns the upload_urls of a local_upload answer as (size, url) pairs.
func uploadURLs(t testing.TB, file map[string]any) []uploadURL {
	t.Helper()
	raw, ok := file["upload_urls"].([]any)
	if !ok {
		t.Fatalf("upload_urls missing or not a list: %v", file["upload_urls"])
	}
	out := make([]uploadURL, 0, len(raw))
	for _, u := range raw {
		m := u.(map[string]any)
		out = append(out, uploadURL{Size: int64(m["size"].(float64)), URL: m["url"].(string)})
	}
	return out
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// errorItem returns the first item of an error envelope, failing when the envelope is wrong.
func errorItem(t testing.TB, r resp) map[string]any {
	t.Helper()
	v := r.json(t)
	items, ok := v["errors"].([]any)
	if !ok || len(items) == 0 {
		t.Fatalf("no errors envelope in %s", r.body)
	}
	item := items[0].(map[string]any)
	if _, ok := item["title"].(string); !ok {
		t.Fatalf("error item without title: %s", r.body)
	}
	if _, ok := item["detail"].(string); !ok {
		t.Fatalf("error item without detail: %s", r.body)
	}
	return item
}

// decodeStrict decodes JSON and refuses fields v does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func containsString(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// upload creates a file in folder and PUTs every part of data, returning the file's id.
func (e *env) upload(folder, name string, data []byte) string {
	e.t.Helper()
	f := e.createFile(folder, name, int64(len(data)))
	var off int64
	for _, u := range uploadURLs(e.t, f) {
		e.mustStatus(e.putPart(u.URL, data[off:off+u.Size], f["media_type"].(string), nil), http.StatusOK)
		off += u.Size
	}
	return f["id"].(string)
}
