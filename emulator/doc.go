// Package emulator is a local Frame.io V4 server for tests, demos and offline use.
//
// It implements the endpoints fiosync uses with the documented paths, envelopes, status codes,
// pagination and rate limits, accepts part uploads on presigned-style URLs that check their
// headers and signature like S3 does, and offers switches that inject faults (API errors, part
// failures, connection resets, latency, short URL lifetimes). It imports no other fiosync
// package, so the client and the emulator cannot agree on a mistake: both follow the API as
// documented in frameio-v4.md.
//
// # Using it
//
// An *Emulator is an http.Handler:
//
//	emu, err := emulator.New(emulator.DefaultOptions())
//	srv := httptest.NewServer(emu)
//	seed := emu.Seed() // token, account, workspace, project and root folder ids
//
// New seeds one account ("Emulator Account"), one workspace and one project (both "Sandbox")
// and a random static bearer token. AddWorkspace and AddProject add more. Every /v4/ request
// needs `Authorization: Bearer <token>`; tokens live in a table with an optional expiry, so the
// IMS endpoints can issue short-lived ones. Part URLs and view URLs are built from the
// request's Host, so the emulator works on any listener.
//
// # The model
//
// An in-memory store holds the account, workspaces, projects and, per project, a tree of
// folders, files and version stacks. Every node gets a creation sequence number; listings are
// in that order and the opaque `after` cursor is the sequence of the last item, so pages stay
// stable while items are added or deleted. Files stacked into a version stack get the stack as
// parent_id: the folder's /files no longer lists them, its /children lists the stack (type
// version_stack, named after and sized like its newest version). One mutex guards the store
// and is never held during disk or network I/O.
//
// # Uploads
//
// local_upload splits file_size evenly into ceil(size/PartSize) parts (at most 10,000, S3's
// limit; the remainder goes one byte each to the first parts, as in Frame.io's example) and
// returns one presigned URL per part. Part bodies are streamed through a pooled buffer into a
// temporary file under DataDir/parts/{id}/ and renamed into place, so a re-PUT overwrites its
// part atomically. The PUT that completes a file hashes all parts in order with BLAKE3 before
// it answers, so a client that saw 200 for every part finds the file `uploaded` at once.
// remote_upload opens the source with a GET before answering 202 (so file_size is known) and
// streams that body in the background; Close waits for such fetches (cutting them off after
// 10 s).
//
// # What the emulator decides where Frame.io's documentation is silent
//
//   - Part PUT refusals: an Authorization header is 400 InvalidArgument; a missing or different
//     Content-Type or x-amz-acl, a wrong signature and a Content-Length other than the part size
//     are 403 SignatureDoesNotMatch (the headers are signed, and the length acts as if it were);
//     chunked transfer encoding is 403 MissingContentLength; an expired URL is 403 AccessDenied
//     "Request has expired"; a body shorter than its Content-Length is 400 IncompleteBody; a
//     deleted file or unknown part is 404 NoSuchUpload. ETags are random, not MD5s.
//   - Rate limits: buckets are per token and per route; me, workspaces, projects and project
//     share the accounts-list class (100/min). With RateLimitScale 0 there are no limits and no
//     x-ratelimit-* headers. Retry-After is the whole seconds until one request fits.
//   - Order of checks for API calls: latency, authentication (401), rate limit (429), injected
//     fault (500 or 503, before any effect), then the endpoint.
//   - A remote source that cannot be fetched, answers non-2xx or sends no Content-Length is 422
//     on source_url at once; a body that breaks off later marks the file upload_failed.
//   - Unknown ids in a request body (version stacks) are 404 with a pointer; a file already in
//     another stack is 409. Stacking onto a stack (or a file in one) adds the new versions.
//   - /_emulator/files/{id} reports status "deleted" for a deleted file; /_emulator/stats counts
//     part PUTs whose connection was cut under the status "reset". Neither test endpoint needs
//     a token, is rate limited or delayed.
//
// # IMS
//
// The emulator also plays Adobe IMS, so every login flow is tested for real through
// FRAMEIO_IMS_URL. GET /ims/authorize/v2 skips the browser: for a registered client id and a
// loopback http redirect_uri it redirects straight back with a code and the caller's state
// (PKCE S256 is required of the public client). POST /ims/token/v3 (form-encoded) serves
// authorization_code (checks the client, the redirect_uri and the PKCE verifier; a code is
// spent by its first attempt), refresh_token (rotating: the refresh token sent stops working)
// and client_credentials. Access tokens live Options.TokenTTL; refresh tokens do not expire.
// Errors have IMS's shape, {"error": "invalid_grant", "error_description": "..."}. The
// registered clients are fixed (PublicClientID; ServerClientID with ServerClientSecret) and
// appear in Seed, so the ready line of `fiosync emulator` names them. IMSTokens lists every
// token issued, for tests that check none leaked. IMS calls are counted in the stats under
// their route and are neither delayed nor rate limited.
//
// # Persistence
//
// With a DataDir, Close writes a metadata snapshot (emulator.json) and New loads it, so
// `fiosync emulator --data DIR` survives a restart with the same ids and files. The snapshot
// holds no token and no signing secret: a restarted emulator prints a new token, and part URLs
// issued before the restart are refused with 403, as expired URLs are.
package emulator
