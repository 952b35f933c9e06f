package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/emulator"
)

// elsewhere is another origin that writes down what reaches it.
type elsewhere struct {
	mu    sync.Mutex
	seen  []string // method, path, Authorization and body of each request
	calls int
}

func (e *elsewhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.calls++
	e.seen = append(e.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body))
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"access_token":"stolen","token_type":"bearer","expires_in":3600}`))
}

func (e *elsewhere) check(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls != 0 {
		t.Errorf("the other origin got %d requests: %q", e.calls, e.seen)
	}
}

// redirecting serves the emulator at its own origin, except that path answers with a
// redirect to target (made relative to the emulator's origin when it starts with "/").
func redirecting(t *testing.T, m *ims, path string, code int, target func() string) *httptest.Server {
	t.Helper()
	emu := m.emu
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			http.Redirect(w, r, target(), code)
			return
		}
		if r.URL.Path == path+"-moved" {
			r.URL.Path = path
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestIMSRedirectKeepsTheSecret: a 307 from the token endpoint to another origin would make
// net/http post client_secret there again (hole 5 of issue 16); the token request fails naming
// both origins instead. A 307 within the IMS origin is followed.
func TestIMSRedirectKeepsTheSecret(t *testing.T) {
	m := newIMS(t, nil)
	other := &elsewhere{}
	evil := httptest.NewServer(other)
	defer evil.Close()
	away := redirecting(t, m, "/ims/token/v3", http.StatusTemporaryRedirect, func() string { return evil.URL + "/ims/token/v3?sig=presigned-secret" })

	cred, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: away.URL,
		ClientID: emulator.ServerClientID, ClientSecret: emulator.ServerClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.Token()
	if !errors.Is(err, auth.ErrCrossOriginRedirect) {
		t.Fatalf("Token error %v, want ErrCrossOriginRedirect", err)
	}
	for _, want := range []string{away.URL, evil.URL} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name origin %s", err, want)
		}
	}
	for _, leak := range []string{"presigned-secret", emulator.ServerClientSecret} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error %q shows %q", err, leak)
		}
	}
	other.check(t)

	home := redirecting(t, m, "/ims/token/v3", http.StatusTemporaryRedirect, func() string { return "/ims/token/v3-moved" })
	cred, err = auth.Resolve(context.Background(), auth.Settings{IMSURL: home.URL,
		ClientID: emulator.ServerClientID, ClientSecret: emulator.ServerClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.Token(); err != nil {
		t.Fatalf("Token through a same-origin 307: %v", err)
	}
}

// TestAPIRedirectKeepsTheToken: Credential.Client authorizes every request it sends, so a
// redirect to another origin must not be followed (hole 5 of issue 16), whoever uses the
// client; the frameio client refuses it too, on its own.
func TestAPIRedirectKeepsTheToken(t *testing.T) {
	m := newIMS(t, nil)
	other := &elsewhere{}
	evil := httptest.NewServer(other)
	defer evil.Close()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		api := redirecting(t, m, "/v4/me", code, func() string { return evil.URL + "/v4/me" })
		cred, err := auth.Resolve(context.Background(), auth.Settings{Token: m.emu.Seed().Token})
		if err != nil {
			t.Fatal(err)
		}
		res, err := cred.Client().Get(api.URL + "/v4/me")
		if err == nil {
			res.Body.Close()
		}
		if !errors.Is(err, auth.ErrCrossOriginRedirect) {
			t.Errorf("%d: GET error %v, want ErrCrossOriginRedirect", code, err)
		}
		m.url = api.URL
		if _, err := m.me(cred); err == nil || !strings.Contains(err.Error(), evil.URL) {
			t.Errorf("%d: Me error %v, want a refused redirect to %s", code, err, evil.URL)
		}
	}
	other.check(t)

	home := redirecting(t, m, "/v4/me", http.StatusFound, func() string { return "/v4/me-moved" })
	cred, err := auth.Resolve(context.Background(), auth.Settings{Token: m.emu.Seed().Token})
	if err != nil {
		t.Fatal(err)
	}
	m.url = home.URL
	if _, err := m.me(cred); err != nil {
		t.Fatalf("Me through a same-origin redirect: %v", err)
	}
}

// TestWatchSecrets: a watcher hears every secret the credential holds, renewed tokens as soon
// as they arrive, so the CLI can scrub them from what it prints.
func TestWatchSecrets(t *testing.T) {
	m := newIMS(t, nil)
	cred := m.login()
	seen := map[string]bool{}
	var mu sync.Mutex
	cred.WatchSecrets(func(v string) { mu.Lock(); seen[v] = true; mu.Unlock() })
	c := m.readCache()
	if !seen[c.AccessToken] || !seen[c.RefreshToken] {
		t.Errorf("the watcher did not hear the cached login's tokens")
	}
	if err := cred.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	c = m.readCache()
	if !seen[c.AccessToken] || !seen[c.RefreshToken] {
		t.Errorf("the watcher did not hear the renewed tokens")
	}
	cc, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url, ClientID: emulator.ServerClientID, ClientSecret: emulator.ServerClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	cc.WatchSecrets(func(v string) { mu.Lock(); seen[v] = true; mu.Unlock() })
	if !seen[emulator.ServerClientSecret] {
		t.Errorf("the watcher did not hear the client secret")
	}
}
