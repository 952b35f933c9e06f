package emulator

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limitClass is one row of frameio-v4.md's rate-limit table: n requests per window.
type limitClass struct {
	n      float64
	window time.Duration
}

// The documented classes. Frame.io does not document limits for me, workspaces, projects and
// project; the emulator puts them with accounts list (100/min).
var (
	classFiles   = limitClass{5, time.Second}
	classFolder  = limitClass{3, time.Second}
	classListing = limitClass{100, time.Minute}
	classStack   = limitClass{10, time.Minute}
	classBulk    = limitClass{60, time.Minute} // the bulk file move
)

// tokenTable knows the bearer tokens the emulator accepts and the account user each acts for.
// A zero expiry never expires; the IMS endpoints (ims.go) add tokens with an expiry of
// Now()+TokenTTL. Every token belongs to the emulator's one user.
type tokenTable struct {
	mu     sync.Mutex
	tokens map[string]tokenInfo
}

type tokenInfo struct {
	user    string
	expires time.Time
}

func (t *tokenTable) add(token, user string, expires time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens[token] = tokenInfo{user: user, expires: expires}
}

// user returns the account user of a token that is known and unexpired.
func (t *tokenTable) user(token string, now time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, ok := t.tokens[token]
	if !ok || !info.expires.IsZero() && !now.Before(info.expires) {
		return "", false
	}
	return info.user, true
}

// bearer returns the token of an `Authorization: Bearer` header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// limiter is a leaky bucket per account user and route, as Frame.io counts: all of a user's
// tokens (several fiosync processes on one credential) pour into one bucket. Each request pours
// one unit in, the bucket drains at n per window, and a request that would overflow n is
// refused.
type limiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct{ user, route string }

type bucket struct {
	level float64
	last  time.Time
}

// verdict is what the limiter decided, with the numbers for the x-ratelimit-* headers.
type verdict struct {
	ok         bool
	limit      int
	remaining  int
	window     time.Duration
	retryAfter time.Duration
}

// unlimited is the x-ratelimit-limit (and -remaining) sent when rate limits are off
// (RateLimitScale 0): the spec requires the headers on every answer, and a client that paces
// from them should find nothing to wait for.
const unlimited = 1_000_000_000

// fresh is the verdict for an empty bucket of class c at scale; scale 0 means no limit.
func (c limitClass) fresh(scale float64) verdict {
	if scale <= 0 {
		return verdict{ok: true, limit: unlimited, remaining: unlimited, window: c.window}
	}
	limit := int(math.Floor(max(1, c.n*scale)))
	return verdict{ok: true, limit: limit, remaining: limit, window: c.window}
}

// setHeaders sets the x-ratelimit-* headers of v.
func (v verdict) setHeaders(h http.Header) {
	h.Set("x-ratelimit-limit", strconv.Itoa(v.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(v.remaining))
	h.Set("x-ratelimit-window", strconv.FormatInt(v.window.Milliseconds(), 10))
}

func (l *limiter) take(key bucketKey, c limitClass, scale float64, now time.Time) verdict {
	capacity := max(1, c.n*scale)
	rate := capacity / c.window.Seconds() // units drained per second
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.level = max(0, b.level-elapsed*rate)
		b.last = now
	}
	v := verdict{limit: int(math.Floor(capacity)), window: c.window}
	const eps = 1e-9
	if b.level+1 > capacity+eps {
		v.retryAfter = time.Duration((b.level + 1 - capacity) / rate * float64(time.Second))
		return v
	}
	b.level++
	v.ok = true
	v.remaining = max(0, int(math.Floor(capacity-b.level+eps)))
	return v
}

// statusWriter remembers the status a handler answered, for the stats.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wait sleeps for the configured latency; it reports false when the request went away first.
func (e *Emulator) wait(ctx context.Context) bool {
	d := e.faults.Load().Latency
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// api wraps an endpoint with what every API call goes through, in this order: latency, stats,
// request id, authentication (401), rate limit (429), API faults (500/503 before any effect),
// then the handler. Every answer carries the x-ratelimit-* headers, with a very large limit
// when rate limits are off.
func (e *Emulator) api(route string, class limitClass, h func(http.ResponseWriter, *http.Request) *apiError) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !e.wait(r.Context()) {
			return
		}
		w := &statusWriter{ResponseWriter: rw}
		defer func() { e.stats.record(route, w.status) }()
		w.Header().Set("x-request-id", newID())

		f := e.faults.Load()
		token, ok := bearer(r)
		user := ""
		if ok {
			user, ok = e.tokens.user(token, e.now())
		}
		if !ok {
			// No user, so no bucket: the headers say what a fresh one holds.
			v := class.fresh(f.RateLimitScale)
			v.setHeaders(w.Header())
			writeError(w, errStatus(http.StatusUnauthorized, "the bearer token is missing, unknown or expired"))
			return
		}
		v := class.fresh(0)
		if f.RateLimitScale > 0 {
			v = e.limits.take(bucketKey{user, route}, class, f.RateLimitScale, e.now())
		}
		v.setHeaders(w.Header())
		if !v.ok {
			if !f.NoRetryAfter {
				secs := int(math.Ceil(v.retryAfter.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
			}
			writeError(w, errStatus(http.StatusTooManyRequests, "rate limit exceeded for "+route))
			return
		}
		if e.dice.roll(f.APIFaultRate) {
			status := e.dice.pick(http.StatusInternalServerError, http.StatusServiceUnavailable)
			writeError(w, errStatus(status, "injected fault"))
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// userID returns the id of the emulator's one account user.
func (e *Emulator) userID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st.userID
}

// issueToken registers a new bearer token that expires after Options.TokenTTL. The IMS
// endpoints (ims.go) hand these out.
func (e *Emulator) issueToken() string {
	token := "emu_" + newID()
	e.tokens.add(token, e.userID(), e.now().Add(e.opts.TokenTTL))
	return token
}
