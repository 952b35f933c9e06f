package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
)

// authClock is the emulator's clock. With a step, every reading moves it on, so tokens age
// with the work done instead of with the wall clock: a test can make a token expire in the
// middle of an apply without sleeping.
type authClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *authClock) setStep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
}

// authHarness runs fiosync in process against an emulator, with HOME, the config directory
// and every FRAMEIO_ variable under the test's control, and keeps everything it printed.
type authHarness struct {
	t       *testing.T
	emu     *emulator.Emulator
	url     string
	clock   *authClock
	home    string
	work    string
	cache   string
	printed bytes.Buffer
}

// newAuthHarness sets the process environment, so tests using it cannot run in parallel.
func newAuthHarness(t *testing.T) *authHarness {
	t.Helper()
	clock := &authClock{t: time.Now()}
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.PartSize = 64 << 10
	o.Now = clock.Now
	e := emutest.Start(t, o)
	h := &authHarness{t: t, emu: e.Emu, url: e.URL, clock: clock, home: t.TempDir(), work: t.TempDir()}
	config := filepath.Join(h.home, ".config")
	h.cache = filepath.Join(config, "fiosync", "token.json")
	t.Setenv("HOME", h.home)
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("FRAMEIO_API_URL", e.URL)
	t.Setenv("FRAMEIO_IMS_URL", e.URL)
	t.Setenv("NO_COLOR", "1")
	for _, k := range []string{"FRAMEIO_TOKEN", "FRAMEIO_CLIENT_ID", "FRAMEIO_CLIENT_SECRET", "FRAMEIO_SCOPE", "FRAMEIO_ACCOUNT_ID", "FIOSYNC_STATE"} {
		t.Setenv(k, "")
	}
	return h
}

// run runs fiosync with args and returns what it printed and its exit code.
func (h *authHarness) run(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	h.printed.Write(out.Bytes())
	h.printed.Write(errb.Bytes())
	return out.String(), errb.String(), code
}

// authorizeURL finds the login URL fiosync prints.
var authorizeURL = regexp.MustCompile(`https?://\S+/ims/authorize/v2\?\S+`)

// urlWatcher is a writer that passes on the first authorize URL written to it.
type urlWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	urls chan string // buffered, one
	sent bool
}

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if u := authorizeURL.FindString(w.buf.String()); u != "" && !w.sent {
		w.sent = true
		w.urls <- u
	}
	return len(p), nil
}

func (w *urlWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// login runs `fiosync auth login --no-browser` and plays the browser: it reads the URL the
// command prints, lets edit change it, and GETs it, following the emulator's redirect to the
// command's loopback listener.
func (h *authHarness) login(edit func(*url.URL), args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	var out bytes.Buffer
	w := &urlWatcher{urls: make(chan string, 1)}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		code = run(context.Background(), append([]string{"auth", "login", "--no-browser", "--timeout", "1m"}, args...),
			stdio{In: strings.NewReader(""), Out: &out, Err: w})
	})
	select {
	case raw := <-w.urls:
		u, err := url.Parse(raw)
		if err != nil {
			h.t.Errorf("printed URL %q: %v", raw, err)
			break
		}
		if edit != nil {
			edit(u)
		}
		res, err := http.Get(u.String())
		if err != nil {
			h.t.Errorf("browse: %v", err)
			break
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	case <-done: // it failed before printing a URL
	}
	wg.Wait()
	h.printed.Write(out.Bytes())
	h.printed.WriteString(w.String())
	return out.String(), w.String(), code
}

