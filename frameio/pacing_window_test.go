package frameio

import (
	"net/http"
	"testing"
	"time"
)

// TestPacerIgnoresHugeWindow: a server that reports nothing left in a window of years (or an
// infinite one) does not hold the client for it; a window it can use still holds it.
func TestPacerIgnoresHugeWindow(t *testing.T) {
	for _, window := range []string{"1e18", "+Inf", "3600001"} {
		p := newPacer(false)
		p.observe("create", http.Header{"X-Ratelimit-Window": {window}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"5"}})
		if hold := p.class("create").hold; !hold.IsZero() {
			t.Errorf("window %s ms: held until %v, want no hold", window, hold)
		}
	}
	p := newPacer(false)
	p.observe("create", http.Header{"X-Ratelimit-Window": {"60000"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"5"}})
	if hold := p.class("create").hold; time.Until(hold) < 50*time.Second {
		t.Errorf("a 60 s window with nothing left: held until %v, want about a minute", hold)
	}
}
