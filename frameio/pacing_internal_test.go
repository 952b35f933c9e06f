package frameio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fiosync/fiosync/emulator"
)

// staticBearer sends one token on every request.
type staticBearer string

func (b staticBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestPacingFollowsHeaders holds that the client paces from the x-ratelimit-* headers rather
// than the documented limits: an emulator with limits off announces a very large limit, so a
// client without WithoutPacing stops pacing after its first answer, and a scaled emulator's
// smaller limit slows the client down to it.
func TestPacingFollowsHeaders(t *testing.T) {
	for _, tt := range []struct {
		scale  float64
		wantN  int
		window time.Duration
	}{
		{scale: 0, wantN: 1_000_000_000, window: time.Second},
		{scale: 0.2, wantN: 1, window: time.Second},
		{scale: 3, wantN: 15, window: time.Second},
	} {
		o := emulator.DefaultOptions()
		o.RateLimitScale = tt.scale
		emu, err := emulator.New(o)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(emu)
		cl, err := New(srv.URL, &http.Client{Transport: staticBearer(emu.Seed().Token)})
		if err != nil {
			t.Fatal(err)
		}
		key := "GET " + routeFiles
		if c := cl.pace.class(key); c.n != 5 {
			t.Errorf("scale %v: before any answer the class has limit %d, want the documented 5", tt.scale, c.n)
		}
		for _, err := range cl.Files(context.Background(), emu.Seed().AccountID, emu.Seed().RootFolderID) {
			if err != nil {
				t.Fatal(err)
			}
		}
		c := cl.pace.class(key)
		c.mu.Lock()
		n, window, burst := c.n, c.window, c.lim.Burst()
		c.mu.Unlock()
		if n != tt.wantN || window != tt.window || burst != max(1, tt.wantN-1) {
			t.Errorf("scale %v: class paces %d per %s with burst %d, want %d per %s with burst %d",
				tt.scale, n, window, burst, tt.wantN, tt.window, max(1, tt.wantN-1))
		}
		srv.Close()
		if err := emu.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestMovePacing holds that the client starts pacing each move endpoint at its documented
// limit and that the emulator announces the same limit (100, 60 and 10 a minute; renames 100),
// so a run of moves is paced from its first call rather than learning from a 429.
func TestMovePacing(t *testing.T) {
	o := emulator.DefaultOptions()
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer func() {
		srv.Close()
		emu.Close()
	}()
	s := emu.Seed()
	cl, err := New(srv.URL, &http.Client{Transport: staticBearer(s.Token)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		route string
		call  func() error
		n     int
	}{
		{routeMoveFile, func() error { _, err := cl.MoveFile(ctx, s.AccountID, "nope", s.RootFolderID); return err }, 100},
		{routeMoveFiles, func() error { _, err := cl.MoveFiles(ctx, s.AccountID, s.RootFolderID, []string{"nope"}); return err }, 60},
		{routeMoveStack, func() error { _, err := cl.MoveVersionStack(ctx, s.AccountID, "nope", s.RootFolderID); return err }, 10},
		{routeFile, func() error { _, err := cl.RenameFile(ctx, s.AccountID, "nope", "x.mov"); return err }, 100},
	} {
		key := "PATCH " + tt.route
		if c := cl.pace.class(key); c.n != tt.n || c.window != time.Minute {
			t.Errorf("%s: paced at %d per %s before any answer, want %d per minute", key, c.n, c.window, tt.n)
		}
		if err := tt.call(); !IsNotFound(err) {
			t.Fatalf("%s: %v, want a 404 for the unknown id", key, err)
		}
		c := cl.pace.class(key)
		c.mu.Lock()
		n, window := c.n, c.window
		c.mu.Unlock()
		if n != tt.n || window != time.Minute {
			t.Errorf("%s: the emulator announced %d per %s, want %d per minute", key, n, window, tt.n)
		}
	}
}
