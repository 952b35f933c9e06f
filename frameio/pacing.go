package frameio

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// documentedLimits are Frame.io's published rate limits per endpoint and account user, keyed
// by the same route templates the client uses for its calls. Routes missing here start
// unpaced and learn their limit from the first response's x-ratelimit-* headers.
var documentedLimits = map[string]struct {
	n      int
	window time.Duration
}{
	"POST " + routeLocalUpload:  {5, time.Second},
	"POST " + routeRemoteUpload: {5, time.Second},
	"GET " + routeFile:          {5, time.Second},
	"GET " + routeFileStatus:    {5, time.Second},
	"GET " + routeFiles:         {5, time.Second},
	"GET " + routeFolders:       {5, time.Second},
	"POST " + routeFolders:      {3, time.Second},
	"GET " + routeChildren:      {100, time.Minute},
	"DELETE " + routeFile:       {100, time.Minute},
	"GET " + routeAccounts:      {100, time.Minute},
	"POST " + routeVersionStack: {10, time.Minute},
	"PATCH " + routeFile:        {100, time.Minute},
	"PATCH " + routeMoveFile:    {100, time.Minute},
	"PATCH " + routeMoveFiles:   {60, time.Minute},
	"PATCH " + routeMoveStack:   {10, time.Minute},
}

// pacer holds one limiter per rate-limit class. It is shared by every goroutine that uses the
// Client, because the server counts per account user, not per goroutine.
type pacer struct {
	off bool

	mu      sync.Mutex
	classes map[string]*rateClass
}

// rateClass paces one endpoint: a token bucket at the endpoint's rate, a spacing learned from
// what the server's bucket has left, plus a hold set when the server reports that nothing
// remains in the current window.
//
// The server's bucket is the account user's, shared by every process on that user's
// credentials (several runners of one delivery), so the token bucket alone, which knows only
// this process, would let three processes send three times the limit. The spacing is what
// keeps them together under it: after an answer saying r requests remain of the window w,
// this process sends its requests no closer than w/(safetyRate*(r+1)). One process alone
// keeps r near the limit and runs at the token bucket's rate; N processes drain r until
// together they send at the server's rate, each taking its share without knowing N.
type rateClass struct {
	mu     sync.Mutex
	lim    *rate.Limiter // nil while the class has no known limit
	n      int           // limit per window, as last learned
	window time.Duration // window, as last learned
	hold   time.Time     // send nothing before this instant
	gap    time.Duration // spacing from the last answer's remaining and window
	next   time.Time     // the earliest instant for the next request, by gap
}

func newPacer(off bool) *pacer {
	return &pacer{off: off, classes: make(map[string]*rateClass)}
}

// class returns the limiter for key, creating it from the documented limits on first use.
func (p *pacer) class(key string) *rateClass {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.classes[key]
	if !ok {
		c = &rateClass{}
		if d, ok := documentedLimits[key]; ok {
			c.setLimit(d.n, d.window, d.n)
		}
		p.classes[key] = c
	}
	return c
}

// wait blocks until a request of class key may be sent: past any hold, then through the
// bucket. A hold set while it waited in the bucket (another request's answer said nothing
// remains) is honoured too.
func (p *pacer) wait(ctx context.Context, key string) error {
	if p.off {
		return nil
	}
	c := p.class(key)
	if err := c.waitHold(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	lim := c.lim
	c.mu.Unlock()
	if lim == nil {
		return nil
	}
	if err := lim.Wait(ctx); err != nil {
		return err
	}
	if err := c.waitGap(ctx); err != nil {
		return err
	}
	return c.waitHold(ctx)
}

// waitGap takes the next slot of the spacing learned from the shared bucket, and sleeps
// until it.
func (c *rateClass) waitGap(ctx context.Context) error {
	c.mu.Lock()
	now := time.Now()
	at := c.next
	if at.Before(now) {
		at = now
	}
	c.next = at.Add(c.gap)
	c.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return sleep(ctx, d)
	}
	return nil
}

// waitHold sleeps until the class's hold has passed.
func (c *rateClass) waitHold(ctx context.Context) error {
	for {
		c.mu.Lock()
		d := time.Until(c.hold)
		c.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// observe learns from a response's x-ratelimit-limit, -remaining and -window (milliseconds)
// headers: a limit or window that differs from what the class assumed replaces its bucket
// (filled to what remains), remaining and window set the spacing (see rateClass), and a
// remaining of 0 holds the class until the window has passed.
func (p *pacer) observe(key string, h http.Header) {
	if p.off {
		return
	}
	ms, err := strconv.ParseFloat(h.Get("X-Ratelimit-Window"), 64)
	if err != nil || ms <= 0 || ms > float64(maxWindow/time.Millisecond) {
		return // not a window this client can use: a huge one would stall it for good
	}
	window := time.Duration(ms * float64(time.Millisecond))
	remaining, errR := strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	n, errN := strconv.Atoi(h.Get("X-Ratelimit-Limit"))
	c := p.class(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if errN == nil && n > 0 && (n != c.n || window != c.window) {
		left := n
		if errR == nil {
			left = max(min(remaining, n), 0)
		}
		c.setLimit(n, window, left)
	}
	if errR == nil {
		c.gap = time.Duration(float64(window) / (safetyRate * float64(max(remaining, 0)+1)))
	}
	if errR == nil && remaining <= 0 {
		if until := time.Now().Add(window); until.After(c.hold) {
			c.hold = until
		}
	}
}

// maxWindow is the longest rate-limit window the client takes from a server's headers;
// Frame.io's are a minute.
const maxWindow = time.Hour

// safetyRate is the share of the server's drain rate the client uses. The server counts
// arrivals, the client counts departures, and the two differ by network jitter; running a
// little slower, with a burst one short of the bucket, leaves about one slot of slack for it.
const safetyRate = 0.9

// setLimit gives the class a new bucket for a server limit of n requests per window, holding
// left tokens: 90% of the rate, with a burst of n-1 (at least 1). c.mu is held or c is not
// yet shared.
func (c *rateClass) setLimit(n int, window time.Duration, left int) {
	c.n, c.window = n, window
	burst := max(1, n-1)
	c.lim = rate.NewLimiter(rate.Limit(safetyRate*float64(n)/window.Seconds()), burst)
	if used := burst - min(left, burst); used > 0 {
		c.lim.ReserveN(time.Now(), used)
	}
}

// rate returns the requests per second the client allows itself for class key: the pacer's
// rate, from the documented limit or the server's latest headers. 0 means unpaced or not known.
func (p *pacer) rate(key string) float64 {
	if p.off {
		return 0
	}
	c := p.class(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lim == nil {
		return 0
	}
	return float64(c.lim.Limit())
}

// CreateRate returns the uploads per second the client creates at most under Frame.io's rate
// limit for local uploads (documented, or learned from the x-ratelimit-* headers, less the
// client's safety margin); 0 means unpaced. A progress display divides the files not yet
// started by it: for many small files it, not the bandwidth, says how long the rest takes.
func (cl *Client) CreateRate() float64 {
	return cl.pace.rate("POST " + routeLocalUpload)
}
