package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
)

// clock is a settable clock for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// ims is an emulator playing IMS and the API, with a clock the test moves.
type ims struct {
	t     *testing.T
	emu   *emulator.Emulator
	url   string
	clock *clock
	cache string // a token cache path in a fresh directory
}

func newIMS(t *testing.T, edit func(*emulator.Options)) *ims {
	t.Helper()
	c := &clock{t: time.Now()}
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.Now = c.Now
	if edit != nil {
		edit(&o)
	}
	e := emutest.Start(t, o)
	return &ims{t: t, emu: e.Emu, url: e.URL, clock: c, cache: filepath.Join(t.TempDir(), "fiosync", "token.json")}
}

// browser plays the person's browser: it follows the authorize URL, which the emulator
// redirects straight to the loopback listener, after letting edit change the URL.
func browser(t *testing.T, edit func(*url.URL)) (browse func(string), answer func() int) {
	var (
		mu     sync.Mutex
		status int
	)
	browse = func(authURL string) {
		u, err := url.Parse(authURL)
		if err != nil {
			t.Errorf("authorize URL %q: %v", authURL, err)
			return
		}
		if edit != nil {
			edit(u)
		}
		res, err := http.Get(u.String())
		if err != nil {
			t.Errorf("browse: %v", err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		mu.Lock()
		status = res.StatusCode
		mu.Unlock()
	}
	return browse, func() int {
		mu.Lock()
		defer mu.Unlock()
		return status
	}
}

// login logs in with the public client through a browser that changes nothing.
func (m *ims) login() *auth.Credential {
	m.t.Helper()
	browse, _ := browser(m.t, nil)
	cred, err := auth.Login(context.Background(), auth.LoginOptions{IMSURL: m.url, ClientID: emulator.PublicClientID, CachePath: m.cache, Browse: browse})
	if err != nil {
		m.t.Fatalf("Login: %v", err)
	}
	return cred
}

// me calls GET /v4/me through a frameio client on cred, refreshing once on 401.
func (m *ims) me(cred *auth.Credential) (*frameio.User, error) {
	c, err := frameio.New(m.url, cred.Client(), frameio.WithoutPacing(), frameio.WithTokenRefresh(cred.Refresh),
		frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		m.t.Fatal(err)
	}
	return c.Me(context.Background())
}

// refreshWorks reports whether IMS still accepts the refresh token (spending it if so).
func (m *ims) refreshWorks(rt string) bool {
	m.t.Helper()
	res, err := http.PostForm(m.url+"/ims/token/v3", url.Values{"grant_type": {"refresh_token"},
		"client_id": {emulator.PublicClientID}, "refresh_token": {rt}})
	if err != nil {
		m.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func (m *ims) readCache() *auth.Cache {
	m.t.Helper()
	c, err := auth.ReadCache(m.cache)
	if err != nil {
		m.t.Fatal(err)
	}
	return c
}

func TestLogin(t *testing.T) {
	m := newIMS(t, nil)
	browse, answer := browser(t, nil)
	var seen string
	cred, err := auth.Login(context.Background(), auth.LoginOptions{
		IMSURL: m.url + "/", ClientID: emulator.PublicClientID, CachePath: m.cache,
		Browse: func(u string) { seen = u; browse(u) },
	})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if answer() != http.StatusOK {
		t.Errorf("the loopback listener answered the browser %d, want 200", answer())
	}

	u, err := url.Parse(seen)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if u.Path != "/ims/authorize/v2" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") == "" || q.Get("response_type") != "code" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "0" {
		t.Errorf("authorize URL %s lacks PKCE S256, state or a loopback redirect", seen)
	}
	if got, want := q.Get("scope"), "openid profile email offline_access additional_info.roles"; got != want {
		t.Errorf("scope %q, want %q", got, want)
	}

	c := m.readCache()
	issued := m.emu.IMSTokens()
	want := &auth.Cache{Version: 1, IMSURL: m.url, ClientID: emulator.PublicClientID, AccessToken: issued[0], TokenType: "bearer", RefreshToken: issued[1]}
	if diff := cmp.Diff(want, c, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Expiry" }, cmp.Ignore())); diff != "" {
		t.Errorf("cache (-want +got):\n%s", diff)
	}
	if left := time.Until(c.Expiry); left < 59*time.Minute || left > time.Hour {
		t.Errorf("cached expiry in %v, want about an hour", left)
	}
	checkMode(t, m.cache, 0o600)
	checkMode(t, filepath.Dir(m.cache), 0o700|os.ModeDir)
	if entries, _ := os.ReadDir(filepath.Dir(m.cache)); len(entries) != 1 {
		t.Errorf("cache directory holds %d entries, want only token.json", len(entries))
	}

	if cred.Kind() != auth.KindLogin || cred.ClientID() != emulator.PublicClientID || cred.CachePath() != m.cache {
		t.Errorf("credential %v %q %q, want the login", cred.Kind(), cred.ClientID(), cred.CachePath())
	}
	me, err := m.me(cred)
	if err != nil || me.Name != "Emulator User" {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c)} {
		if strings.Contains(s, c.AccessToken) || strings.Contains(s, c.RefreshToken) {
			t.Errorf("printed cache shows a token: %s", s)
		}
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

// TestLoginRefused covers the ways a login must fail, each with nothing cached.
func TestLoginRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(*url.URL) // what the attacker (or a stale tab) changes in the authorize URL
		opts func(*auth.LoginOptions)
		want string // in the error
		code string // IMS error code, when the refusal is IMS's
	}{
		{
			name: "wrong state",
			edit: func(u *url.URL) { setQuery(u, "state", "forged") },
			want: "different state",
		},
		{
			// An attacker who starts the login with a challenge of their own gets the code
			// sent here; the exchange with this process's verifier must fail.
			name: "wrong PKCE verifier",
			edit: func(u *url.URL) { setQuery(u, "code_challenge", "Xb2RgSQ3tq_V6p5Mfx9HyV5JbsU-k7kR9zpG0r7qU4c") },
			want: "invalid_grant",
			code: "invalid_grant",
		},
		{
			name: "error from IMS",
			edit: func(u *url.URL) { setQuery(u, "response_type", "token") },
			want: "unsupported_response_type",
			code: "unsupported_response_type",
		},
		{
			name: "no client id",
			opts: func(o *auth.LoginOptions) { o.ClientID = "" },
			want: "no client id",
		},
		{
			name: "bad IMS URL",
			opts: func(o *auth.LoginOptions) { o.IMSURL = "ims.example.com" },
			want: "want an http or https origin",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newIMS(t, nil)
			browse, _ := browser(t, tt.edit)
			o := auth.LoginOptions{IMSURL: m.url, ClientID: emulator.PublicClientID, CachePath: m.cache, Browse: browse}
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, err := auth.Login(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Login error %v, want one containing %q", err, tt.want)
			}
			gotCode := ""
			if ie := (*auth.IMSError)(nil); errors.As(err, &ie) {
				gotCode = ie.Code
			}
			if gotCode != tt.code {
				t.Errorf("IMS error code %q, want %q (error %v)", gotCode, tt.code, err)
			}
			if _, err := os.Stat(m.cache); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused login left a cache (stat: %v)", err)
			}
		})
	}
}

