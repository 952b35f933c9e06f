package emulator

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zeebo/blake3"
)

func blake3Hex(b []byte) string {
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// s3Code returns the Code of an S3-style XML error body.
func s3Code(t *testing.T, r resp) string {
	t.Helper()
	var v struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}
	if err := xml.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode S3 error %q: %v", r.body, err)
	}
	return v.Code
}

func TestMultipartUpload(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 1000 })
	src := randomBytes(3500, 7)
	f := e.createFile(e.seed.RootFolderID, "clip.mxf", int64(len(src)))
	id := f["id"].(string)
	urls := uploadURLs(t, f)
	var sizes []int64
	for _, u := range urls {
		sizes = append(sizes, u.Size)
	}
	if diff := cmp.Diff([]int64{875, 875, 875, 875}, sizes); diff != "" {
		t.Fatalf("part sizes (-want +got):\n%s", diff)
	}

	// Parts go up concurrently and in any order; the last one to land completes the file.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var etags []string
	for i := len(urls) - 1; i >= 0; i-- {
		off := int64(i) * 875
		wg.Go(func() {
			r := e.putPart(urls[i].URL, src[off:off+urls[i].Size], "application/mxf", nil)
			mu.Lock()
			defer mu.Unlock()
			if r.status != http.StatusOK {
				t.Errorf("part %d: status %d, body %s", i, r.status, r.body)
			}
			etags = append(etags, r.header.Get("ETag"))
		})
		if i == 2 {
			wg.Wait() // check the half-done state once
			info, _ := e.emu.FileInfo(id)
			if info.Status != "created" || info.PartsReceived != 2 || info.BLAKE3 != "" {
				t.Errorf("half-way FileInfo = %+v, want created with 2 parts and no hash", info)
			}
		}
	}
	wg.Wait()
	for _, tag := range etags {
		if len(tag) != 34 || !strings.HasPrefix(tag, `"`) {
			t.Errorf("ETag = %q, want a quoted hex digest", tag)
		}
	}

	want := FileInfo{ID: id, Name: "clip.mxf", ParentID: e.seed.RootFolderID, Size: 3500,
		BLAKE3: blake3Hex(src), Status: "uploaded", PartsReceived: 4}
	info, ok := e.emu.FileInfo(id)
	if diff := cmp.Diff(want, info); !ok || diff != "" {
		t.Errorf("FileInfo (-want +got):\n%s", diff)
	}
	var viaHTTP FileInfo
	r := e.mustStatus(e.callToken("GET", "/_emulator/files/"+id, nil, ""), http.StatusOK)
	if err := jsonUnmarshal(r.body, &viaHTTP); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, viaHTTP); diff != "" {
		t.Errorf("/_emulator/files (-want +got):\n%s", diff)
	}
	st := e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"/status", nil), http.StatusOK).json(t)["data"].(map[string]any)
	if st["upload_complete"] != true || st["upload_completed_at"] == nil || st["uploaded_at"] == nil {
		t.Errorf("status = %v, want complete with times", st)
	}
	show := e.mustStatus(e.call("GET", e.acct()+"/files/"+id, nil), http.StatusOK).json(t)["data"].(map[string]any)
	if show["status"] != "uploaded" {
		t.Errorf("show status = %v, want uploaded", show["status"])
	}

	// A re-PUT overwrites its part, and the hash follows the stored bytes.
	changed := bytes.Clone(src)
	changed[0] ^= 0xff
	e.mustStatus(e.putPart(urls[0].URL, changed[:875], "application/mxf", nil), http.StatusOK)
	if info, _ := e.emu.FileInfo(id); info.BLAKE3 != blake3Hex(changed) {
		t.Errorf("BLAKE3 after re-PUT = %s, want %s", info.BLAKE3, blake3Hex(changed))
	}
	if got := e.emu.Stats().BytesReceived; got != 3500+875 {
		t.Errorf("bytes_received = %d, want %d", got, 3500+875)
	}
}

func jsonUnmarshal(b []byte, v any) error { return decodeStrict(b, v) }

