package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"time"

	"github.com/fiosync/fiosync/auth"
)

// authCmd groups the commands that manage how fiosync authenticates.
type authCmd struct {
	Login  authLoginCmd  `cmd:"" help:"Log in to Adobe IMS in a browser and cache the tokens."`
	Status authStatusCmd `cmd:"" help:"Show which credential fiosync uses, for whom, and until when."`
	Logout authLogoutCmd `cmd:"" help:"Remove the cached login."`
}

func (c *authCmd) Help() string {
	return `fiosync uses the first credential it finds: FRAMEIO_TOKEN (a token, used as is), then
FRAMEIO_CLIENT_ID with FRAMEIO_CLIENT_SECRET (a server-to-server credential; scope
FRAMEIO_SCOPE, default openid,AdobeID,frame.s2s.all), then the login cached by
'fiosync auth login'. Secrets are read from the environment only, never from flags.`
}

type authLoginCmd struct {
	APIFlags
	ClientID  string        `name:"client-id" placeholder:"ID" help:"Client id of a public IMS credential (OAuth Single Page App); default FRAMEIO_CLIENT_ID."`
	NoBrowser bool          `name:"no-browser" help:"Only print the login URL; do not open a browser."`
	Timeout   time.Duration `default:"5m" help:"How long to wait for the browser to come back."`
}

func (c *authLoginCmd) Help() string {
	return `Logs in with Adobe IMS (authorization code with PKCE): prints a URL, opens it in a browser
when it can, and waits on 127.0.0.1 for the browser to come back. The tokens are cached in
the user config directory (fiosync/token.json, mode 0600) and renewed as they expire.`
}

func (c *authLoginCmd) Validate() error {
	if c.Timeout <= 0 {
		return fmt.Errorf("--timeout must be a positive duration such as 5m, got %v", c.Timeout)
	}
	return nil
}

func (c *authLoginCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	clientID := c.ClientID
	if clientID == "" {
		if g.getenv("FRAMEIO_CLIENT_SECRET") != "" {
			return errors.New("log in: FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET are a server-to-server credential, which needs no login; to log in as a person, pass the client id of a public credential with --client-id")
		}
		clientID = g.getenv("FRAMEIO_CLIENT_ID")
	}
	if clientID == "" {
		return errors.New("log in: no client id: pass --client-id or set FRAMEIO_CLIENT_ID to the client id of a public IMS credential (OAuth Single Page App)")
	}
	lctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cred, err := auth.Login(lctx, auth.LoginOptions{
		IMSURL:   g.IMSURL,
		ClientID: clientID,
		Browse: func(u string) {
			fmt.Fprintf(io.Err, "Open this URL in a browser to log in to Adobe IMS:\n\n  %s\n\nWaiting up to %v for the browser to come back...\n", u, c.Timeout)
			if !c.NoBrowser {
				_ = openBrowser(g.getenv("BROWSER"), u) // the printed URL is the fallback
			}
		},
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("log in: the browser did not come back within %v; run the command again", c.Timeout)
	}
	if err != nil {
		return err
	}
	who := "Logged in"
	if client, err := g.clientFor(cred); err == nil {
		if me, err := client.Me(lctx); err == nil {
			who = fmt.Sprintf("Logged in as %s <%s>", me.Name, me.Email)
		}
	}
	fmt.Fprintf(io.Out, "%s. The login is cached in %s.\n", who, cred.CachePath())
	switch {
	case g.getenv("FRAMEIO_TOKEN") != "":
		fmt.Fprintln(io.Err, "note: FRAMEIO_TOKEN is set and takes precedence over this login.")
	case g.getenv("FRAMEIO_CLIENT_ID") != "" && g.getenv("FRAMEIO_CLIENT_SECRET") != "":
		fmt.Fprintln(io.Err, "note: FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET are set and take precedence over this login.")
	}
	return nil
}

// openBrowser asks the desktop to open u, or the program named by $BROWSER when set (the
// convention xdg-open and many CLIs follow); it does not wait for the browser.
func openBrowser(browser, u string) error {
	var cmd *exec.Cmd
	switch {
	case browser != "":
		cmd = exec.Command(browser, u)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", u)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

type authStatusCmd struct {
	APIFlags
}

func (c *authStatusCmd) Help() string {
	return `Shows which credential fiosync would use, the Frame.io user it belongs to (GET /v4/me) and
when the access token expires. It never prints a token or a secret.`
}

func (c *authStatusCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	cred, err := g.credential(ctx)
	if err != nil {
		return err
	}
	switch cred.Kind() {
	case auth.KindToken:
		fmt.Fprintln(io.Out, "Credential: FRAMEIO_TOKEN (a token from the environment, used as is)")
	case auth.KindClientCredentials:
		fmt.Fprintf(io.Out, "Credential: client credentials of client %q (FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET)\n", cred.ClientID())
	case auth.KindLogin:
		fmt.Fprintf(io.Out, "Credential: login of client %q, cached in %s\n", cred.ClientID(), cred.CachePath())
	}
	client, err := g.clientFor(cred)
	if err != nil {
		return err
	}
	me, err := client.Me(ctx)
	if err != nil {
		return fmt.Errorf("check credential: %w", err)
	}
	fmt.Fprintf(io.Out, "User: %s <%s>\n", me.Name, me.Email)
	tok, err := cred.Token()
	switch {
	case err != nil:
		return fmt.Errorf("check credential: %w", err)
	case tok.Expiry.IsZero():
		fmt.Fprintln(io.Out, "Access token expires: unknown")
	default:
		left := int(time.Until(tok.Expiry).Round(time.Minute).Minutes())
		fmt.Fprintf(io.Out, "Access token expires: %s (in %d min)\n", tok.Expiry.Local().Format(time.RFC3339), left)
	}
	return nil
}

type authLogoutCmd struct{}

func (c *authLogoutCmd) Run(io *stdio) error {
	path, err := auth.DefaultCachePath()
	if err != nil {
		return err
	}
	removed, err := auth.RemoveCache(path)
	if err != nil {
		return err
	}
	if removed {
		fmt.Fprintf(io.Out, "Logged out: removed %s.\n", path)
	} else {
		fmt.Fprintf(io.Out, "Not logged in: there is no %s.\n", path)
	}
	return nil
}