func setQuery(u *url.URL, k, v string) {
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
}

// TestLoginGivesUp: without a browser coming back, Login ends with its context.
func TestLoginGivesUp(t *testing.T) {
	m := newIMS(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := auth.Login(ctx, auth.LoginOptions{IMSURL: m.url, ClientID: emulator.PublicClientID, CachePath: m.cache,
		Browse: func(string) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Login error %v, want context.Canceled", err)
	}
}

// TestExpiredTokenRefreshed: an access token the client knows to be expired is renewed before
// use, and the rotated refresh token is in the cache before the call returns.
func TestExpiredTokenRefreshed(t *testing.T) {
	m := newIMS(t, func(o *emulator.Options) { o.TokenTTL = time.Second })
	m.login()
	before := m.readCache()
	if time.Until(before.Expiry) > time.Second {
		t.Fatalf("cached expiry %v: want the emulator's 1 s TTL", before.Expiry)
	}
	m.clock.Add(2 * time.Second)

	cred, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url, CachePath: m.cache})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.me(cred); err != nil {
		t.Fatalf("Me: %v", err)
	}
	after := m.readCache()
	if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
		t.Fatalf("cache not rotated")
	}
	if got := m.emu.Stats().Requests["GET /v4/me"]["401"]; got != 0 {
		t.Errorf("%d calls answered 401: the expired token was sent", got)
	}
	if m.refreshWorks(before.RefreshToken) {
		t.Errorf("IMS still takes the old refresh token")
	}
	checkMode(t, m.cache, 0o600)
}

