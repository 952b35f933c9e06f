package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Defaults for Settings.
const (
	// DefaultIMSURL is Adobe IMS's origin.
	DefaultIMSURL = "https://ims-na1.adobelogin.com"
	// DefaultScope is the client-credentials scope Frame.io server-to-server credentials use.
	DefaultScope = "openid,AdobeID,frame.s2s.all"
)

// IMS paths, appended to the IMS origin.
const (
	authorizePath = "/ims/authorize/v2"
	tokenPath     = "/ims/token/v3"
)

var (
	// ErrNoCredential means Resolve found nothing: no token, no client credentials and no
	// cached login.
	ErrNoCredential = errors.New("no Frame.io credential")
	// ErrLoginExpired means IMS refused the cached login's refresh token (it expired or was
	// revoked) and the cache holds nothing newer: the person must log in again.
	ErrLoginExpired = errors.New("the login has expired or was revoked; log in again with fiosync auth login")
	// ErrNotRenewable means the credential is a fixed token that cannot be renewed.
	ErrNotRenewable = errors.New("a fixed token cannot be renewed")
)

// Kind says which of the three credentials a Credential is.
type Kind int

// The kinds, in order of precedence.
const (
	KindToken             Kind = iota + 1 // a fixed token (FRAMEIO_TOKEN)
	KindClientCredentials                 // client id and secret (server to server)
	KindLogin                             // the cached login of a person
)

// String names the kind for people.
func (k Kind) String() string {
	switch k {
	case KindToken:
		return "token"
	case KindClientCredentials:
		return "client credentials"
	case KindLogin:
		return "login"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Settings are what Resolve chooses from; the CLI fills them from the environment.
type Settings struct {
	Token        string // FRAMEIO_TOKEN: used as is when set
	ClientID     string // FRAMEIO_CLIENT_ID
	ClientSecret string // FRAMEIO_CLIENT_SECRET: with ClientID, selects client credentials
	Scope        string // client-credentials scope; "" means DefaultScope
	IMSURL       string // IMS origin; "" means DefaultIMSURL
	CachePath    string // token cache; "" means DefaultCachePath()
}

// Credential is a source of access tokens: an oauth2.TokenSource that renews its token when it
// expires and, through Refresh, when the API refuses it. It is safe for concurrent use.
type Credential struct {
	kind      Kind
	clientID  string
	cachePath string
	ctx       context.Context // for token requests made from Token

	// fetch gets a new token given the current one; nil for a fixed token.
	fetch func(ctx context.Context, old *oauth2.Token) (*oauth2.Token, error)
	// save persists a new token before it is used; nil when nothing is persisted.
	save func(*oauth2.Token) error

	// secret is the client secret of client credentials, told to watchers.
	secret string

	mu     sync.Mutex
	tok    *oauth2.Token
	broken error // a refusal that will not change: returned without asking IMS again
	watch  []func(string)
}

var _ oauth2.TokenSource = (*Credential)(nil)

// Resolve picks the credential Settings select (see the package documentation for the order).
// It sends nothing: tokens are fetched on first use. ctx is used for the token requests that
// Token makes, so it should live as long as the Credential is used.
func Resolve(ctx context.Context, s Settings) (*Credential, error) {
	switch {
	case s.Token != "":
		return &Credential{kind: KindToken, ctx: ctx, tok: &oauth2.Token{AccessToken: s.Token, TokenType: "Bearer"}}, nil
	case s.ClientSecret != "" && s.ClientID == "":
		return nil, errors.New("resolve credential: a client secret without a client id")
	}
	ims, err := imsOrigin(s.IMSURL)
	if err != nil {
		return nil, err
	}
	if s.ClientSecret != "" {
		return clientCredentials(ctx, ims, s), nil
	}
	path := s.CachePath
	if path == "" {
		if path, err = DefaultCachePath(); err != nil {
			return nil, err
		}
	}
	c, err := ReadCache(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrNoCredential
	case err != nil:
		return nil, err
	case c.IMSURL != ims:
		return nil, fmt.Errorf("resolve credential: the cached login is for IMS %s, not %s; log in again", c.IMSURL, ims)
	case s.ClientID != "" && c.ClientID != s.ClientID:
		return nil, fmt.Errorf("resolve credential: the cached login is for client id %q, not %q; log in again", c.ClientID, s.ClientID)
	}
	return cachedLogin(ctx, path, c), nil
}

// clientCredentials fetches server-to-server tokens with the client id and secret.
func clientCredentials(ctx context.Context, ims string, s Settings) *Credential {
	scope := s.Scope
	if scope == "" {
		scope = DefaultScope
	}
	conf := &clientcredentials.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		TokenURL:     ims + tokenPath,
		Scopes:       []string{scope},
		AuthStyle:    oauth2.AuthStyleInParams, // IMS takes the client in the form body
	}
	return &Credential{
		kind:     KindClientCredentials,
		clientID: s.ClientID,
		secret:   s.ClientSecret,
		ctx:      ctx,
		fetch: func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
			tok, err := conf.Token(imsContext(ctx))
			if err != nil {
				return nil, fmt.Errorf("get client credentials token: %w", imsError(err))
			}
			return tok, nil
		},
	}
}

