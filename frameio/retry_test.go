package frameio_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sourcegraph/conc/pool"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
)

const (
	routeFile       = "GET /v4/accounts/{a}/files/{id}"
	routeStatus     = "GET /v4/accounts/{a}/files/{id}/status"
	routeFiles      = "GET /v4/accounts/{a}/folders/{f}/files"
	routeNewFolder  = "POST /v4/accounts/{a}/folders/{f}/folders"
	routeDeleteFile = "DELETE /v4/accounts/{a}/files/{id}"
	routePart       = "PUT part"
)

// TestPagination lists 1,200 files 500 per page, stops early, and ends on an error once.
func TestPagination(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID
	const n = 1200
	for i := range n {
		if _, err := e.client.CreateLocalUpload(ctx, a, root, "f"+string(rune('a'+i%26))+".wav", 1); err != nil {
			t.Fatalf("CreateLocalUpload %d: %v", i, err)
		}
	}

	t.Run("all pages", func(t *testing.T) {
		before := requests(e, routeFiles, "200")
		got, err := drain(e.client.Files(ctx, a, root))
		if err != nil || got != n {
			t.Fatalf("Files yielded %d items, err %v; want %d, nil", got, err, n)
		}
		if pages := requests(e, routeFiles, "200") - before; pages != 3 {
			t.Errorf("Files took %d requests, want 3 pages of 500", pages)
		}
	})

	t.Run("consumer stops early", func(t *testing.T) {
		before := requests(e, routeFiles, "200")
		seen := 0
		for _, err := range e.client.Files(ctx, a, root) {
			if err != nil {
				t.Fatalf("Files: %v", err)
			}
			if seen++; seen == 600 {
				break
			}
		}
		if pages := requests(e, routeFiles, "200") - before; pages != 2 {
			t.Errorf("breaking after 600 items took %d requests, want 2", pages)
		}
	})

	t.Run("error is yielded once", func(t *testing.T) {
		yields := 0
		for _, err := range e.client.Files(ctx, a, "nope") {
			yields++
			if !frameio.IsNotFound(err) {
				t.Errorf("yield %d: err = %v, want 404", yields, err)
			}
		}
		if yields != 1 {
			t.Errorf("yields = %d, want 1", yields)
		}
	})
}

// TestRetryClassification checks which failures are retried, with every API call failing.
func TestRetryClassification(t *testing.T) {
	opts := noLimits()
	opts.APIFaultRate = 1
	e := newEnv(t, opts, frameio.WithoutPacing(),
		frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxWait: time.Second}))
	ctx := t.Context()
	a := e.seed.AccountID
	faults := func(route string) int64 { return requests(e, route, "500") + requests(e, route, "503") }
	tests := []struct {
		name      string
		route     string
		call      func() error
		wantSends int64
	}{
		{"GET is retried on 5xx", routeFile, func() error { _, err := e.client.File(ctx, a, "x"); return err }, 3},
		{"DELETE is retried on 5xx", routeDeleteFile, func() error { return e.client.DeleteFile(ctx, a, "x") }, 3},
		{"POST is never retried on 5xx", routeNewFolder, func() error {
			_, err := e.client.CreateFolder(ctx, a, e.seed.RootFolderID, "x")
			return err
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := faults(tt.route)
			err := tt.call()
			if code := frameio.StatusCode(err); code != 500 && code != 503 {
				t.Fatalf("err = %v, want a 5xx *APIError", err)
			}
			if got := faults(tt.route) - before; got != tt.wantSends {
				t.Errorf("requests sent = %d, want %d", got, tt.wantSends)
			}
		})
	}
}