// TestRefusedTokenRefreshed: the client believes the token valid but IMS has expired it (its
// clock ran ahead); the 401 makes one refresh and the call goes through. Repeated over a
// sequence of calls, every rotation is saved and every old refresh token is dead.
func TestRefusedTokenRefreshed(t *testing.T) {
	m := newIMS(t, nil) // 1 h tokens: the client never sees them expire
	cred := m.login()
	var old []string
	for i := range 3 {
		c := m.readCache()
		old = append(old, c.RefreshToken)
		m.clock.Add(time.Hour)
		if _, err := m.me(cred); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got := m.emu.Stats().Requests["GET /v4/me"]; !cmp.Equal(got, map[string]int64{"200": 3, "401": 3}) {
		t.Errorf("GET /v4/me answers %v, want three 401s each followed by a 200", got)
	}
	latest := m.readCache()
	for i, rt := range old {
		if rt == latest.RefreshToken {
			t.Errorf("refresh token %d still in the cache", i)
		}
		if m.refreshWorks(rt) {
			t.Errorf("IMS still takes refresh token %d", i)
		}
	}
	// The process that did not refresh resolves the latest login from the cache.
	cred2, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url, CachePath: m.cache})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.me(cred2); err != nil {
		t.Fatalf("Me with the saved login: %v", err)
	}
}

// TestConcurrentRefusals: uploads running at once all see their token refused; each renews
// in turn with the newest refresh token, every call goes through, and the cache ends with the
// last rotation.
func TestConcurrentRefusals(t *testing.T) {
	m := newIMS(t, nil)
	cred := m.login()
	c, err := frameio.New(m.url, cred.Client(), frameio.WithoutPacing(), frameio.WithTokenRefresh(cred.Refresh),
		frameio.WithRetry(frameio.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	m.clock.Add(time.Hour)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = c.Me(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	issued := m.emu.IMSTokens()
	if got, want := m.readCache().RefreshToken, issued[len(issued)-1]; got != want {
		t.Errorf("the cache does not hold the newest refresh token")
	}
	if !m.refreshWorks(issued[len(issued)-1]) {
		t.Errorf("the newest refresh token does not work")
	}
}

// TestTwoProcessesShareTheCache: two fiosync runs read the same cache; one rotates the refresh
// token, and the other, refused with its stale one, adopts the newer login from the cache.
func TestTwoProcessesShareTheCache(t *testing.T) {
	m := newIMS(t, nil)
	m.login()
	settings := auth.Settings{IMSURL: m.url, CachePath: m.cache}
	a, err := auth.Resolve(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.Resolve(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatalf("a refreshes: %v", err)
	}
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatalf("b refreshes with a stale refresh token: %v", err)
	}
	ta, _ := a.Token()
	tb, _ := b.Token()
	if ta.AccessToken != tb.AccessToken {
		t.Errorf("b did not adopt a's token from the cache")
	}
	// Now both are up to date; b rotates for real and saves it.
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.readCache().RefreshToken; got == ta.RefreshToken {
		t.Errorf("b's rotation was not saved")
	}
}

// TestRevokedLogin: a refresh token IMS no longer knows ends the login with ErrLoginExpired,
// once: retries do not ask IMS again.
func TestRevokedLogin(t *testing.T) {
	m := newIMS(t, nil)
	m.login()
	c := m.readCache()
	if !m.refreshWorks(c.RefreshToken) { // someone else spends it and keeps the new one
		t.Fatal("refresh")
	}
	cred, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url, CachePath: m.cache})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err := cred.Refresh(context.Background())
		if !errors.Is(err, auth.ErrLoginExpired) || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("Refresh error %v, want ErrLoginExpired naming invalid_grant", err)
		}
	}
	if got := m.emu.Stats().Requests["POST /ims/token/v3"]["400"]; got != 1 {
		t.Errorf("IMS refused %d refreshes, want 1 (the answer is kept)", got)
	}
}

