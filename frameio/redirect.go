package frameio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrCrossOriginRedirect reports that the API answered with a redirect to another origin
// (scheme, host and port), which the client refuses to follow: the auth transport would add
// the bearer token to the redirected request too, handing it to whoever the Location names.
// Retrying cannot help, so the call fails at once.
var ErrCrossOriginRedirect = errors.New("refused a redirect to another origin")

// maxRedirects is how many same-origin redirects one call follows, as net/http does.
const maxRedirects = 10

// guardRedirects returns a shallow copy of hc whose redirects stay on the origin of the
// request that started them; hc's own CheckRedirect, if any, still decides the rest.
func guardRedirects(hc *http.Client) *http.Client {
	guarded := *hc
	next := hc.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if from, to := origin(via[0].URL), origin(req.URL); from != to {
			return fmt.Errorf("%w: from %s to %s; fiosync sends credentials to the API's origin only", ErrCrossOriginRedirect, from, to)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &guarded
}

// origin is a URL's scheme and host (with the port when it has one), the unit a credential
// is scoped to; it never carries the path or query.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}
