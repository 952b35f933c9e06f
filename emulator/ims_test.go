package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testRedirect = "http://127.0.0.1:49152/callback"

// challenge is the S256 PKCE challenge of verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize sends GET /ims/authorize/v2 with q and returns the answer without following a
// redirect.
func (e *env) authorize(q url.Values) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/ims/authorize/v2?"+q.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	hc := *e.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Do(req)
	if err != nil {
		e.t.Fatalf("authorize: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// authQuery is a correct authorization request of the public client, changed by edit.
func authQuery(verifier string, edit func(url.Values)) url.Values {
	q := url.Values{
		"client_id":             {PublicClientID},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid profile email offline_access additional_info.roles"},
		"state":                 {"st4te"},
		"code_challenge":        {challenge(verifier)},
		"code_challenge_method": {"S256"},
	}
	if edit != nil {
		edit(q)
	}
	return q
}

// code runs a correct authorization request and returns the code from the redirect.
func (e *env) code(verifier string) string {
	e.t.Helper()
	r := e.mustStatus(e.authorize(authQuery(verifier, nil)), http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc.Query().Get("code")
}

// token posts a form to /ims/token/v3.
func (e *env) token(form url.Values) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/ims/token/v3", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// tokens decodes a successful token answer.
func (e *env) tokens(r resp) tokenJSON {
	e.t.Helper()
	e.mustStatus(r, http.StatusOK)
	var tok tokenJSON
	if err := decodeStrict(r.body, &tok); err != nil {
		e.t.Fatalf("decode token answer %s: %v", r.body, err)
	}
	return tok
}

// imsErr returns the IMS error code of an answer, failing unless it has IMS's error shape.
func (e *env) imsErr(r resp) string {
	e.t.Helper()
	var v struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := decodeStrict(r.body, &v); err != nil || v.Error == "" || v.Description == "" {
		e.t.Fatalf("not an IMS error: %s (%v)", r.body, err)
	}
	return v.Error
}

func TestAuthorize(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name string
		edit func(url.Values)
		// status is the answer; for 302, wantQuery lists the redirect's query keys and
		// errCode its error; for 400, errCode is the IMS error in the body.
		status    int
		wantQuery []string
		errCode   string
	}{
		{"ok", nil, http.StatusFound, []string{"code", "state"}, ""},
		{"server client without pkce", func(q url.Values) {
			q.Set("client_id", ServerClientID)
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, http.StatusFound, []string{"code", "state"}, ""},
		{"localhost redirect", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8080/cb") }, http.StatusFound, []string{"code", "state"}, ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "stranger") }, http.StatusBadRequest, nil, "invalid_client"},
		{"remote redirect", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/cb") }, http.StatusBadRequest, nil, "invalid_request"},
		{"https redirect", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1/cb") }, http.StatusBadRequest, nil, "invalid_request"},
		{"no pkce", func(q url.Values) { q.Del("code_challenge") }, http.StatusFound, []string{"error", "error_description", "state"}, "invalid_request"},
		{"plain pkce", func(q url.Values) { q.Set("code_challenge_method", "plain") }, http.StatusFound, []string{"error", "error_description", "state"}, "invalid_request"},
		{"token response type", func(q url.Values) { q.Set("response_type", "token") }, http.StatusFound, []string{"error", "error_description", "state"}, "unsupported_response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.authorize(authQuery("verifier-"+tt.name, tt.edit))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if r.status == http.StatusBadRequest {
				if got := e.imsErr(r); got != tt.errCode {
					t.Errorf("error %q, want %q", got, tt.errCode)
				}
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if diff := cmp.Diff(tt.wantQuery, keys(toAny(q))); diff != "" {
				t.Errorf("redirect query keys (-want +got):\n%s", diff)
			}
			if got := q.Get("state"); got != "st4te" {
				t.Errorf("state %q, want it echoed", got)
			}
			if got := q.Get("error"); got != tt.errCode {
				t.Errorf("error %q, want %q", got, tt.errCode)
			}
		})
	}
}

func toAny(q url.Values) map[string]any {
	m := make(map[string]any, len(q))
	for k, v := range q {
		m[k] = v
	}
	return m
}

func TestTokenAuthorizationCode(t *testing.T) {
	const verifier = "a-verifier-that-is-long-enough-for-rfc-7636-0123456789"
	exchange := func(code string, edit func(url.Values)) url.Values {
		f := url.Values{
			"grant_type":    {"authorization_code"},
			"client_id":     {PublicClientID},
			"code":          {code},
			"redirect_uri":  {testRedirect},
			"code_verifier": {verifier},
		}
		if edit != nil {
			edit(f)
		}
		return f
	}
	tests := []struct {
		name    string
		edit    func(url.Values)
		advance time.Duration // clock moves between authorize and exchange
		status  int
		errCode string
	}{
		{"ok", nil, 0, http.StatusOK, ""},
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", verifier+"x") }, 0, http.StatusBadRequest, "invalid_grant"},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, 0, http.StatusBadRequest, "invalid_grant"},
		{"other redirect", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:1/callback") }, 0, http.StatusBadRequest, "invalid_grant"},
		{"unknown code", func(f url.Values) { f.Set("code", "emucode_nope") }, 0, http.StatusBadRequest, "invalid_grant"},
		{"other client", func(f url.Values) {
			f.Set("client_id", ServerClientID)
			f.Set("client_secret", ServerClientSecret)
		}, 0, http.StatusBadRequest, "invalid_grant"},
		{"public client with secret", func(f url.Values) { f.Set("client_secret", "x") }, 0, http.StatusUnauthorized, "invalid_client"},
		{"expired code", nil, codeTTL, http.StatusBadRequest, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			code := e.code(verifier)
			e.clock.Add(tt.advance)
			r := e.token(exchange(code, tt.edit))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.errCode != "" {
				if got := e.imsErr(r); got != tt.errCode {
					t.Errorf("error %q, want %q", got, tt.errCode)
				}
				return
			}
			tok := e.tokens(r)
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "bearer" || tok.ExpiresIn != 3600 {
				t.Errorf("token answer %+v: want access and refresh tokens, bearer, 3600 s", tok)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			e.mustStatus(e.callToken("GET", "/v4/me", nil, tok.AccessToken), http.StatusOK)
			// A code is single-use.
			if got := e.imsErr(e.mustStatus(e.token(exchange(code, nil)), http.StatusBadRequest)); got != "invalid_grant" {
				t.Errorf("second exchange: error %q, want invalid_grant", got)
			}
		})
	}
}

// TestCodeSpentByWrongVerifier shows that a failed exchange burns the code, so a verifier
// cannot be guessed in several tries.
func TestCodeSpentByWrongVerifier(t *testing.T) {
	e := newEnv(t, nil)
	code := e.code("right-verifier")
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID}, "code": {code}, "redirect_uri": {testRedirect}}
	form.Set("code_verifier", "wrong-verifier")
	e.mustStatus(e.token(form), http.StatusBadRequest)
	form.Set("code_verifier", "right-verifier")
	if got := e.imsErr(e.mustStatus(e.token(form), http.StatusBadRequest)); got != "invalid_grant" {
		t.Errorf("error %q, want invalid_grant", got)
	}
}

// TestRefreshRotatesAndTokensExpire walks one login through expiry and two refreshes: each
// refresh token works once, and access tokens stop working after TokenTTL.
func TestRefreshRotatesAndTokensExpire(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenTTL = time.Second })
	code := e.code("v")
	first := e.tokens(e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {PublicClientID},
		"code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {"v"}}))
	if first.ExpiresIn != 1 {
		t.Errorf("expires_in %d, want 1", first.ExpiresIn)
	}
	e.mustStatus(e.callToken("GET", "/v4/me", nil, first.AccessToken), http.StatusOK)
	e.clock.Add(time.Second)
	e.mustStatus(e.callToken("GET", "/v4/me", nil, first.AccessToken), http.StatusUnauthorized)

	refresh := func(rt string) resp {
		return e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {PublicClientID}, "refresh_token": {rt}})
	}
	second := e.tokens(refresh(first.RefreshToken))
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh did not rotate: %+v after %+v", second, first)
	}
	e.mustStatus(e.callToken("GET", "/v4/me", nil, second.AccessToken), http.StatusOK)
	if got := e.imsErr(e.mustStatus(refresh(first.RefreshToken), http.StatusBadRequest)); got != "invalid_grant" {
		t.Errorf("reused refresh token: error %q, want invalid_grant", got)
	}
	// The rotated token still works after the failed reuse of the old one.
	third := e.tokens(refresh(second.RefreshToken))

	// Another client may not use the refresh token.
	r := e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {ServerClientID},
		"client_secret": {ServerClientSecret}, "refresh_token": {third.RefreshToken}})
	if got := e.imsErr(e.mustStatus(r, http.StatusBadRequest)); got != "invalid_grant" {
		t.Errorf("refresh by another client: error %q, want invalid_grant", got)
	}
	e.tokens(refresh(third.RefreshToken))

	want := []string{first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken, third.AccessToken, third.RefreshToken}
	if diff := cmp.Diff(want, e.emu.IMSTokens()[:6]); diff != "" {
		t.Errorf("IMSTokens (-want +got):\n%s", diff)
	}
}