// cachedLogin renews the login in the cache at path with its refresh token, and writes every
// new token back at once, since IMS has already retired the refresh token it replaces.
func cachedLogin(ctx context.Context, path string, c *Cache) *Credential {
	conf := loginConfig(c.IMSURL, c.ClientID, "")
	refresh := func(ctx context.Context, rt string) (*oauth2.Token, error) {
		// An empty access token makes the library's source refresh at once.
		return conf.TokenSource(imsContext(ctx), &oauth2.Token{RefreshToken: rt}).Token()
	}
	return &Credential{
		kind:      KindLogin,
		clientID:  c.ClientID,
		cachePath: path,
		ctx:       ctx,
		tok:       c.token(),
		fetch: func(ctx context.Context, old *oauth2.Token) (*oauth2.Token, error) {
			tok, err := refresh(ctx, old.RefreshToken)
			if err == nil {
				return tok, nil
			}
			if !isCode(err, "invalid_grant") {
				return nil, fmt.Errorf("refresh login: %w", imsError(err))
			}
			// Another fiosync may have rotated the refresh token since this one read the
			// cache: adopt its newer token.
			disk, derr := ReadCache(path)
			if derr != nil || disk.IMSURL != c.IMSURL || disk.ClientID != c.ClientID || disk.RefreshToken == old.RefreshToken {
				return nil, fmt.Errorf("refresh login: %w (%w)", ErrLoginExpired, imsError(err))
			}
			if t := disk.token(); t.Valid() && t.AccessToken != old.AccessToken {
				return t, nil
			}
			if tok, err = refresh(ctx, disk.RefreshToken); err != nil {
				if isCode(err, "invalid_grant") {
					return nil, fmt.Errorf("refresh login: %w (%w)", ErrLoginExpired, imsError(err))
				}
				return nil, fmt.Errorf("refresh login: %w", imsError(err))
			}
			return tok, nil
		},
		save: func(tok *oauth2.Token) error {
			if err := WriteCache(path, newCache(c.IMSURL, c.ClientID, tok)); err != nil {
				return fmt.Errorf("save refreshed login: %w", err)
			}
			return nil
		},
	}
}

// Kind says which credential this is.
func (c *Credential) Kind() Kind { return c.kind }

// ClientID is the IMS client id of client credentials and logins; "" for a fixed token.
func (c *Credential) ClientID() string { return c.clientID }

// CachePath is the token cache of a login; "" for the other kinds.
func (c *Credential) CachePath() string { return c.cachePath }

// Token returns the current token, renewing it first when it has expired (or expires within
// the library's ten-second margin). It implements oauth2.TokenSource.
func (c *Credential) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetch == nil || c.tok.Valid() {
		return c.tok, nil
	}
	return c.renew(c.ctx)
}

