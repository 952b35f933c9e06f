package frameio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
)

// recorder is another origin that writes down what reaches it.
type recorder struct {
	mu    sync.Mutex
	hits  int
	auths []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	if a := req.Header.Get("Authorization"); a != "" {
		r.auths = append(r.auths, a)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"data":{"id":"evil","name":"evil"}}`))
}

// TestRedirectsStayOnTheOrigin: an API that answers with a redirect to another origin does not
// get the bearer token sent there (hole 5 of issue 16); the call fails naming both origins,
// without the Location's query. A redirect within the origin is followed, credentials and all.
func TestRedirectsStayOnTheOrigin(t *testing.T) {
	e := emutest.Start(t, noLimits())
	other := &recorder{}
	evil := httptest.NewServer(other)
	defer evil.Close()
	// The API origin serves the emulator, except that /v4/me redirects: elsewhere for
	// "away", to the emulator's own /v4/me for "home".
	var mode string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v4/me" && mode == "away":
			http.Redirect(w, r, evil.URL+"/v4/me?X-Amz-Signature=presigned-secret", http.StatusFound)
		case r.URL.Path == "/v4/me" && mode == "away-307":
			http.Redirect(w, r, evil.URL+"/collect", http.StatusTemporaryRedirect)
		case r.URL.Path == "/v4/me" && mode == "home":
			http.Redirect(w, r, "/v4/me-again", http.StatusTemporaryRedirect)
		case r.URL.Path == "/v4/me-again":
			r.URL.Path = "/v4/me"
			e.Emu.ServeHTTP(w, r)
		default:
			e.Emu.ServeHTTP(w, r)
		}
	}))
	defer api.Close()
	c := emutest.NewClient(t, api.URL, e.Seed.Token, frameio.WithoutPacing(), frameio.WithRetry(fastRetry))

	for _, m := range []string{"away", "away-307"} {
		mode = m
		_, err := c.Me(context.Background())
		if !errors.Is(err, frameio.ErrCrossOriginRedirect) {
			t.Fatalf("%s: Me error %v, want ErrCrossOriginRedirect", m, err)
		}
		for _, want := range []string{api.URL, evil.URL} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name origin %s", m, err, want)
			}
		}
		if strings.Contains(err.Error(), "presigned-secret") || strings.Contains(err.Error(), "/collect") {
			t.Errorf("%s: error %q repeats the Location beyond its origin", m, err)
		}
	}
	other.mu.Lock()
	if other.hits != 0 || len(other.auths) != 0 {
		t.Errorf("the other origin got %d requests, Authorization %q", other.hits, other.auths)
	}
	other.mu.Unlock()
	if n := e.Emu.Stats().Requests["GET /v4/me"]; len(n) != 0 {
		t.Errorf("the emulator saw GET /v4/me %v before any same-origin redirect", n)
	}

	mode = "home"
	u, err := c.Me(context.Background())
	if err != nil {
		t.Fatalf("Me through a same-origin redirect: %v", err)
	}
	if u.ID == "" {
		t.Errorf("Me through a same-origin redirect returned no user")
	}
}
