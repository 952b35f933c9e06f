package frameio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultUserAgent is sent on API calls unless WithUserAgent replaces it.
const DefaultUserAgent = "fiosync-frameio/1"

// maxBody bounds how much of an API response the client reads; real answers are far smaller.
const maxBody = 16 << 20

// Client talks to the Frame.io V4 API. It is safe for concurrent use, and all goroutines that
// share one Client share its pacing, so use one Client per account user.
type Client struct {
	base      *url.URL     // origin only: scheme and host
	hc        *http.Client // API calls; carries auth
	parts     *http.Client // part PUTs; never carries auth
	retry     RetryPolicy
	pace      *pacer
	userAgent string
	refresh   func(context.Context) error
	refreshMu sync.Mutex
	log       *slog.Logger
	// assetPageSize is the page_size of asset lists: 500, or 100 once a server refused 500.
	assetPageSize atomic.Int32
	// answered is set once the API has answered any request: until then a connection that
	// cannot be opened means a wrong origin, not a blip, and is not retried.
	answered atomic.Bool
}

// Option configures a Client in New.
type Option func(*Client)

// WithPartClient sets the HTTP client for part PUTs to presigned URLs. It must not add an
// Authorization header: the presigned URL is the credential. The default is a plain client
// with connect, TLS and response-header timeouts and no overall timeout (parts are large).
func WithPartClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.parts = hc
		}
	}
}

// WithRetry replaces DefaultRetryPolicy. Zero fields keep their default.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) { c.retry = p.normalize() }
}

// WithoutPacing turns off the client-side rate limiter, for servers that neither limit nor
// send x-ratelimit-* headers. It is not needed for the emulator with limits off: it announces
// a very large limit, and the client paces from the headers. 429 answers are still retried.
func WithoutPacing() Option {
	return func(c *Client) { c.pace = newPacer(true) }
}

// WithUserAgent sets the User-Agent of API calls.
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}

// WithTokenRefresh installs a hook the client calls when an API call answers 401: it should
// make the auth transport of the API client fetch a new token. The call is then sent once more;
// a second 401 is returned as an *APIError. Refreshes are serialized, so concurrent 401s do
// not stampede the token endpoint, but each of them does call the hook.
func WithTokenRefresh(refresh func(ctx context.Context) error) Option {
	return func(c *Client) { c.refresh = refresh }
}

// WithLogger sends one debug line per HTTP attempt to l: method, path without query, status,
// attempt and duration. Tokens, headers and query strings are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// New returns a Client for the API at baseURL, an origin such as "https://api.frame.io"
// (paths "/v4/..." are appended). hc sends the API calls and carries the auth, for example an
// oauth2 client or a transport that sets a static bearer token. The Client uses a copy of hc
// that follows redirects only within the origin of the request (ErrCrossOriginRedirect).
func New(baseURL string, hc *http.Client, opts ...Option) (*Client, error) {
	if hc == nil {
		return nil, errors.New("create frameio client: nil http client")
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &BaseURLError{URL: Redact(baseURL), Reason: "not an http or https origin"}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &BaseURLError{URL: Redact(baseURL), Reason: "an origin has no path, query or user"}
	}
	c := &Client{
		base:      &url.URL{Scheme: u.Scheme, Host: u.Host},
		hc:        guardRedirects(hc),
		parts:     defaultPartClient(),
		retry:     DefaultRetryPolicy(),
		pace:      newPacer(false),
		userAgent: DefaultUserAgent,
		log:       slog.New(slog.DiscardHandler),
	}
	c.assetPageSize.Store(assetPageSize)
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// defaultPartClient is tuned for many concurrent large PUTs to one host: enough idle
// connections per host to reuse them all, and timeouts on every phase that is not the body.
func defaultPartClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: t}
}

// call is one API request as the endpoint methods describe it.
type call struct {
	method string
	route  string // route template, e.g. routeFile; names the rate-limit class
	path   string // escaped path, maybe with a query
	body   any    // wrapped in {"data": ...} when not nil
	out    any    // the whole decoded response body, when not nil
	// goneOK makes a 404 that follows an attempt which may have taken effect a success: used
	// by DELETE, whose earlier attempt may have deleted the file before its answer was lost.
	goneOK bool
}

