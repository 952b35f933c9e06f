package frameio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
)

func TestPartOffsets(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int64
		total   int64
		want    []int64
		wantErr bool
	}{
		{"documented example", []int64{16881997, 16881997, 16881996}, 50645990, []int64{0, 16881997, 33763994}, false},
		{"one part", []int64{10}, 10, []int64{0}, false},
		{"no parts, empty file", nil, 0, []int64{}, false},
		{"sizes short of the file", []int64{5, 5}, 11, nil, true},
		{"sizes past the file", []int64{5, 7}, 11, nil, true},
		{"negative size", []int64{12, -1}, 11, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := make([]frameio.UploadURL, len(tt.sizes))
			for i, s := range tt.sizes {
				parts[i] = frameio.UploadURL{Size: s, URL: "https://s3.example/part?X-Amz-Signature=abc"}
			}
			got, err := frameio.PartOffsets(parts, tt.total)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://s3.example/bucket/key?X-Amz-Signature=abc&X-Amz-Date=1", "https://s3.example/bucket/key"},
		{"https://user:pw@host/p#frag", "https://host/p"},
		{"/v4/accounts/a/files?page_size=1", "/v4/accounts/a/files"},
		{"%zz?secret=1", "%zz"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := frameio.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *frameio.APIError
		want string
	}{
		{"bare", &frameio.APIError{StatusCode: 503, Method: "GET", Path: "/v4/me"},
			"GET /v4/me: 503 Service Unavailable"},
		{"full", &frameio.APIError{StatusCode: 422, Method: "POST", Path: "/v4/accounts/a/folders/f/folders",
			Errors:    []frameio.ErrorItem{{Title: "Unprocessable Entity", Detail: "name must\nnot be empty", Source: frameio.ErrorSource{Pointer: "/data/name"}}, {Title: "x"}},
			RequestID: "r1"},
			"POST /v4/accounts/a/folders/f/folders: 422 Unprocessable Entity: name must not be empty (at /data/name) (and 1 more) [request id r1]"},
		{"parameter", &frameio.APIError{StatusCode: 400, Method: "GET", Path: "/v4/x",
			Errors: []frameio.ErrorItem{{Detail: "bad", Source: frameio.ErrorSource{Parameter: "page_size"}}}},
			"GET /v4/x: 400 Bad Request: bad (parameter page_size)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// clock is an emulator clock that tests move forward by hand.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// TestPartRejected checks every reason for a 403 on a part: each is reported as
// ErrURLRejected with its S3 code after exactly one PUT.
func TestPartRejected(t *testing.T) {
	var clk clock
	opts := noLimits()
	opts.Now = clk.now
	e := newEnv(t, opts, frameio.WithoutPacing())
	ctx := t.Context()
	src := bytes.Repeat([]byte("x"), 1000)
	newPart := func(t *testing.T) (frameio.UploadURL, string) {
		f, err := e.client.CreateLocalUpload(ctx, e.seed.AccountID, e.seed.RootFolderID, "clip.mov", int64(len(src)))
		if err != nil {
			t.Fatal(err)
		}
		return f.UploadURLs[0], f.MediaType
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, p *frameio.UploadURL, mediaType *string)
	}{
		{"wrong media type", func(_ *testing.T, _ *frameio.UploadURL, mt *string) { *mt = "application/pdf" }},
		{"tampered signature", func(t *testing.T, p *frameio.UploadURL, _ *string) {
			u, err := url.Parse(p.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("X-Amz-Signature", strings.Repeat("0", 64))
			u.RawQuery = q.Encode()
			p.URL = u.String()
		}},
		{"expired URL", func(*testing.T, *frameio.UploadURL, *string) { clk.advance(25 * time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part, mt := newPart(t)
			tt.mutate(t, &part, &mt)
			before := requests(e, routePart, "403")
			err := e.client.UploadPart(ctx, part, mt, bytes.NewReader(src))
			if !errors.Is(err, frameio.ErrURLRejected) {
				t.Fatalf("err = %v, want ErrURLRejected", err)
			}
			if !regexp.MustCompile(`: [A-Z][A-Za-z]+: part URL expired or rejected$`).MatchString(err.Error()) {
				t.Errorf("err = %q, want the S3 code before the sentinel", err)
			}
			if got := requests(e, routePart, "403") - before; got != 1 {
				t.Errorf("PUTs answered 403 = %d, want 1 (no retry)", got)
			}
		})
	}
}

// TestPartShortSource gives UploadPart a source shorter than the part: that is the caller's
// bug, not the network's, so it fails at once.
func TestPartShortSource(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	var log syncBuffer
	c := e.newClient(t, frameio.WithLogger(debugLogger(&log)))
	f, err := c.CreateLocalUpload(t.Context(), e.seed.AccountID, e.seed.RootFolderID, "clip.mov", 1000)
	if err != nil {
		t.Fatal(err)
	}
	err = c.UploadPart(t.Context(), f.UploadURLs[0], f.MediaType, bytes.NewReader(make([]byte, 10)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := strings.Count(log.String(), "part put"); got != 1 {
		t.Errorf("part attempts logged = %d, want 1", got)
	}
}

// TestUploadUnderFaults is the fault test: a 200 MB local upload with 30% of part PUTs
// answered 500, 10% cut mid-body, rate limits as documented and, once the file exists, 30% of
// API calls failing. Every part gets through and the stored BLAKE3 equals the source's.
func TestUploadUnderFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("200 MB upload")
	}
	opts := emulator.DefaultOptions()
	opts.PartFaultRate = 0.3
	opts.ResetRate = 0.1
	opts.PartSize = 5 << 20 // 39 parts: enough dice rolls that resets surely happen
	opts.FaultSeed = 2026
	e := newEnv(t, opts)
	ctx := t.Context()
	const size = 200_000_000
	src := newGenReader(size, 42)
	f, err := upload(ctx, e.client, e.seed, "A001.mov", src, size, 4)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}

	e.emu.SetFaults(emulator.Faults{APIFaultRate: 0.3, RateLimitScale: 1})
	for range 5 {
		st, err := e.client.FileStatus(ctx, e.seed.AccountID, f.ID)
		if err != nil {
			t.Fatalf("FileStatus: %v", err)
		}
		if !st.UploadComplete {
			t.Errorf("FileStatus = %+v, want complete", st)
		}
		if _, err := e.client.File(ctx, e.seed.AccountID, f.ID); err != nil {
			t.Fatalf("File: %v", err)
		}
	}
	if n, err := drain(e.client.Files(ctx, e.seed.AccountID, e.seed.RootFolderID)); err != nil || n != 1 {
		t.Errorf("Files = %d items, err %v; want 1, nil", n, err)
	}

	info := fileInfo(t, e, f.ID)
	if want := blake3Hex(t, src, size); info.BLAKE3 != want || info.Size != size {
		t.Errorf("stored size %d BLAKE3 %s, want %d %s", info.Size, info.BLAKE3, int64(size), want)
	}
	stats := e.emu.Stats()
	part := stats.Requests[routePart]
	if part["500"] == 0 || part["reset"] == 0 {
		t.Errorf("part answers %v: want some 500s and resets, or the test proves nothing", part)
	}
	faults := stats.Requests[routeStatus]["500"] + stats.Requests[routeStatus]["503"] +
		stats.Requests[routeFile]["500"] + stats.Requests[routeFile]["503"]
	t.Logf("parts: %v; API faults on reads: %d; 429s on status: %d", part, faults, stats.Requests[routeStatus]["429"])
}

// TestNoSecretsLeak drives every failure path with a debug logger on and checks that no error
// and no log line holds a token or a part URL's signature.
func TestNoSecretsLeak(t *testing.T) {
	t.Parallel()
	opts := noLimits()
	opts.PartFaultRate = 0.3
	opts.ResetRate = 0.2
	e := newEnv(t, opts, frameio.WithoutPacing())
	var log syncBuffer
	var errs []string
	var mu sync.Mutex
	record := func(err error) {
		if err != nil {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err.Error())
		}
	}
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID
	badToken := "leaky-bad-token-0123456789"
	c := e.newClient(t, frameio.WithLogger(debugLogger(&log)))

	// Parts under faults and resets, then rejected, cut short and refused.
	src := newGenReader(5<<20, 7)
	f, err := upload(ctx, c, e.seed, "clip.mov", src, src.size, 3)
	record(err)
	secrets := []string{e.seed.Token, badToken}
	for _, p := range f.UploadURLs {
		u, err := url.Parse(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, u.Query().Get("X-Amz-Signature"))
		record(c.UploadPart(ctx, p, "text/plain", io.NewSectionReader(src, 0, p.Size)))
		record(c.UploadPart(ctx, p, f.MediaType, bytes.NewReader(nil)))
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		moved := strings.Replace(p.URL, e.url, dead.URL, 1)
		record(c.UploadPart(ctx, frameio.UploadURL{Size: p.Size, URL: moved}, f.MediaType, src))
		record(c.UploadPart(ctx, frameio.UploadURL{Size: p.Size, URL: "http://[::1" + p.URL[len(e.url):]}, f.MediaType, src))
	}
	// API errors: 404, 422, and a 401 with a token that must not show.
	_, err = c.File(ctx, a, "nope")
	record(err)
	_, err = c.CreateFolder(ctx, a, root, "")
	record(err)
	e.token.set(badToken)
	_, err = c.Me(ctx)
	record(err)
	record(firstErr(c.Children(ctx, a, root, frameio.ListOptions{PageSize: 1})))
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	record(c.UploadPart(ctxDone, f.UploadURLs[0], f.MediaType, src))

	if len(errs) < 8 {
		t.Fatalf("only %d errors recorded; the test did not exercise the failure paths: %q", len(errs), errs)
	}
	all := strings.Join(errs, "\n") + "\n" + log.String()
	if !strings.Contains(log.String(), "part put failed") {
		t.Errorf("log has no failed part attempt; resets were not exercised")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("secret %.8s... appears in errors or logs", s)
		}
	}
	for _, marker := range []string{"X-Amz-", "Bearer", "?"} {
		if strings.Contains(all, marker) {
			i := strings.Index(all, marker)
			t.Errorf("errors or logs contain %q: ...%s...", marker, all[max(0, i-80):min(len(all), i+80)])
		}
	}
}