func TestTokenClientCredentials(t *testing.T) {
	tests := []struct {
		name    string
		form    url.Values
		basic   bool
		status  int
		errCode string
	}{
		{"ok in form", url.Values{"client_id": {ServerClientID}, "client_secret": {ServerClientSecret}, "scope": {"openid,AdobeID,frame.s2s.all"}}, false, http.StatusOK, ""},
		{"ok in basic header", nil, true, http.StatusOK, ""},
		{"wrong secret", url.Values{"client_id": {ServerClientID}, "client_secret": {"nope"}}, false, http.StatusUnauthorized, "invalid_client"},
		{"no secret", url.Values{"client_id": {ServerClientID}}, false, http.StatusUnauthorized, "invalid_client"},
		{"unknown client", url.Values{"client_id": {"stranger"}, "client_secret": {"x"}}, false, http.StatusUnauthorized, "invalid_client"},
		{"no client", url.Values{}, false, http.StatusBadRequest, "invalid_request"},
		{"public client", url.Values{"client_id": {PublicClientID}}, false, http.StatusBadRequest, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range tt.form {
				form[k] = v
			}
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/ims/token/v3", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic {
				req.SetBasicAuth(ServerClientID, ServerClientSecret)
			}
			r := e.do(req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.errCode != "" {
				if got := e.imsErr(r); got != tt.errCode {
					t.Errorf("error %q, want %q", got, tt.errCode)
				}
				return
			}
			tok := e.tokens(r)
			if tok.RefreshToken != "" {
				t.Errorf("client credentials answer carries a refresh token")
			}
			e.mustStatus(e.callToken("GET", "/v4/me", nil, tok.AccessToken), http.StatusOK)
		})
	}
}

func TestTokenBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		form    url.Values
		errCode string
	}{
		{"no grant", url.Values{"client_id": {PublicClientID}}, "unsupported_grant_type"},
		{"password grant", url.Values{"grant_type": {"password"}, "client_id": {PublicClientID}}, "unsupported_grant_type"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {PublicClientID}, "refresh_token": {"emurt_x"}}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.imsErr(e.mustStatus(e.token(tt.form), http.StatusBadRequest)); got != tt.errCode {
				t.Errorf("error %q, want %q", got, tt.errCode)
			}
		})
	}
	st := e.emu.Stats()
	if got := st.Requests["POST /ims/token/v3"]["400"]; got != int64(len(tests)) {
		t.Errorf("stats count %d token 400s, want %d", got, len(tests))
	}
}

// TestSeedNamesIMSClients checks that the ready line carries the registered clients.
func TestSeedNamesIMSClients(t *testing.T) {
	e := newEnv(t, nil)
	b, err := json.Marshal(e.emu.Seed())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ims_public_client_id": PublicClientID, "ims_client_id": ServerClientID, "ims_client_secret": ServerClientSecret}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("seed %s = %v, want %v", k, got[k], v)
		}
	}
}