// do sends c with pacing, retries and the one-time token refresh, and decodes the answer.
// Errors start with the method and the path without its query.
func (cl *Client) do(ctx context.Context, c call) error {
	// PATCH here only sets a parent or a name: sending it twice has the effect of sending it once.
	idempotent := c.method == http.MethodGet || c.method == http.MethodDelete || c.method == http.MethodPatch
	var body []byte
	if c.body != nil {
		var err error
		if body, err = json.Marshal(struct {
			Data any `json:"data"`
		}{c.body}); err != nil {
			return fmt.Errorf("%s %s: encode body: %w", c.method, pathOnly(c.path), err)
		}
	}
	class := c.method + " " + c.route
	r := retrier{policy: cl.retry}
	refreshed := false
	mayHaveActed := false // an earlier attempt may have reached the server and acted
	for {
		if err := cl.pace.wait(ctx, class); err != nil {
			return fmt.Errorf("%s %s: %w", c.method, pathOnly(c.path), err)
		}
		r.attempt++
		resp, err := cl.send(ctx, c, body, r.attempt)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", c.method, pathOnly(c.path), ctx.Err())
			}
			if errors.Is(err, ErrCrossOriginRedirect) || !idempotent && !neverSent(err) {
				return err
			}
			if !cl.answered.Load() && unreachable(err) {
				return &UnreachableError{Origin: cl.base.String(), Err: err}
			}
			mayHaveActed = mayHaveActed || !neverSent(err)
			if err := r.wait(ctx, 0, err, c.method+" "+pathOnly(c.path)); err != nil {
				return err
			}
			continue
		}
		cl.answered.Store(true)
		cl.pace.observe(class, resp.Header)
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if readErr != nil {
			// The status arrived but the body was cut: for a create the effect happened, so
			// only idempotent calls may go again.
			err := fmt.Errorf("%s %s: read response: %w", c.method, pathOnly(c.path), readErr)
			if !idempotent || ctx.Err() != nil {
				return err
			}
			mayHaveActed = true
			if err := r.wait(ctx, 0, err, c.method+" "+pathOnly(c.path)); err != nil {
				return err
			}
			continue
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			if c.out == nil || len(bytes.TrimSpace(data)) == 0 {
				return nil
			}
			if err := json.Unmarshal(data, c.out); err != nil {
				return fmt.Errorf("%s %s: decode response: %w", c.method, pathOnly(c.path), err)
			}
			return nil
		case code == http.StatusNotFound && c.goneOK && mayHaveActed:
			cl.log.DebugContext(ctx, "frameio: 404 after a lost answer counts as done",
				"method", c.method, "path", pathOnly(c.path))
			return nil
		case code == http.StatusUnauthorized && cl.refresh != nil && !refreshed:
			// A 401 is rejected before any effect, so even a create may go again.
			refreshed = true
			r.attempt-- // the refresh retry is not a backoff attempt
			if err := cl.refreshToken(ctx); err != nil {
				return fmt.Errorf("%w (refresh token: %w)", apiError(c, resp, data), err)
			}
			continue
		}
		apiErr := apiError(c, resp, data)
		retry := resp.StatusCode == http.StatusTooManyRequests ||
			(idempotent && retryableStatus(resp.StatusCode))
		if !retry {
			return apiErr
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			mayHaveActed = true
		}
		if err := r.wait(ctx, parseRetryAfter(resp.Header, time.Now()), apiErr, c.method+" "+pathOnly(c.path)); err != nil {
			return err
		}
	}
}

// send makes one attempt. Transport errors come back with the redacted URL.
func (cl *Client) send(ctx context.Context, c call, body []byte, attempt int) (*http.Response, error) {
	u := cl.base.String() + c.path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build request: invalid path", c.method, pathOnly(c.path))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", cl.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := cl.hc.Do(req)
	if err != nil {
		err = transportCause(err)
		cl.log.DebugContext(ctx, "frameio: api call failed", "method", c.method, "path", pathOnly(c.path),
			"attempt", attempt, "elapsed", time.Since(start), "error", err.Error())
		return nil, fmt.Errorf("%s %s: %w", c.method, pathOnly(c.path), err)
	}
	cl.log.DebugContext(ctx, "frameio: api call", "method", c.method, "path", pathOnly(c.path),
		"status", resp.StatusCode, "attempt", attempt, "elapsed", time.Since(start),
		"ratelimit_remaining", resp.Header.Get("X-Ratelimit-Remaining"))
	return resp, nil
}

// refreshToken runs the refresh hook, one caller at a time.
func (cl *Client) refreshToken(ctx context.Context) error {
	cl.refreshMu.Lock()
	defer cl.refreshMu.Unlock()
	return cl.refresh(ctx)
}

// apiError builds the *APIError for a non-success answer. An unreadable body still gives the
// status and request id.
func apiError(c call, resp *http.Response, data []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Method: c.method, Path: pathOnly(c.path), RequestID: requestID(resp.Header)}
	var env struct {
		Errors []ErrorItem `json:"errors"`
	}
	if json.Unmarshal(data, &env) == nil {
		e.Errors = env.Errors
	}
	return e
}

// requestID reads the request id header under the names APIs commonly use.
func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "X-Frameio-Request-Id", "X-Amz-Request-Id", "X-Correlation-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// pathOnly drops the query from a request path.
func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}

// transportCause unwraps the *url.Error that net/http puts around every transport error: it
// repeats the full URL, query string included, which must not reach a message. Callers name
// the request themselves with a redacted URL.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
