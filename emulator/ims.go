package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// The IMS clients every emulator knows. They are fixed, not random, so that scripts and the
// demo can name them; the emulator is not a place for real secrets.
const (
	// PublicClientID is a public client ("OAuth Single Page App" in Adobe's console): it logs
	// people in with authorization code and PKCE and has no secret.
	PublicClientID = "fiosync-emulator-cli"
	// ServerClientID and ServerClientSecret are a confidential server-to-server client: it
	// gets tokens with client credentials.
	ServerClientID     = "fiosync-emulator-s2s"
	ServerClientSecret = "emu_s2s_secret_b6f1c0de"
)

// codeTTL is how long an authorization code may wait for its exchange.
const codeTTL = 10 * time.Minute

// imsState holds what the IMS endpoints hand out: authorization codes waiting for their
// exchange, and the refresh tokens that still work. Access tokens go into the shared token
// table, where the API checks them.
type imsState struct {
	mu      sync.Mutex
	codes   map[string]authCode
	refresh map[string]string // refresh token -> client id
	issued  []string          // every access and refresh token, for IMSTokens
}

// authCode is an issued authorization code and what its exchange must repeat.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	expires     time.Time
}

// startIMS registers the IMS endpoints and names the registered clients in the seed.
func (e *Emulator) startIMS() {
	e.ims.codes = make(map[string]authCode)
	e.ims.refresh = make(map[string]string)
	e.seed.IMSPublicClientID = PublicClientID
	e.seed.IMSClientID = ServerClientID
	e.seed.IMSClientSecret = ServerClientSecret
	e.mux.HandleFunc("GET /ims/authorize/v2", e.handleAuthorize)
	e.mux.HandleFunc("POST /ims/token/v3", e.handleToken)
}

// IMSTokens returns every access and refresh token the IMS endpoints have issued, oldest
// first, so that tests can check that none of them leaked into output or files.
func (e *Emulator) IMSTokens() []string {
	e.ims.mu.Lock()
	defer e.ims.mu.Unlock()
	return slices.Clone(e.ims.issued)
}

// imsError is an answer in IMS's error shape, {"error": code, "error_description": text}.
type imsError struct {
	status      int
	code        string
	description string
}

