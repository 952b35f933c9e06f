package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/fiosync/fiosync/frameio"
)

// client builds the authenticated Frame.io client for the commands that talk to the API.
// Only commands that need it call it, so validate and init work offline and without
// credentials.
func (g *Globals) client(ctx context.Context) (*frameio.Client, error) {
	token := strings.TrimSpace(g.getenv("FRAMEIO_TOKEN"))
	if token == "" {
		return nil, errors.New("no Frame.io credentials: set FRAMEIO_TOKEN to an access token, or FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET, or run fiosync auth login")
	}
	hc := oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"}))
	c, err := frameio.New(g.APIURL, hc, frameio.WithUserAgent("fiosync/"+version))
	if err != nil {
		return nil, fmt.Errorf("set up Frame.io client: %w", err)
	}
	return c, nil
}
