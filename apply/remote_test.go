package apply_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/apply"
)

func TestRemoteFailureStaysWithItsFile(t *testing.T) {
	tests := []struct {
		name    string
		handler func(block <-chan struct{}) http.HandlerFunc
		timeout time.Duration
	}{
		{
			name: "source answers 404",
			handler: func(<-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
			},
		},
		{
			name: "source breaks off",
			handler: func(<-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100000")
					w.Write(make([]byte, 1000))
					panic(http.ErrAbortHandler) // cut the connection mid-body
				}
			},
		},
		{
			name: "times out",
			handler: func(block <-chan struct{}) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100000")
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
					<-block
				}
			},
			timeout: 100 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testEmulatorOptions())
			block := make(chan struct{})
			src := httptest.NewServer(tt.handler(block))
			t.Cleanup(src.Close)
			t.Cleanup(func() { close(block) }) // runs first: lets the blocked handler end
			h.writeFile("ok.mov", 10<<10, 1)
			files := h.desired(spec{local: "ok.mov", to: "/R"}, spec{url: src.URL + "/bad.mp4", name: "bad.mp4", to: "/R"})

			res, err := h.apply(context.Background(), h.plan(files, false), files, apply.Options{RemoteTimeout: tt.timeout})
			if !errors.Is(err, apply.ErrFailed) {
				t.Fatalf("Run error = %v, want ErrFailed", err)
			}
			got := map[string]apply.Outcome{}
			for _, f := range res.Files {
				got[f.Address] = f.Outcome
			}
			want := map[string]apply.Outcome{"/R/ok.mov": apply.Done, "/R/bad.mp4": apply.Failed}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			h.verify(files[:1], nil)
			if e := h.loadState().Entries["/R/bad.mp4"]; e != nil {
				t.Errorf("state keeps %+v for a failed remote upload", e)
			}
			if got := h.live(); got != 1 {
				t.Errorf("files in Frame.io = %d, want 1 (the failed placeholder removed)", got)
			}
		})
	}
}

func TestManySmallFilesPaced(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds of real rate limiting")
	}
	opts := testEmulatorOptions()
	opts.RateLimitScale = 1
	h := newHarness(t, opts)
	const n = 20
	var srcs []spec
	for i := range n {
		name := "s" + string(rune('a'+i)) + ".txt"
		h.writeFile(name, 100, uint64(i))
		srcs = append(srcs, spec{local: name, to: "/Small"})
	}
	files := h.desired(srcs...)
	p := h.plan(files, false)
	start := time.Now()
	if _, err := h.apply(context.Background(), p, files, apply.Options{Parallel: 8}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	s := h.emu.Stats()
	var limited int64
	for _, codes := range s.Requests {
		limited += codes["429"]
	}
	t.Logf("%d files in %s (%.1f files/s), %d answers 429", n, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), limited)
	if limited > 2 {
		t.Errorf("%d requests were rate limited, want (almost) none: %v", limited, s.Requests)
	}
	if rate := n / elapsed.Seconds(); rate < 3 {
		t.Errorf("%.1f files/s, want close to 5", rate)
	}
}
