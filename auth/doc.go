// Package auth gets the Adobe IMS access tokens that Frame.io V4 accepts, the way fiosync's
// users work: a person logs in once on a laptop, and CI uses a server-to-server credential or a
// token from its secret store.
//
// # Where a credential comes from
//
// Resolve picks exactly one credential from Settings, in this order:
//
//  1. A token (FRAMEIO_TOKEN), used as is. fiosync cannot renew it: when the API refuses it,
//     the error says so.
//  2. A client id and secret (FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET): the OAuth client
//     credentials grant against IMS's /ims/token/v3, with the scope from Settings (by default
//     "openid,AdobeID,frame.s2s.all", IMS's comma-separated form). A new token is fetched when
//     the old one expires or is refused.
//  3. The cached login that Login wrote: access token, refresh token and expiry, renewed with
//     the refresh token.
//
// The order is the order of explicitness: what the environment of this one run says beats
// what a person set up on this machine some time ago. Precedence is total, not a fallback
// chain: a refused FRAMEIO_TOKEN is an error, never a silent switch to the cached login.
//
// # Login
//
// Login is the authorization code grant with PKCE (S256) for a public client, the credential
// Adobe calls "OAuth Single Page App", which has no secret. It listens on 127.0.0.1 at a
// random port, hands the authorize URL to a Browse callback (the CLI prints it and tries to
// open a browser), and waits for IMS to redirect the browser back with a code. The state
// parameter, 128 random bits, must come back unchanged; anything else ends the login, since
// it means the redirect was not the answer to this request. The code is exchanged together
// with the PKCE verifier, so a code intercepted on its way to the loopback listener is useless
// without the verifier that never left this process. The scopes are "openid profile email
// offline_access additional_info.roles"; offline_access is what yields a refresh token.
//
// golang.org/x/oauth2 does the protocol (GenerateVerifier, S256ChallengeOption, Exchange with
// VerifierOption, Config.TokenSource for refreshes, clientcredentials.Config); this package
// adds the listener, the cache and the rules around them.
//
// # The token cache
//
// The cache is one JSON file, by default os.UserConfigDir()/fiosync/token.json, in a directory
// of mode 0700 and itself of mode 0600. It records the IMS origin and client id it belongs to,
// so a cache made against one IMS (an emulator, say) is never sent to another. It is written
// atomically: a temporary file in the same directory, fsync, rename, fsync of the directory.
// A crash leaves the old cache or the new one, never half of either.
//
// IMS rotates the refresh token on every refresh: the one sent stops working and the answer
// carries a new one. So a refreshed token is written to the cache before it is used, and a
// failure to write it is an error rather than a warning: continuing would leave a cache whose
// refresh token no longer works. When a refresh is refused (invalid_grant), the cache is read
// again before giving up, because another fiosync process may have rotated the token since
// this one read it; its newer token is adopted. Only when the cache has nothing newer is the
// login declared over (ErrLoginExpired), and that answer is kept, so retries of the API calls
// do not hammer IMS.
//
// # Refreshing
//
// A Credential is an oauth2.TokenSource. Client returns an *http.Client whose oauth2.Transport
// asks it for a token on every request; it renews the token shortly before the expiry IMS
// announced. Clocks disagree and tokens get revoked, so the API may still answer 401: the
// frameio client then calls Refresh (via frameio.WithTokenRefresh), which throws the access
// token away and gets a new one whatever its expiry says, and sends the request once more.
// Token and Refresh hold one mutex, so concurrent uploads that see a 401 together refresh one
// after another, each with the newest refresh token.
//
// # Secrets
//
// Tokens and the client secret never appear in errors, in String output or in any file but the
// cache. IMS error answers are reduced to their status, error code and description
// (*IMSError); the body of an unexpected answer is not repeated.
//
// Credentials go only to the origin they are for. A 307 or 308 from the token endpoint would
// make net/http post the same form, client secret or refresh token included, to the Location,
// and the transport of Client adds the bearer token to every request it sends, redirected ones
// too. So every HTTP client of this package follows a redirect only within the origin
// (scheme, host and port) of the request that got it; any other fails with
// ErrCrossOriginRedirect, naming both origins.
package auth