func TestPartRejections(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 100 })
	f := e.createFile(e.seed.RootFolderID, "a.wav", 10)
	u := uploadURLs(t, f)[0].URL
	body := []byte("0123456789")
	withQuery := func(edit func(url.Values)) string {
		pu, _ := url.Parse(u)
		q := pu.Query()
		edit(q)
		pu.RawQuery = q.Encode()
		return pu.String()
	}
	tests := []struct {
		name       string
		url        string
		body       []byte
		edit       func(*http.Request)
		advance    time.Duration
		wantStatus int
		wantCode   string
	}{
		{name: "missing acl", edit: func(r *http.Request) { r.Header.Del("x-amz-acl") },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "public acl", edit: func(r *http.Request) { r.Header.Set("x-amz-acl", "public-read") },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "wrong content type", edit: func(r *http.Request) { r.Header.Set("Content-Type", "application/octet-stream") },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "missing content type", edit: func(r *http.Request) { r.Header.Del("Content-Type") },
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered signature", url: withQuery(func(q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) }),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "stretched expiry", url: withQuery(func(q url.Values) { q.Set("X-Amz-Expires", "999999") }),
			wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "no signature", url: withQuery(func(q url.Values) { q.Del("X-Amz-Signature") }),
			wantStatus: 403, wantCode: "AccessDenied"},
		{name: "expired", advance: 24*time.Hour + time.Second, wantStatus: 403, wantCode: "AccessDenied"},
		{name: "short content length", body: body[:5], wantStatus: 403, wantCode: "SignatureDoesNotMatch"},
		{name: "chunked", edit: func(r *http.Request) { r.ContentLength = -1; r.Body = io.NopCloser(bytes.NewReader(body)) },
			wantStatus: 403, wantCode: "MissingContentLength"},
		{name: "bearer token", edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+e.seed.Token) },
			wantStatus: 400, wantCode: "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Add(tt.advance)
			defer e.clock.Add(-tt.advance)
			target := u
			if tt.url != "" {
				target = tt.url
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			r := e.putPart(target, b, "audio/wav", tt.edit)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if got := s3Code(t, r); got != tt.wantCode {
				t.Errorf("code %q, want %q", got, tt.wantCode)
			}
		})
	}
	if info, _ := e.emu.FileInfo(f["id"].(string)); info.PartsReceived != 0 {
		t.Fatalf("a refused PUT stored a part: %+v", info)
	}
	t.Run("just before expiry", func(t *testing.T) {
		e.clock.Add(24*time.Hour - time.Second)
		defer e.clock.Add(-(24*time.Hour - time.Second))
		e.mustStatus(e.putPart(u, body, "audio/wav", nil), http.StatusOK)
	})
	got := e.emu.Stats().Requests[routePart]
	want := map[string]int64{"200": 1, "400": 1, "403": int64(len(tests) - 1)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PUT part stats (-want +got):\n%s", diff)
	}
}

func TestIncompleteBody(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 1 << 20 })
	f := e.createFile(e.seed.RootFolderID, "a.bin", 1000)
	u := uploadURLs(t, f)[0].URL
	// A body that ends before its Content-Length: the client gives up mid-request.
	req, _ := http.NewRequest(http.MethodPut, u, io.MultiReader(bytes.NewReader(make([]byte, 100)), errReader{}))
	req.ContentLength = 1000
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("x-amz-acl", "private")
	if res, err := e.srv.Client().Do(req); err == nil {
		res.Body.Close()
	}
	if info, _ := e.emu.FileInfo(f["id"].(string)); info.PartsReceived != 0 {
		t.Fatalf("a cut-off body stored a part: %+v", info)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("client gave up") }

func TestLatencyRespectsContext(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Latency = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v4/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.seed.Token)
	done := make(chan error, 1)
	go func() {
		res, err := e.srv.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("request error = %v, want context.Canceled", err)
	}
	e.emu.SetFaults(Faults{})
	e.mustStatus(e.call("GET", "/v4/me", nil), http.StatusOK)
}
