package main

import (
	"context"
	"errors"
	"strings"

	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/frameio"
)

// errNoCredentials is what a command that needs the API says when nothing is configured.
var errNoCredentials = errors.New("no Frame.io credentials: set FRAMEIO_TOKEN to an access token, or FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET, or run fiosync auth login")

// client builds the authenticated Frame.io client for the commands that talk to the API.
// Only commands that need it call it, so validate and init work offline and without
// credentials.
func (g *Globals) client(ctx context.Context) (*frameio.Client, error) {
	if g.api != nil {
		return g.api, nil
	}
	cred, err := g.credential(ctx)
	if err != nil {
		return nil, err
	}
	if g.api, err = g.clientFor(cred); err != nil {
		return nil, err
	}
	return g.api, nil
}

// credential resolves the credential the environment selects: FRAMEIO_TOKEN, else
// FRAMEIO_CLIENT_ID with FRAMEIO_CLIENT_SECRET (scope FRAMEIO_SCOPE), else the cached login,
// and makes sure it yields a token.
func (g *Globals) credential(ctx context.Context) (*auth.Credential, error) {
	cred, err := auth.Resolve(ctx, auth.Settings{
		Token:        strings.TrimSpace(g.getenv("FRAMEIO_TOKEN")),
		ClientID:     strings.TrimSpace(g.getenv("FRAMEIO_CLIENT_ID")),
		ClientSecret: strings.TrimSpace(g.getenv("FRAMEIO_CLIENT_SECRET")),
		Scope:        strings.TrimSpace(g.getenv("FRAMEIO_SCOPE")),
		IMSURL:       g.IMSURL,
	})
	if errors.Is(err, auth.ErrNoCredential) {
		return nil, errNoCredentials
	}
	if err != nil {
		return nil, err
	}
	held.watch(cred)
	g.credKind = cred.Kind()
	// Get the first token now: a wrong secret or a revoked login then fails at once with
	// IMS's answer, instead of as a transport error that the API client retries with backoff.
	if _, err := cred.Token(); err != nil {
		return nil, err
	}
	return cred, nil
}

// clientFor builds a Frame.io client on cred. Its HTTP client comes from oauth2, and a 401
// makes it renew the token once and try again; a fixed token (FRAMEIO_TOKEN) cannot be
// renewed, so its 401 is final at once.
func (g *Globals) clientFor(cred *auth.Credential) (*frameio.Client, error) {
	opts := []frameio.Option{frameio.WithUserAgent("fiosync/" + version), frameio.WithLogger(g.log)}
	if cred.Kind() != auth.KindToken {
		opts = append(opts, frameio.WithTokenRefresh(cred.Refresh))
	}
	c, err := frameio.New(g.APIURL, cred.Client(), opts...)
	if err != nil {
		return nil, err
	}
	return c, nil
}