func writeIMSError(w http.ResponseWriter, e imsError) {
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

func invalidRequest(desc string) *imsError {
	return &imsError{http.StatusBadRequest, "invalid_request", desc}
}

func invalidGrant(desc string) *imsError {
	return &imsError{http.StatusBadRequest, "invalid_grant", desc}
}

func invalidClient(desc string) *imsError {
	return &imsError{http.StatusUnauthorized, "invalid_client", desc}
}

// handleAuthorize stands in for the whole browser login: a registered client id with a
// loopback redirect_uri is sent straight back there with a code and the caller's state, as if
// the person had signed in and consented. Problems with the client or the redirect_uri are
// answered here (redirecting to an unchecked address would be an open redirect); the others
// go back to the client as error and error_description, as OAuth prescribes.
func (e *Emulator) handleAuthorize(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	defer func() { e.stats.record("GET /ims/authorize/v2", w.status) }()
	q := r.URL.Query()
	clientID := q.Get("client_id")
	if clientID != PublicClientID && clientID != ServerClientID {
		writeIMSError(w, imsError{http.StatusBadRequest, "invalid_client", "unknown client_id"})
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || !loopback(redirect.Hostname()) {
		writeIMSError(w, *invalidRequest("redirect_uri must be an http URL on a loopback address"))
		return
	}
	back := redirect.Query()
	if state := q.Get("state"); state != "" {
		back.Set("state", state)
	}
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
		back.Set("error_description", "response_type must be code")
	case q.Get("code_challenge") == "" && clientID == PublicClientID:
		back.Set("error", "invalid_request")
		back.Set("error_description", "a public client must send a PKCE code_challenge")
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
		back.Set("error_description", "code_challenge_method must be S256")
	default:
		code := "emucode_" + newID()
		e.ims.mu.Lock()
		e.ims.codes[code] = authCode{
			clientID:    clientID,
			redirectURI: q.Get("redirect_uri"),
			challenge:   q.Get("code_challenge"),
			expires:     e.now().Add(codeTTL),
		}
		e.ims.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// loopback reports whether host names this machine: localhost or a loopback IP.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenJSON is IMS's token answer. expires_in is in seconds.
type tokenJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// handleToken is the form-encoded token endpoint for the three grants fiosync uses. Client
// credentials may come in the form or in a Basic Authorization header.
func (e *Emulator) handleToken(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	defer func() { e.stats.record("POST /ims/token/v3", w.status) }()
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeIMSError(w, *invalidRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	var (
		tok  tokenJSON
		ierr *imsError
	)
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "authorization_code":
		tok, ierr = e.grantCode(r.PostForm, clientID, secret)
	case "refresh_token":
		tok, ierr = e.grantRefresh(r.PostForm, clientID, secret)
	case "client_credentials":
		tok, ierr = e.grantClient(clientID, secret)
	default:
		ierr = &imsError{http.StatusBadRequest, "unsupported_grant_type", "grant_type " + grant + " is not supported"}
	}
	if ierr != nil {
		writeIMSError(w, *ierr)
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

// checkClient authenticates the client of a token request: the public client must send no
// secret, the server client its secret.
func checkClient(clientID, secret string) *imsError {
	switch clientID {
	case PublicClientID:
		if secret != "" {
			return invalidClient("the public client has no secret")
		}
		return nil
	case ServerClientID:
		if subtle.ConstantTimeCompare([]byte(secret), []byte(ServerClientSecret)) != 1 {
			return invalidClient("wrong client_secret")
		}
		return nil
	case "":
		return invalidRequest("client_id is missing")
	}
	return invalidClient("unknown client_id")
}

// grantCode exchanges an authorization code. The code is spent by the first attempt, right or
// wrong, so a guessed verifier cannot be retried.
func (e *Emulator) grantCode(form url.Values, clientID, secret string) (tokenJSON, *imsError) {
	if err := checkClient(clientID, secret); err != nil {
		return tokenJSON{}, err
	}
	e.ims.mu.Lock()
	c, ok := e.ims.codes[form.Get("code")]
	delete(e.ims.codes, form.Get("code"))
	e.ims.mu.Unlock()
	switch {
	case !ok:
		return tokenJSON{}, invalidGrant("the authorization code is unknown or already used")
	case !e.now().Before(c.expires):
		return tokenJSON{}, invalidGrant("the authorization code has expired")
	case c.clientID != clientID:
		return tokenJSON{}, invalidGrant("the authorization code was issued to another client")
	case c.redirectURI != form.Get("redirect_uri"):
		return tokenJSON{}, invalidGrant("redirect_uri does not match the authorization request")
	case c.challenge != "" && !pkceMatches(form.Get("code_verifier"), c.challenge):
		return tokenJSON{}, invalidGrant("code_verifier does not match the code_challenge")
	}
	return e.issue(clientID, true), nil
}

// pkceMatches checks an S256 code verifier against its challenge (RFC 7636 section 4.6).
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return verifier != "" && subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// grantRefresh trades a refresh token for new tokens. Like IMS it rotates: the refresh token
// sent stops working and the answer carries a new one.
func (e *Emulator) grantRefresh(form url.Values, clientID, secret string) (tokenJSON, *imsError) {
	if err := checkClient(clientID, secret); err != nil {
		return tokenJSON{}, err
	}
	rt := form.Get("refresh_token")
	e.ims.mu.Lock()
	owner, ok := e.ims.refresh[rt]
	if ok && owner == clientID {
		delete(e.ims.refresh, rt)
	}
	e.ims.mu.Unlock()
	if !ok || owner != clientID {
		return tokenJSON{}, invalidGrant("the refresh token is unknown, used or revoked")
	}
	return e.issue(clientID, true), nil
}

// grantClient issues a server-to-server token; only the server client may ask.
func (e *Emulator) grantClient(clientID, secret string) (tokenJSON, *imsError) {
	if err := checkClient(clientID, secret); err != nil {
		return tokenJSON{}, err
	}
	if clientID != ServerClientID {
		return tokenJSON{}, &imsError{http.StatusBadRequest, "unauthorized_client", "the client may not use client_credentials"}
	}
	return e.issue(clientID, false), nil
}

// issue makes an access token that lives Options.TokenTTL and, for people, a refresh token.
func (e *Emulator) issue(clientID string, withRefresh bool) tokenJSON {
	tok := tokenJSON{
		AccessToken: e.issueToken(),
		TokenType:   "bearer",
		ExpiresIn:   int64((e.opts.TokenTTL + time.Second - 1) / time.Second), // whole seconds, rounded up
	}
	e.ims.mu.Lock()
	defer e.ims.mu.Unlock()
	e.ims.issued = append(e.ims.issued, tok.AccessToken)
	if withRefresh {
		tok.RefreshToken = "emurt_" + newID()
		e.ims.refresh[tok.RefreshToken] = clientID
		e.ims.issued = append(e.ims.issued, tok.RefreshToken)
	}
	return tok
}