// refreshWorks reports whether the emulator still takes a refresh token (spending it if so).
func (h *authHarness) refreshWorks(rt string) bool {
	h.t.Helper()
	res, err := http.PostForm(h.url+"/ims/token/v3", url.Values{"grant_type": {"refresh_token"},
		"client_id": {emulator.PublicClientID}, "refresh_token": {rt}})
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func (h *authHarness) readCache() *auth.Cache {
	h.t.Helper()
	c, err := auth.ReadCache(h.cache)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// count sums the emulator's answers with the status over all routes.
func (h *authHarness) count(status string) int64 {
	var n int64
	for _, m := range h.emu.Stats().Requests {
		n += m[status]
	}
	return n
}

// TestAuthCommands walks through the credentials the way a person and a CI job use them: log
// in, check status, apply while the token expires (more than once), switch to client
// credentials and FRAMEIO_TOKEN, log out. At the end no token or secret may appear in
// anything fiosync printed or in any file it wrote, except the token cache.
func TestAuthCommands(t *testing.T) {
	h := newAuthHarness(t)
	wrongSecret := "wrong-secret-5e1d0a7c"

	t.Run("login refuses a forged state", func(t *testing.T) {
		_, stderr, code := h.login(func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
		}, "--client-id", emulator.PublicClientID)
		if code != exitError || !strings.Contains(stderr, "different state") {
			t.Errorf("exit %d, stderr %q; want 1 and the state refusal", code, stderr)
		}
		if _, err := os.Stat(h.cache); err == nil {
			t.Errorf("a refused login wrote the cache")
		}
	})

	t.Run("login", func(t *testing.T) {
		t.Setenv("FRAMEIO_CLIENT_ID", emulator.PublicClientID)
		stdout, stderr, code := h.login(nil)
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if want := "Logged in as Emulator User <emulator@fiosync.invalid>. The login is cached in " + h.cache + ".\n"; stdout != want {
			t.Errorf("stdout %q, want %q", stdout, want)
		}
		fi, err := os.Stat(h.cache)
		if err != nil || fi.Mode() != 0o600 {
			t.Fatalf("cache: %v, %v; want mode 0600", fi, err)
		}
		if c := h.readCache(); c.AccessToken == "" || c.RefreshToken == "" {
			t.Errorf("the cache holds no tokens")
		}
	})

	t.Run("status of the login", func(t *testing.T) {
		stdout, stderr, code := h.run("auth", "status")
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		for _, want := range []string{
			`Credential: login of client "` + emulator.PublicClientID + `", cached in ` + h.cache,
			"User: Emulator User <emulator@fiosync.invalid>",
			"Access token expires: ",
			"(in 60 min)",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("apply renews the expiring login", func(t *testing.T) {
		if err := os.CopyFS(h.work, os.DirFS("../../examples/dailies")); err != nil {
			t.Fatal(err)
		}
		before := h.readCache()
		unauthorized, renewals := h.count("401"), h.emu.Stats().Requests["POST /ims/token/v3"]["200"]
		// Every clock reading ages tokens by four minutes: the hour-long token expires after
		// fifteen of the emulator's readings, several times during this apply, while
		// fiosync (on the wall clock) believes it valid. One upload at a time keeps other
		// requests from ageing a renewed token before its retry is sent.
		h.clock.setStep(4 * time.Minute)
		stdout, stderr, code := h.run("apply", "-f", filepath.Join(h.work, "fiosync.yaml"), "--auto-approve", "--parallel", "1")
		h.clock.setStep(0)
		if code != exitOK {
			t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if n := h.emu.Stats().FilesCreated; n != 7 {
			t.Errorf("%d files uploaded, want 7", n)
		}
		got401 := h.count("401") - unauthorized
		gotRenewals := h.emu.Stats().Requests["POST /ims/token/v3"]["200"] - renewals
		if got401 < 2 || gotRenewals < got401 {
			t.Errorf("%d answers of 401 and %d renewals during apply; want at least two expiries, each renewed", got401, gotRenewals)
		}
		t.Logf("apply: %d answers of 401, %d renewals", got401, gotRenewals)
		after := h.readCache()
		if after.RefreshToken == before.RefreshToken {
			t.Fatalf("the rotated refresh token was not saved")
		}
		// Every refresh token but the cached one is spent.
		for _, tok := range h.emu.IMSTokens() {
			if strings.HasPrefix(tok, "emurt_") && tok != after.RefreshToken && h.refreshWorks(tok) {
				t.Errorf("an old refresh token still works")
			}
		}
		stdout, stderr, code = h.run("auth", "status")
		if code != exitOK || !strings.Contains(stdout, "Emulator User") {
			t.Errorf("status after apply: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("client credentials", func(t *testing.T) {
		t.Setenv("FRAMEIO_CLIENT_ID", emulator.ServerClientID)
		t.Setenv("FRAMEIO_CLIENT_SECRET", emulator.ServerClientSecret)
		stdout, stderr, code := h.run("auth", "status")
		if code != exitOK || !strings.Contains(stdout, `Credential: client credentials of client "`+emulator.ServerClientID+`"`) ||
			!strings.Contains(stdout, "Emulator User") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
		stdout, stderr, code = h.run("plan", "-f", filepath.Join(h.work, "fiosync.yaml"))
		if code != exitOK || !strings.Contains(stdout, "No changes") {
			t.Errorf("plan with client credentials: exit %d\n%s%s", code, stdout, stderr)
		}
		// One command, one client: the apply's refresh and its receipt share one token.
		issued := len(h.emu.IMSTokens())
		stdout, stderr, code = h.run("apply", "-f", filepath.Join(h.work, "fiosync.yaml"), "--auto-approve", "--receipt", filepath.Join(t.TempDir(), "receipt.json"))
		if n := len(h.emu.IMSTokens()) - issued; code != exitOK || n != 1 {
			t.Errorf("apply --receipt with client credentials: exit %d, %d tokens fetched, want 1\n%s%s", code, n, stdout, stderr)
		}
		_, stderr, code = h.login(nil)
		if code != exitError || !strings.Contains(stderr, "server-to-server") {
			t.Errorf("login with a client secret set: exit %d\n%s", code, stderr)
		}

		t.Setenv("FRAMEIO_CLIENT_SECRET", wrongSecret)
		_, stderr, code = h.run("auth", "status")
		if code != exitError || !strings.Contains(stderr, "invalid_client") {
			t.Errorf("wrong secret: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("FRAMEIO_TOKEN wins", func(t *testing.T) {
		t.Setenv("FRAMEIO_TOKEN", h.emu.Seed().Token)
		t.Setenv("FRAMEIO_CLIENT_ID", emulator.ServerClientID)
		t.Setenv("FRAMEIO_CLIENT_SECRET", emulator.ServerClientSecret)
		stdout, stderr, code := h.run("auth", "status")
		if code != exitOK || !strings.Contains(stdout, "Credential: FRAMEIO_TOKEN") || !strings.Contains(stdout, "Access token expires: unknown") {
			t.Errorf("exit %d\n%s%s", code, stdout, stderr)
		}
		t.Setenv("FRAMEIO_TOKEN", "emu_not_a_token")
		_, stderr, code = h.run("auth", "status")
		// A fixed token is not renewed, and the error says so once, naming its source,
		// without the renewal's own error (issue 19, item 5).
		if code != exitError || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "FRAMEIO_TOKEN (used as is, never renewed)") ||
			strings.Contains(stderr, auth.ErrNotRenewable.Error()) {
			t.Errorf("a refused FRAMEIO_TOKEN: exit %d, stderr %q; want a 401 that is not renewed, naming FRAMEIO_TOKEN", code, stderr)
		}
	})

	// Gather what must stay secret before logout removes the cache.
	c := h.readCache()
	secrets := append(h.emu.IMSTokens(), emulator.ServerClientSecret, wrongSecret, h.emu.Seed().Token)
	if !slicesContain(secrets, c.AccessToken) || !slicesContain(secrets, c.RefreshToken) {
		t.Fatalf("the cached tokens are not among the issued ones")
	}

	t.Run("logout", func(t *testing.T) {
		stdout, _, code := h.run("auth", "logout")
		if code != exitOK || stdout != "Logged out: removed "+h.cache+".\n" {
			t.Errorf("exit %d, stdout %q", code, stdout)
		}
		stdout, _, code = h.run("auth", "logout")
		if code != exitOK || !strings.Contains(stdout, "Not logged in") {
			t.Errorf("second logout: exit %d, stdout %q", code, stdout)
		}
		_, stderr, code := h.run("auth", "status")
		if code != exitError || !strings.Contains(stderr, "no Frame.io credentials") {
			t.Errorf("status after logout: exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("no secret leaked", func(t *testing.T) {
		sources := map[string][]byte{"output": h.printed.Bytes()}
		for _, root := range []string{h.home, h.work} {
			err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || path == h.cache {
					return err
				}
				b, err := os.ReadFile(path)
				sources[path] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(sources) < 3 {
			t.Fatalf("only %d sources to search; the state file is missing", len(sources))
		}
		for name, b := range sources {
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s contains a secret (%.8s...)", name, s)
				}
			}
		}
		t.Logf("searched %d secrets in %d sources (%d bytes printed)", len(secrets), len(sources), h.printed.Len())
	})
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