// TestCreateRetriedWhenNeverSent points a client whose API has answered once at a port
// closed since: a create that could not connect provably did not happen, so it is retried.
func TestCreateRetriedWhenNeverSent(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	base := dead.URL
	var log syncBuffer
	c, err := frameio.New(base, http.DefaultClient, frameio.WithLogger(debugLogger(&log)),
		frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxWait: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(t.Context()); frameio.StatusCode(err) != 404 {
		t.Fatalf("Me before the close: %v, want a 404", err)
	}
	dead.Close()
	before := strings.Count(log.String(), "api call failed")
	_, err = c.CreateFolder(t.Context(), "a", "f", "Day 01")
	if err == nil || !strings.Contains(err.Error(), "give up after 3 attempts") {
		t.Errorf("err = %v, want it to give up after 3 attempts", err)
	}
	if got := strings.Count(log.String(), "api call failed") - before; got != 3 {
		t.Errorf("attempts logged = %d, want 3", got)
	}
}

// TestDeleteLostAnswer puts a proxy in front of the emulator that lets the first DELETE through
// but answers it 502, as a load balancer that lost the answer would. The retry gets 404, which
// counts as done.
func TestDeleteLostAnswer(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	f, err := e.client.CreateLocalUpload(ctx, e.seed.AccountID, e.seed.RootFolderID, "x.mov", 1)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(e.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var deletes atomic.Int64
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodDelete && deletes.Add(1) == 1 {
			r.StatusCode = http.StatusBadGateway
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	c, err := frameio.New(front.URL, &http.Client{Transport: &bearerTransport{src: e.token}}, frameio.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFile(ctx, e.seed.AccountID, f.ID); err != nil {
		t.Errorf("DeleteFile: %v, want success", err)
	}
	if got := deletes.Load(); got != 2 {
		t.Errorf("DELETEs sent = %d, want 2", got)
	}
	if info := fileInfo(t, e, f.ID); info.Status != "deleted" {
		t.Errorf("file status = %q, want deleted", info.Status)
	}
}

// TestTokenRefresh covers 401 with and without the refresh hook.
func TestTokenRefresh(t *testing.T) {
	tests := []struct {
		name        string
		hook        bool
		hookFixes   bool
		hookFails   bool
		wantErr     bool
		wantCalls   int64
		wantFolders int
	}{
		{name: "no hook", wantErr: true},
		{name: "hook refreshes", hook: true, hookFixes: true, wantCalls: 1, wantFolders: 1},
		{name: "hook does not help", hook: true, wantErr: true, wantCalls: 1},
		{name: "hook fails", hook: true, hookFails: true, wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, noLimits(), frameio.WithoutPacing())
			e.token.set("expired-token")
			var calls counter
			var opts []frameio.Option
			if tt.hook {
				opts = append(opts, frameio.WithTokenRefresh(func(context.Context) error {
					calls.inc()
					switch {
					case tt.hookFails:
						return errors.New("refresh token rejected")
					case tt.hookFixes:
						e.token.set(e.seed.Token)
					}
					return nil
				}))
			}
			c := e.newClient(t, opts...)
			ctx := t.Context()

			_, meErr := c.Me(ctx)
			e.token.set("expired-token")
			_, createErr := c.CreateFolder(ctx, e.seed.AccountID, e.seed.RootFolderID, "Day 01")
			for name, err := range map[string]error{"Me": meErr, "CreateFolder": createErr} {
				if (err != nil) != tt.wantErr {
					t.Errorf("%s: err = %v, want error %v", name, err, tt.wantErr)
				}
				if err != nil && !frameio.IsUnauthorized(err) {
					t.Errorf("%s: err = %v, want a 401 *APIError", name, err)
				}
			}
			if got := calls.get(); got != 2*tt.wantCalls {
				t.Errorf("refresh calls = %d, want %d (one per failed call)", got, 2*tt.wantCalls)
			}
			folders, err := drain(e.newClient(t).Folders(ctx, e.seed.AccountID, e.seed.RootFolderID))
			if tt.hookFixes && (err != nil || folders != tt.wantFolders) {
				t.Errorf("folders = %d (err %v), want %d: a refreshed create runs once", folders, err, tt.wantFolders)
			}
		})
	}
}

// TestPacing sends a burst of calls at the documented limits: the client's own pacing keeps
// the emulator from answering 429.
func TestPacing(t *testing.T) {
	e := newEnv(t, emulator.DefaultOptions())
	ctx := t.Context()
	a := e.seed.AccountID
	f, err := e.client.CreateLocalUpload(ctx, a, e.seed.RootFolderID, "x.mov", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(20)
	for range 20 {
		p.Go(func(ctx context.Context) error {
			_, err := e.client.FileStatus(ctx, a, f.ID)
			return err
		})
	}
	for i := range 6 {
		p.Go(func(ctx context.Context) error {
			_, err := e.client.CreateFolder(ctx, a, e.seed.RootFolderID, "Day "+string(rune('1'+i)))
			return err
		})
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("burst: %v", err)
	}
	got := map[string]map[string]int64{}
	for _, r := range []string{routeStatus, routeNewFolder} {
		got[r] = e.emu.Stats().Requests[r]
	}
	want := map[string]map[string]int64{routeStatus: {"200": 20}, routeNewFolder: {"201": 6}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// TestRateLimitedWithoutPacing turns pacing off and floods the emulator: 429s come back, with or
// without Retry-After, and the client backs off until every call succeeds. Creates are retried
// on 429 too, without duplicates.
func TestRateLimitedWithoutPacing(t *testing.T) {
	t.Parallel()
	for _, noRetryAfter := range []bool{false, true} {
		name := "with Retry-After"
		if noRetryAfter {
			name = "without Retry-After"
		}
		t.Run(name, func(t *testing.T) {
			opts := emulator.DefaultOptions()
			opts.NoRetryAfter = noRetryAfter
			e := newEnv(t, opts, frameio.WithoutPacing(), frameio.WithRetry(frameio.RetryPolicy{
				MaxAttempts: 20, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxWait: 30 * time.Second}))
			ctx := t.Context()
			a := e.seed.AccountID
			f, err := e.client.CreateLocalUpload(ctx, a, e.seed.RootFolderID, "x.mov", 1)
			if err != nil {
				t.Fatal(err)
			}
			p := pool.New().WithErrors().WithContext(ctx).WithMaxGoroutines(12)
			for range 12 {
				p.Go(func(ctx context.Context) error {
					_, err := e.client.FileStatus(ctx, a, f.ID)
					return err
				})
			}
			for i := range 5 {
				p.Go(func(ctx context.Context) error {
					_, err := e.client.CreateFolder(ctx, a, e.seed.RootFolderID, "Day "+string(rune('1'+i)))
					return err
				})
			}
			if err := p.Wait(); err != nil {
				t.Fatalf("flood: %v", err)
			}
			if n := requests(e, routeStatus, "429"); n == 0 {
				t.Errorf("status calls saw no 429; the test did not exercise backoff")
			}
			if n := requests(e, routeStatus, "200"); n != 12 {
				t.Errorf("status 200s = %d, want 12", n)
			}
			if n := requests(e, routeNewFolder, "201"); n != 5 {
				t.Errorf("folders created = %d, want 5 (no duplicates, none lost)", n)
			}
		})
	}
}

// TestUnreachableFailsFast: before the API has answered once, a refused connection or a
// name that does not resolve is a wrong origin, reported at once as *UnreachableError.
func TestUnreachableFailsFast(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	refused := dead.URL
	dead.Close()
	for _, base := range []string{refused, "http://nosuch.invalid"} {
		t.Run(base, func(t *testing.T) {
			c, err := frameio.New(base, http.DefaultClient,
				frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: time.Second, MaxWait: time.Minute}))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = c.Me(t.Context())
			var ue *frameio.UnreachableError
			if !errors.As(err, &ue) || ue.Origin != base {
				t.Fatalf("err = %v, want *UnreachableError for %s", err, base)
			}
			if d := time.Since(start); d > 900*time.Millisecond {
				t.Errorf("took %v, want no backoff", d)
			}
		})
	}
}

// TestBaseURLError: an origin without a scheme is refused with a typed error.
func TestBaseURLError(t *testing.T) {
	_, err := frameio.New("127.0.0.1:44511", http.DefaultClient)
	var be *frameio.BaseURLError
	if !errors.As(err, &be) || be.URL != "127.0.0.1:44511" {
		t.Fatalf("err = %v, want *BaseURLError", err)
	}
}

// TestCreateRate holds that CreateRate reports the pace of local-upload creates: the
// documented 5/s (less the safety margin) before any answer, what the server announces after
// the first create, and 0 without pacing.
func TestCreateRate(t *testing.T) {
	for _, tt := range []struct {
		name          string
		scale         float64
		opts          []frameio.Option
		before, after float64
	}{
		{"documented", 1, nil, 4.5, 4.5},
		{"scaled", 3, nil, 4.5, 13.5},
		{"unpaced", 1, []frameio.Option{frameio.WithoutPacing()}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := emulator.DefaultOptions()
			opts.RateLimitScale = tt.scale
			e := newEnv(t, opts, tt.opts...)
			if got := e.client.CreateRate(); math.Abs(got-tt.before) > 1e-9 {
				t.Errorf("before any create: %v, want %v", got, tt.before)
			}
			if _, err := e.client.CreateLocalUpload(t.Context(), e.seed.AccountID, e.seed.RootFolderID, "x.mov", 1); err != nil {
				t.Fatal(err)
			}
			if got := e.client.CreateRate(); math.Abs(got-tt.after) > 1e-9 {
				t.Errorf("after a create: %v, want %v", got, tt.after)
			}
		})
	}
}
