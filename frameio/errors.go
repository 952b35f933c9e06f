package frameio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrURLRejected reports that a presigned part URL answered 403: it expired, its signature
// does not match, or the request's signed headers differ. Retrying the same URL cannot help;
// Frame.io has no call that re-issues part URLs, so the caller deletes the placeholder file and
// creates it again. Errors from UploadPart wrap it together with the S3 error code.
var ErrURLRejected = errors.New("part URL expired or rejected")

// ErrEmptyFile reports a local upload of no bytes, which Frame.io does not accept (the spec's
// file_size minimum is 1). CreateLocalUpload returns it without calling the API.
var ErrEmptyFile = errors.New("empty files are not accepted by Frame.io")

// BaseURLError reports an API origin New cannot use. The URL is redacted.
type BaseURLError struct {
	URL    string
	Reason string
}

func (e *BaseURLError) Error() string {
	return fmt.Sprintf("API origin %q: %s", e.URL, e.Reason)
}

// UnreachableError reports that the API origin could not be reached before it had answered
// any request: the connection was refused or the host name does not resolve. The Client does
// not retry these until the API has answered once (after that a refused connection is a blip
// and is retried as any transport error).
type UnreachableError struct {
	Origin string // scheme and host
	Err    error  // the transport error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %v", e.Origin, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// APIError is a non-success answer from the Frame.io API. It never holds a token or a query
// string, so it is safe to print.
type APIError struct {
	// StatusCode is the HTTP status, such as 404.
	StatusCode int
	// Method and Path name the request; Path has no query string.
	Method, Path string
	// Errors are the items of the response's "errors" envelope, when it had one.
	Errors []ErrorItem
	// RequestID is the server's request id header, for support tickets; may be empty.
	RequestID string
}

// ErrorItem is one entry of the API's error envelope.
type ErrorItem struct {
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Source ErrorSource `json:"source"`
}

// ErrorSource points at the part of the request an ErrorItem is about: a JSON pointer into the
// body (such as "/data/name") or a query parameter.
type ErrorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// Error returns one line: method, path, status, the first item's title, detail and source,
// and the request id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) > 0 {
		it := e.Errors[0]
		if it.Title != "" && it.Title != http.StatusText(e.StatusCode) {
			// A title that only restates the status adds nothing to the line.
			b.WriteString(": ")
			b.WriteString(oneLine(it.Title))
		}
		if it.Detail != "" && it.Detail != it.Title {
			b.WriteString(": ")
			b.WriteString(oneLine(it.Detail))
		}
		switch {
		case it.Source.Pointer != "":
			fmt.Fprintf(&b, " (at %s)", oneLine(it.Source.Pointer))
		case it.Source.Parameter != "":
			fmt.Fprintf(&b, " (parameter %s)", oneLine(it.Source.Parameter))
		}
		if n := len(e.Errors) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more)", n)
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", oneLine(e.RequestID))
	}
	return b.String()
}

// oneLine keeps server-provided text on one line so an error stays one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// StatusCode returns the HTTP status of the *APIError in err's chain, or 0.
func StatusCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is an API answer of 404 Not Found.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsUnauthorized reports whether err is an API answer of 401 Unauthorized.
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// Redact returns rawURL without its query string, fragment and user info. Presigned part URLs
// carry their signature in the query, so every URL that reaches an error or a log passes
// through here. It cuts text first, so even a URL that does not parse loses its query.
func Redact(rawURL string) string {
	s, _, _ := strings.Cut(rawURL, "?")
	s, _, _ = strings.Cut(s, "#")
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		s = u.String()
	}
	return s
}
