package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// ErrCrossOriginRedirect reports a redirect to another origin (scheme, host and port) that
// this package refused to follow. A 307 or 308 from the token endpoint would make net/http post
// the same form, client secret or refresh token included, to whatever the Location names, and
// the API client's transport adds the bearer token to every request it sends; so neither
// follows a redirect off the origin it started on.
var ErrCrossOriginRedirect = errors.New("refused a redirect to another origin")

// maxRedirects is how many same-origin redirects a request follows, as net/http does.
const maxRedirects = 10

// sameOrigin is the CheckRedirect of every HTTP client this package makes.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if from, to := origin(via[0].URL), origin(req.URL); from != to {
		return fmt.Errorf("%w: from %s to %s; fiosync sends credentials to the origin they are for only", ErrCrossOriginRedirect, from, to)
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// origin is a URL's scheme and host, with the port when it has one.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// imsClient sends the token requests (client credentials, refreshes, the code exchange).
var imsClient = &http.Client{CheckRedirect: sameOrigin}

// imsContext makes the oauth2 library send its token requests with imsClient.
func imsContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, imsClient)
}

// redirectCause unwraps the *url.Error net/http puts around a refused redirect: it quotes the
// Location whole, query string included.
func redirectCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, ErrCrossOriginRedirect) {
		return ue.Err
	}
	return err
}
