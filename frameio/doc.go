// Package frameio is a typed client for the parts of the Frame.io V4 API that fiosync uses:
// the user, accounts, workspaces and projects; listing a folder's children, subfolders and
// files; creating folders, local and remote uploads and version stacks; showing, checking and
// deleting files; moving files and version stacks (one at a time or up to 100 files in one
// call) and renaming files; PUTting the parts of a local upload to their presigned URLs; and downloading
// a file's original bytes.
//
// # Shape
//
// New takes the API origin and an *http.Client that carries the auth: the oauth2 transport in
// the CLI, a static bearer transport in tests and CI. The package itself never sees a token.
// There is one method per endpoint. Single resources come back as pointers; lists come back as
// iter.Seq2 iterators that follow links.next (a relative path) page by page until it is null,
// stop fetching as soon as the consumer breaks out of the loop, and yield an error at most
// once, as their last value.
//
// # Retries
//
// Every API call goes through one loop that decides, per answer, whether sending the request
// again is safe and useful:
//
//   - Reads, DELETE and PATCH (a move or a rename sets a parent or a name, so sending it twice
//     does what sending it once does) are idempotent, so they are retried on 408, 429, 5xx and
//     network errors.
//   - Creates (POST) are not. A 5xx or a connection cut mid-request may come after the server
//     created the resource, and a blind retry would create a duplicate (Frame.io allows two
//     files of one name in a folder). So a create is retried only on 429, which the server
//     answers before doing anything, and when the connection could not be opened at all (a
//     dial error such as connection refused), which proves the request never left. Every
//     other failure goes back to the caller, who can look before trying again.
//   - A 401 is rejected before any effect. With WithTokenRefresh, the client calls the hook
//     once and sends the request once more; a second 401 is an error.
//   - DELETE answered 404 after an earlier attempt may have taken effect (its answer was lost,
//     or it got a 5xx) counts as success: the likely story is that the earlier attempt deleted
//     the file, and the caller wanted it gone. A 404 on the first attempt stays an error.
//
// Delays use exponential backoff with full jitter: before attempt n the client waits a
// uniformly random time below min(MaxDelay, BaseDelay*2^(n-2)), unless the server sent
// Retry-After, which wins. RetryPolicy caps both the attempts and the total time one request
// may spend waiting, so a dead server fails a run in bounded time.
//
// # Pacing
//
// Frame.io limits each endpoint per account user with a leaky bucket, some as tightly as 3 a
// second or 10 a minute, and announces the state of the bucket in x-ratelimit-limit,
// x-ratelimit-remaining and x-ratelimit-window headers. Rather than running into 429s and
// backing off, the client paces itself: each route template (with its method) is a class with
// a token bucket set just under the documented limit (90% of the rate, a burst one short of
// the server's bucket, which leaves a slot of slack for network jitter between the client's
// departures and the server's arrivals), shared by every goroutine that uses the Client.
// Answers retune the bucket when the server's numbers differ (a scaled emulator, a changed
// limit), and an answer saying nothing remains holds the class until its window has passed.
// Routes without a documented limit start unpaced and learn theirs from the headers. A
// well-behaved run therefore sees almost no 429; the few it sees are retried.
//
// # Part uploads
//
// CreateLocalUpload returns the file with one presigned URL per part; PartOffsets says where
// each part starts. UploadPart streams a part from an io.ReaderAt section with a fixed
// Content-Length, sending exactly the signed headers (x-amz-acl: private and the media type
// Frame.io chose), through a separate HTTP client that never carries the bearer token. It
// re-reads the source on every attempt, so nothing is buffered, and retries 5xx, resets and
// network errors. A 403 means the URL expired or was rejected; no retry can fix that, so the
// error wraps ErrURLRejected and the caller deletes and re-creates the file.
//
// # Downloads
//
// FileWithMediaLinks asks for a file with include=media_links.original, whose DownloadURL is a
// presigned, expiring GET URL of the original bytes. Download streams it into an io.Writer,
// whole or as a byte range (a Range request answered 206), through the client that never
// carries the bearer token; a 403 (expired or forged) wraps ErrURLRejected like a part PUT's.
//
// # Page sizes
//
// Asset lists (Files, Folders, Children) ask for 500 items a page, the spec's maximum for them.
// A server that refuses 500 with 400 or 422 makes the Client fall back to 100 for the rest of
// its life; the list that met the refusal starts again.
//
// # Secrets
//
// Tokens never reach this package, and presigned URLs carry their signature in the query
// string, so every URL in an error or a log line goes through Redact first; errors from
// net/http (which quote the full URL) are unwrapped before they are wrapped again. *APIError
// holds the method, the path without its query, the status, the parsed error items and the
// request id, and prints as one line.
//
// The auth transport adds the bearer token to every request it sends, a redirected one too, so
// the client follows a redirect only when it stays on the origin (scheme, host and port) of
// the request that got it. A redirect anywhere else fails the call at once with
// ErrCrossOriginRedirect, naming both origins and never the Location's path or query. Part
// PUTs carry no token (the presigned URL is the credential) and are left to their own client.
package frameio