// Refresh discards the access token and gets a new one whatever its expiry says: the API
// refused it. It fits frameio.WithTokenRefresh. A fixed token cannot be renewed
// (ErrNotRenewable).
func (c *Credential) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetch == nil {
		return ErrNotRenewable
	}
	_, err := c.renew(ctx)
	return err
}

// renew fetches and saves a new token. Callers hold c.mu.
func (c *Credential) renew(ctx context.Context) (*oauth2.Token, error) {
	if c.broken != nil {
		return nil, c.broken
	}
	old := c.tok
	if old == nil {
		old = &oauth2.Token{}
	}
	tok, err := c.fetch(ctx, old)
	if err != nil {
		if errors.Is(err, ErrLoginExpired) || isCode(err, "invalid_client") {
			c.broken = err
		}
		return nil, err
	}
	// Keep the token even if saving fails: IMS has retired the old one, so this process
	// can go on only with the new one, while the error tells the person the cache is stale.
	c.tok = tok
	c.tell()
	if c.save != nil {
		if err := c.save(tok); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// WatchSecrets calls f with every secret the credential holds now (the access token, a
// login's refresh token, the client secret of client credentials) and then with each new token
// as soon as it arrives, before it is used. The CLI scrubs these values from everything it
// writes. f runs with the credential locked, so it must not call back into c.
func (c *Credential) WatchSecrets(f func(value string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watch = append(c.watch, f)
	if c.secret != "" {
		f(c.secret)
	}
	c.tell()
}

// tell passes the current token's secrets to the watchers. Callers hold c.mu.
func (c *Credential) tell() {
	if c.tok == nil {
		return
	}
	for _, f := range c.watch {
		for _, v := range []string{c.tok.AccessToken, c.tok.RefreshToken} {
			if v != "" {
				f(v)
			}
		}
	}
}

// Client returns an HTTP client that authorizes every request with the credential's current
// token (an oauth2.Transport over http.DefaultTransport). It follows redirects only within
// the origin of the request, since the transport would authorize the redirected request too
// (ErrCrossOriginRedirect).
func (c *Credential) Client() *http.Client {
	// Not oauth2.NewClient: it wraps the source in a ReuseTokenSource of its own, whose
	// cached token Refresh could not discard.
	return &http.Client{Transport: &oauth2.Transport{Source: c}, CheckRedirect: sameOrigin}
}

// imsOrigin checks an IMS origin and returns it without a trailing slash.
func imsOrigin(raw string) (string, error) {
	if raw == "" {
		return DefaultIMSURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("check IMS URL %q: want an http or https origin such as %s", raw, DefaultIMSURL)
	}
	return u.Scheme + "://" + u.Host, nil
}

// loginConfig is the OAuth configuration of a person's login with clientID.
func loginConfig(ims, clientID, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   ims + authorizePath,
			TokenURL:  ims + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURL,
		Scopes:      loginScopes,
	}
}

// loginScopes are what a person's login asks for; offline_access yields the refresh token.
var loginScopes = []string{"openid", "profile", "email", "offline_access", "additional_info.roles"}

// IMSError is a refusal from IMS: the HTTP status and IMS's error code and description. It
// never carries the answer's body.
type IMSError struct {
	Status      int
	Code        string // e.g. "invalid_grant"; "" when the answer had none
	Description string
}

// Error words the refusal in one line, without any token or secret.
func (e *IMSError) Error() string {
	s := fmt.Sprintf("IMS answered %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// imsError turns the library's *oauth2.RetrieveError, whose message may repeat the answer's
// body, into an *IMSError; a refused redirect loses the Location net/http quotes; other
// errors pass unchanged.
func imsError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return redirectCause(err)
	}
	e := &IMSError{Code: re.ErrorCode, Description: re.ErrorDescription}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	return e
}

// isCode reports whether err is an IMS refusal with the OAuth error code.
func isCode(err error, code string) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode == code
	}
	var ie *IMSError
	return errors.As(err, &ie) && ie.Code == code
}
