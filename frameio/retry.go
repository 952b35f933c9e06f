package frameio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy bounds how hard the client retries a failed request. It applies to API calls and
// to part PUTs alike; each request gets its own budget.
type RetryPolicy struct {
	// MaxAttempts is the most times one request is sent, the first included. A 401 answered
	// by a token refresh does not count.
	MaxAttempts int
	// BaseDelay is the backoff cap before the second attempt; it doubles for every attempt
	// after that. The actual delay is drawn uniformly from [0, cap) ("full jitter").
	BaseDelay time.Duration
	// MaxDelay caps one backoff delay drawn from the schedule above.
	MaxDelay time.Duration
	// MaxWait caps the total time one request spends waiting between attempts, Retry-After
	// included. A Retry-After that would cross it ends the retries at once.
	MaxWait time.Duration
}

// DefaultRetryPolicy is what a Client uses without WithRetry: up to 6 attempts, backoff from
// 1 s doubling to at most 30 s, and at most 2 minutes of waiting per request.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxWait: 2 * time.Minute}
}

// normalize fills zero fields from the default policy, so a caller can set only what it cares
// about.
func (p RetryPolicy) normalize() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxWait <= 0 {
		p.MaxWait = d.MaxWait
	}
	return p
}

// backoff returns the full-jitter delay to wait before attempt number next (2 for the first
// retry).
func (p RetryPolicy) backoff(next int) time.Duration {
	ceiling := p.BaseDelay
	for i := 2; i < next && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxDelay)
	return rand.N(ceiling) + 1
}

// retrier tracks one request's attempts and waiting time.
type retrier struct {
	policy  RetryPolicy
	attempt int // attempts sent so far
	waited  time.Duration
}

// next decides whether another attempt may follow and how long to wait before it: the server's
// Retry-After when it gave one (retryAfter > 0), else the backoff schedule. It returns false
// when the attempts or the waiting budget are spent.
func (r *retrier) next(retryAfter time.Duration) (time.Duration, bool) {
	if r.attempt >= r.policy.MaxAttempts {
		return 0, false
	}
	d := retryAfter
	if d <= 0 {
		d = r.policy.backoff(r.attempt + 1)
	}
	if r.waited+d > r.policy.MaxWait {
		return 0, false
	}
	r.waited += d
	return d, true
}

// wait sleeps before the next attempt after one that failed with cause. It returns cause
// wrapped as "give up after N attempts" when next allows no other attempt, and ctx's error
// after prefix when ctx ends during the sleep.
func (r *retrier) wait(ctx context.Context, retryAfter time.Duration, cause error, prefix string) error {
	d, ok := r.next(retryAfter)
	if !ok {
		return fmt.Errorf("give up after %d attempts: %w", r.attempt, cause)
	}
	if err := sleep(ctx, d); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableStatus reports whether an idempotent request that got this status may be sent
// again: request timeout, rate limited, or a server-side failure.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// parseRetryAfter reads a Retry-After header given in seconds (fractions accepted) or as an
// HTTP date. It returns 0 when the header is absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// neverSent reports whether a transport error proves the request never reached the server: the
// connection could not be opened at all (refused, unreachable, DNS failure). Only then may a
// non-idempotent create be sent again without risking a duplicate.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// unreachable reports whether a transport error says the origin cannot be reached at all:
// nothing listens there (connection refused) or its name does not resolve. Both are
// settled facts about the address, not blips, when the API has never answered.
func unreachable(err error) bool {
	var dns *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns)
}