func TestClientCredentials(t *testing.T) {
	m := newIMS(t, nil)
	cred, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url,
		ClientID: emulator.ServerClientID, ClientSecret: emulator.ServerClientSecret, CachePath: m.cache})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Kind() != auth.KindClientCredentials {
		t.Fatalf("kind %v", cred.Kind())
	}
	first, err := cred.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if again, _ := cred.Token(); again.AccessToken != first.AccessToken {
		t.Errorf("a valid token was fetched again")
	}
	m.clock.Add(time.Hour) // the emulator expires it; the client cannot know
	if _, err := m.me(cred); err != nil {
		t.Fatalf("Me after expiry: %v", err)
	}
	if now, _ := cred.Token(); now.AccessToken == first.AccessToken {
		t.Errorf("the refused token was not replaced")
	}
	if _, err := os.Stat(m.cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("client credentials wrote a cache")
	}

	t.Run("wrong secret", func(t *testing.T) {
		const secret = "not-the-secret-3f9a"
		cred, err := auth.Resolve(context.Background(), auth.Settings{IMSURL: m.url, ClientID: emulator.ServerClientID, ClientSecret: secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.Token()
		var ie *auth.IMSError
		if !errors.As(err, &ie) || ie.Code != "invalid_client" || ie.Status != http.StatusUnauthorized {
			t.Fatalf("Token error %v, want IMS invalid_client", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the secret: %v", err)
		}
	})
}

// TestResolvePrecedence: FRAMEIO_TOKEN beats client credentials, which beat the cached login.
func TestResolvePrecedence(t *testing.T) {
	m := newIMS(t, nil)
	m.login()
	otherCache := filepath.Join(t.TempDir(), "other.json")
	if err := auth.WriteCache(otherCache, &auth.Cache{Version: 1, IMSURL: "https://ims.example.com", ClientID: "c", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		s       auth.Settings
		want    auth.Kind
		wantErr string
	}{
		{"token wins", auth.Settings{Token: "tok", ClientID: "id", ClientSecret: "s", CachePath: m.cache, IMSURL: m.url}, auth.KindToken, ""},
		{"client credentials beat login", auth.Settings{ClientID: "id", ClientSecret: "s", CachePath: m.cache, IMSURL: m.url}, auth.KindClientCredentials, ""},
		{"login", auth.Settings{CachePath: m.cache, IMSURL: m.url}, auth.KindLogin, ""},
		{"login with its client id", auth.Settings{ClientID: emulator.PublicClientID, CachePath: m.cache, IMSURL: m.url}, auth.KindLogin, ""},
		{"nothing", auth.Settings{CachePath: filepath.Join(t.TempDir(), "none.json"), IMSURL: m.url}, 0, auth.ErrNoCredential.Error()},
		{"secret without id", auth.Settings{ClientSecret: "s", CachePath: m.cache}, 0, "without a client id"},
		{"login of another IMS", auth.Settings{CachePath: otherCache, IMSURL: m.url}, 0, "is for IMS https://ims.example.com"},
		{"login of another client", auth.Settings{ClientID: "other", CachePath: m.cache, IMSURL: m.url}, 0, "is for client id"},
		{"bad IMS URL", auth.Settings{CachePath: m.cache, IMSURL: "ftp://x"}, 0, "want an http or https origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := auth.Resolve(context.Background(), tt.s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cred.Kind() != tt.want {
				t.Errorf("kind %v, want %v", cred.Kind(), tt.want)
			}
		})
	}
}

// TestFixedToken: FRAMEIO_TOKEN is sent as is, and a 401 is final.
func TestFixedToken(t *testing.T) {
	m := newIMS(t, nil)
	cred, err := auth.Resolve(context.Background(), auth.Settings{Token: m.emu.Seed().Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.me(cred); err != nil {
		t.Fatalf("Me: %v", err)
	}
	bad, _ := auth.Resolve(context.Background(), auth.Settings{Token: "emu_wrong"})
	_, err = m.me(bad)
	if !frameio.IsUnauthorized(err) || !errors.Is(err, auth.ErrNotRenewable) {
		t.Errorf("Me with a wrong token: %v, want 401 and ErrNotRenewable", err)
	}
}

func TestCacheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "token.json")
	want := &auth.Cache{Version: 1, IMSURL: "https://ims.example.com", ClientID: "cli", AccessToken: "at", TokenType: "bearer",
		RefreshToken: "rt", Expiry: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	if err := auth.WriteCache(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := auth.ReadCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	checkMode(t, path, 0o600)
	checkMode(t, filepath.Dir(path), 0o700|os.ModeDir)

	tests := []struct {
		name, content, want string
	}{
		{"not JSON", `{"access_token": "at-secret`, "invalid JSON"},
		{"other version", `{"version": 2}`, "version 2"},
		{"no refresh token", `{"version": 1, "ims_url": "x", "client_id": "c"}`, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := auth.ReadCache(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "at-secret") {
				t.Errorf("ReadCache error %v, want %q without the content", err, tt.want)
			}
		})
	}

	for i, want := range []bool{true, false} {
		removed, err := auth.RemoveCache(path)
		if err != nil || removed != want {
			t.Errorf("RemoveCache #%d = %v, %v; want %v", i+1, removed, err, want)
		}
	}
}
