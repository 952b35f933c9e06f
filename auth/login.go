package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// LoginOptions configure Login.
type LoginOptions struct {
	IMSURL    string // IMS origin; "" means DefaultIMSURL
	ClientID  string // a public IMS client (no secret); required
	CachePath string // where the login is cached; "" means DefaultCachePath()
	// Browse is called once with the authorize URL, when the loopback listener is ready. It
	// should show the URL to the person and may open a browser; it must not wait for the
	// login to finish.
	Browse func(authURL string)
}

// callbackPath is where IMS sends the browser back to on the loopback listener.
const callbackPath = "/callback"

// shutdownGrace bounds how long the loopback listener may take to finish its last answer.
const shutdownGrace = 5 * time.Second

// Login logs a person in with the authorization code grant and PKCE: it serves a loopback
// redirect listener on 127.0.0.1, passes the authorize URL to o.Browse, waits for the browser
// to come back (until ctx ends: give it a timeout), checks the state, exchanges the code with
// the PKCE verifier and writes the tokens to the cache. The returned Credential is that login.
func Login(ctx context.Context, o LoginOptions) (*Credential, error) {
	if o.ClientID == "" {
		return nil, errors.New("log in: no client id")
	}
	ims, err := imsOrigin(o.IMSURL)
	if err != nil {
		return nil, err
	}
	path := o.CachePath
	if path == "" {
		if path, err = DefaultCachePath(); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("log in: listen for the browser: %w", err)
	}
	conf := loginConfig(ims, o.ClientID, "http://"+ln.Addr().String()+callbackPath)
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()

	cb := &callback{state: state, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET "+callbackPath, cb)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) }) // returns ErrServerClosed after Shutdown
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		wg.Wait()
	}()

	if o.Browse != nil {
		o.Browse(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	}
	select {
	case <-cb.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("log in: wait for the browser: %w", ctx.Err())
	}
	if cb.err != nil {
		return nil, fmt.Errorf("log in: %w", cb.err)
	}
	tok, err := conf.Exchange(imsContext(ctx), cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("log in: exchange the code: %w", imsError(err))
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("log in: IMS sent no refresh token (is offline_access allowed for this client?)")
	}
	cache := newCache(ims, o.ClientID, tok)
	if err := WriteCache(path, cache); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	return cachedLogin(ctx, path, cache), nil
}

// callback receives the browser's return to the loopback listener. The first request to the
// callback path decides the outcome; later ones are told the login is over.
type callback struct {
	state string
	once  sync.Once
	done  chan struct{} // closed when code or err is set
	code  string
	err   error
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	handled := false
	cb.once.Do(func() {
		handled = true
		q := r.URL.Query()
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) != 1:
			// Not the answer to this request: a stale tab, or someone else's redirect.
			cb.err = errors.New("the browser came back with a different state; the login was not the one this command started")
		case q.Get("error") != "":
			cb.err = &IMSError{Status: http.StatusFound, Code: q.Get("error"), Description: q.Get("error_description")}
		case q.Get("code") == "":
			cb.err = errors.New("the browser came back without a code")
		default:
			cb.code = q.Get("code")
		}
	})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case !handled:
		w.WriteHeader(http.StatusGone)
		fmt.Fprintln(w, "This fiosync login is already over. Return to the terminal.")
		return
	case cb.err != nil:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "fiosync login failed. Return to the terminal for details.")
	default:
		fmt.Fprintln(w, "fiosync received the login. You can close this window and return to the terminal.")
	}
	close(cb.done)
}
