package frameio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FileWithMediaLinks returns a file with MediaLinks.Original filled in: presigned URLs of its
// original bytes for Download. They expire, so fetch them when needed rather than keeping
// them, and treat them as secrets (Redact before showing); they are empty until the upload is
// complete.
func (cl *Client) FileWithMediaLinks(ctx context.Context, accountID, fileID string) (*File, error) {
	if err := checkIDs("show file", accountID, fileID); err != nil {
		return nil, err
	}
	return get[File](ctx, cl, routeFile, expand(routeFile, accountID, fileID)+"?include=media_links.original")
}

// Download copies the bytes behind a presigned download URL (MediaLinks.Original.DownloadURL)
// into w and returns how many it wrote: the whole file when length < 0, else length bytes from
// offset, asked for with a Range header and answered 206. Like part PUTs it goes through the
// client without the bearer token, and a 403 (an expired or forged URL) is not retried: the
// error wraps ErrURLRejected, and FileWithMediaLinks gives fresh URLs. 5xx, 408, 429 and
// network errors are retried while nothing has been written to w; a failure after that is
// returned with the count written so far. Errors show the URL without its query string.
func (cl *Client) Download(ctx context.Context, rawURL string, offset, length int64, w io.Writer) (int64, error) {
	where := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return 0, fmt.Errorf("download %s: invalid URL", where)
	}
	if offset < 0 || (length < 0 && offset != 0) {
		return 0, fmt.Errorf("download %s: offset %d with length %d: want offset >= 0, and 0 for the whole file", where, offset, length)
	}
	if length == 0 {
		return 0, nil
	}
	r := retrier{policy: cl.retry}
	for {
		r.attempt++
		n, retryAfter, err := cl.download(ctx, u, offset, length, w, r.attempt)
		var pe *partError
		switch {
		case err == nil:
			return n, nil
		case ctx.Err() != nil:
			return n, fmt.Errorf("download %s: %w", where, ctx.Err())
		case n > 0 || !errors.As(err, &pe) || !pe.retry:
			return n, err
		}
		if err := r.wait(ctx, retryAfter, err, "download "+where); err != nil {
			return 0, err
		}
	}
}

// download makes one attempt and classifies its failure as partError (retry says whether
// another attempt may help) or a final error.
func (cl *Client) download(ctx context.Context, u *url.URL, offset, length int64, w io.Writer, attempt int) (int64, time.Duration, error) {
	where := Redact(u.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, 0, fmt.Errorf("download %s: build request: invalid URL", where)
	}
	ranged := length > 0
	if ranged {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-"+strconv.FormatInt(offset+length-1, 10))
	}
	start := time.Now()
	resp, err := cl.parts.Do(req)
	if err != nil {
		err = transportCause(err)
		return 0, 0, &partError{msg: fmt.Sprintf("download %s: %v", where, err), retry: true, err: err}
	}
	defer resp.Body.Close()
	cl.log.DebugContext(ctx, "frameio: download", "url", where, "status", resp.StatusCode,
		"attempt", attempt, "elapsed", time.Since(start))
	want := resp.ContentLength
	switch {
	case resp.StatusCode == http.StatusPartialContent && ranged:
		if got := contentRangeStart(resp.Header.Get("Content-Range")); got != offset {
			return 0, 0, fmt.Errorf("download %s: asked for bytes from %d, got Content-Range %q", where, offset, resp.Header.Get("Content-Range"))
		}
		want = min(length, max(want, 0))
	case resp.StatusCode == http.StatusOK && !ranged:
	case resp.StatusCode == http.StatusOK:
		return 0, 0, fmt.Errorf("download %s: the server ignored the Range header", where)
	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		code := s3Code(data)
		if resp.StatusCode == http.StatusForbidden {
			if code == "" {
				code = "AccessDenied"
			}
			return 0, 0, fmt.Errorf("download %s: %s: %w", where, code, ErrURLRejected)
		}
		msg := fmt.Sprintf("download %s: %d %s", where, resp.StatusCode, http.StatusText(resp.StatusCode))
		if code != "" {
			msg += " (" + code + ")"
		}
		return 0, parseRetryAfter(resp.Header, time.Now()), &partError{msg: msg, retry: retryableStatus(resp.StatusCode)}
	}
	sink := &writeFailure{w: w}
	n, err := io.Copy(sink, resp.Body)
	switch {
	case sink.err != nil:
		return n, 0, fmt.Errorf("download %s: write: %w", where, sink.err)
	case err != nil:
		err = transportCause(err)
		return n, 0, &partError{msg: fmt.Sprintf("download %s: read body: %v", where, err), retry: true, err: err}
	case want >= 0 && n != want:
		return n, 0, &partError{msg: fmt.Sprintf("download %s: got %d bytes, want %d", where, n, want), retry: true, err: io.ErrUnexpectedEOF}
	}
	return n, 0, nil
}

// contentRangeStart returns the first byte of a "bytes first-last/size" Content-Range, or -1.
func contentRangeStart(v string) int64 {
	rest, ok := strings.CutPrefix(v, "bytes ")
	first, _, ok2 := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(first, 10, 64)
	if !ok || !ok2 || err != nil {
		return -1
	}
	return n
}

// writeFailure remembers an error of the destination, which no retry can fix.
type writeFailure struct {
	w   io.Writer
	err error
}

func (f *writeFailure) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil && f.err == nil {
		f.err = err
	}
	return n, err
}
