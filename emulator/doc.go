// Package emulator is a local Frame.io V4 server for tests, demos and offline use.
//
// It implements the endpoints fiosync uses with the documented paths, envelopes, status codes,
// pagination and rate limits, answering as Frame.io's published V4 OpenAPI document says (a
// schema test holds every answer against testdata/frameio-v4-openapi-extract.json), accepts
// part uploads on presigned-style URLs that check their
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
// parent_id: the folder's /files no longer lists them, its /children and /version_stacks list
// the stack (type version_stack, named after its newest version, which it carries as
// head_version, and without a file's own fields), and GET /version_stacks/{id}/children lists
// the versions. One mutex guards the store and is never held during disk or network I/O.
//
// Pages: asset lists (a folder's children, files, folders and version stacks) take page_size
// 1 to 500 (the spec's AssetRequestPageSize; Options.MaxAssetPageSize lowers it, to model a
// server that differs from the spec), the others 1 to 100 (RequestPageSize); both default to
// 50.
//
// # Uploads
//
// local_upload refuses a file_size below 1 with 422 (the spec's minimum: Frame.io does not
// accept empty files) and splits file_size evenly into ceil(size/PartSize) parts (at most 10,000, S3's
// limit; the remainder goes one byte each to the first parts, as in Frame.io's example) and
// returns one presigned URL per part. Part bodies are streamed through a pooled buffer into a
// temporary file under DataDir/parts/{id}/ and renamed into place, so a re-PUT overwrites its
// part atomically. The PUT that completes a file hashes all parts in order with BLAKE3 before
// it answers, so a client that saw 200 for every part finds the file `uploaded` at once.
// remote_upload answers 202 at once, as Frame.io fetches after answering: file_size is 0 until
// the source's Content-Length arrives. The source is fetched in the background; a source that
// cannot be reached, answers non-2xx, sends no Content-Length, is over 50 GB or breaks off marks
// the file upload_failed in /files/{id}/status. Close waits for such fetches (cutting them off
// after 10 s).
//
// # Moves and renames
//
// PATCH /files/{id}/move (100/min), the bulk PATCH /files/move of 1 to 100 ids into one folder
// (60/min), PATCH /version_stacks/{id}/move (10/min) and PATCH /files/{id} (rename, 100/min)
// re-parent or rename the node itself: its id, versions and stored bytes stay, nothing is
// uploaded, and the stats count each moved file (a stack's move counts its versions) under
// files_moved. move.go says what the emulator decides where the reference is silent.
//
// # Downloads
//
// GET /files/{id}?include=media_links.original adds media_links.original: a download_url and an
// inline_url, presigned GET URLs of the original bytes on the emulator's origin, signed like
// the part URLs (over method, path, query and host) and living Options.URLTTL; both are null
// until the file is complete. They serve the stored bytes with Range support (206 with
// Content-Range, 416 outside the file) and refuse an Authorization header (400), a forged or
// altered signature (403 SignatureDoesNotMatch) and an expired URL (403 AccessDenied), as S3
// does. The other media_links includes answer with null URLs (the emulator makes no
// renditions); creator, project and metadata are accepted and ignored; any other include is a
// 400 on include. Downloads are counted in the stats as "GET original" and not rate limited.
//
// # What the emulator decides where Frame.io's documentation is silent
//
//   - Part PUT refusals: an Authorization header is 400 InvalidArgument; a missing or different
//     Content-Type or x-amz-acl, a wrong signature and a Content-Length other than the part size
//     are 403 SignatureDoesNotMatch (the headers are signed, and the length acts as if it were);
//     chunked transfer encoding is 403 MissingContentLength; an expired URL is 403 AccessDenied
//     "Request has expired"; a body shorter than its Content-Length is 400 IncompleteBody; a
//     deleted file or unknown part is 404 NoSuchUpload. ETags are random, not MD5s.
//   - Rate limits: buckets are per account user and route, so all of a user's tokens (every
//     token the emulator issues belongs to its one user) share one. me, workspaces, projects,
//     project and a version stack's children share the accounts-list class (100/min); show
//     folder, show version stack and a folder's version stacks the show-file class (5/s).
//     Every /v4 answer (401 and faults included) carries x-ratelimit-limit, -remaining and
//     -window; with RateLimitScale 0 there are no limits and the headers announce 10^9 per
//     window. Retry-After is the whole seconds until one request fits.
//   - Order of checks for API calls: latency, authentication (401), rate limit (429), injected
//     fault (500 or 503, before any effect), then the endpoint.
//   - A failed upload (a remote source that failed, or parts that could not be hashed) keeps
//     status created in file resources, the spec's statuses being created, uploaded and
//     transcoded; /files/{id}/status says upload_failed.
//   - Errors about a query parameter name it in source.pointer by its bare name ("page_size"):
//     the spec's error schemas define only pointer, and body pointers all start with "/data".
//   - Unknown ids in a request body (version stacks) are 404 with a pointer; a file already in
//     another stack is 409. Stacking onto a stack (or a file in one) adds the new versions.
//   - /_emulator/files/{id} reports status "deleted" for a deleted file; /_emulator/stats counts
//     part PUTs whose connection was cut under the status "reset". Neither test endpoint needs
//     a token, is rate limited or delayed. POST /_emulator/files/{id}/corrupt (Corrupt) flips
//     the middle byte of a complete file's stored bytes, for tests of fiosync verify.
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
