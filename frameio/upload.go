package frameio

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// PartOffsets returns where each part starts in the file: part i starts at the sum of the sizes
// before it. It checks that the sizes are not negative and add up to fileSize, so a caller
// never uploads a file under a split that does not cover it exactly.
func PartOffsets(parts []UploadURL, fileSize int64) ([]int64, error) {
	offs := make([]int64, len(parts))
	var sum int64
	for i, p := range parts {
		if p.Size < 0 {
			return nil, fmt.Errorf("check part split: part %d has negative size %d", i+1, p.Size)
		}
		offs[i] = sum
		sum += p.Size
		if sum < 0 {
			return nil, fmt.Errorf("check part split: sizes overflow at part %d", i+1)
		}
	}
	if sum != fileSize {
		return nil, fmt.Errorf("check part split: %d parts add up to %d bytes, want %d", len(parts), sum, fileSize)
	}
	return offs, nil
}

// UploadPart PUTs src[0:part.Size] to the part's presigned URL. Pass a section of the file
// (io.NewSectionReader(f, offset, size)) or any io.ReaderAt that starts at the part; it is read
// afresh on every attempt, so nothing is buffered.
//
// The request carries exactly the signed headers, x-amz-acl: private and Content-Type:
// mediaType, a fixed Content-Length, and never an Authorization header. It is retried on 5xx,
// 408, 429, connection resets and other network errors, with the client's RetryPolicy. A 403
// means the URL expired or was rejected; it is not retried and the error wraps ErrURLRejected
// and names the S3 error code. Errors show the URL without its query string.
func (cl *Client) UploadPart(ctx context.Context, part UploadURL, mediaType string, src io.ReaderAt) error {
	where := Redact(part.URL)
	if part.Size < 0 {
		return fmt.Errorf("put part %s: negative size %d", where, part.Size)
	}
	u, err := url.Parse(part.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("put part %s: invalid part URL", where)
	}
	if mediaType == "" {
		return fmt.Errorf("put part %s: empty media type", where)
	}
	r := retrier{policy: cl.retry}
	for {
		r.attempt++
		retryAfter, err := cl.putPart(ctx, u, part.Size, mediaType, src, r.attempt)
		var pe *partError
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("put part %s: %w", where, ctx.Err())
		}
		if !errors.As(err, &pe) || !pe.retry {
			return err
		}
		if err := r.wait(ctx, retryAfter, err, "put part "+where); err != nil {
			return err
		}
	}
}

// partError is one failed part attempt; retry says whether another may help.
type partError struct {
	msg   string
	retry bool
	err   error
}

func (e *partError) Error() string { return e.msg }
func (e *partError) Unwrap() error { return e.err }

// putPart makes one attempt and classifies its failure.
func (cl *Client) putPart(ctx context.Context, u *url.URL, size int64, mediaType string, src io.ReaderAt, attempt int) (time.Duration, error) {
	where := Redact(u.String())
	fail := &sourceFailure{}
	body := &partBody{r: io.NewSectionReader(src, 0, size), left: size, fail: fail}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("put part %s: build request: invalid URL", where)
	}
	if size == 0 {
		req.Body = http.NoBody
	}
	req.ContentLength = size
	req.GetBody = func() (io.ReadCloser, error) {
		return &partBody{r: io.NewSectionReader(src, 0, size), left: size, fail: fail}, nil
	}
	req.Header = http.Header{
		"X-Amz-Acl":    {"private"},
		"Content-Type": {mediaType},
	}
	start := time.Now()
	resp, err := cl.parts.Do(req)
	if err != nil {
		err = transportCause(err)
		cl.log.DebugContext(ctx, "frameio: part put failed", "url", where, "attempt", attempt,
			"elapsed", time.Since(start), "error", err.Error())
		if srcErr := fail.get(); srcErr != nil {
			// The source, not the network, failed: another attempt reads the same bytes.
			return 0, fmt.Errorf("put part %s: read source: %w", where, srcErr)
		}
		return 0, &partError{msg: fmt.Sprintf("put part %s: %v", where, err), retry: true, err: err}
	}
	defer resp.Body.Close()
	cl.log.DebugContext(ctx, "frameio: part put", "url", where, "status", resp.StatusCode,
		"attempt", attempt, "elapsed", time.Since(start), "bytes", size)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return 0, nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code := s3Code(data)
	msg := fmt.Sprintf("put part %s: %d %s", where, resp.StatusCode, http.StatusText(resp.StatusCode))
	if code != "" {
		msg += " (" + code + ")"
	}
	if resp.StatusCode == http.StatusForbidden {
		if code == "" {
			code = "AccessDenied"
		}
		return 0, fmt.Errorf("put part %s: %s: %w", where, code, ErrURLRejected)
	}
	return parseRetryAfter(resp.Header, time.Now()), &partError{msg: msg, retry: retryableStatus(resp.StatusCode)}
}

// s3Code extracts <Code> from an S3-style XML error body.
func s3Code(data []byte) string {
	var e struct {
		Code string `xml:"Code"`
	}
	if xml.Unmarshal(data, &e) != nil {
		return ""
	}
	return oneLine(e.Code)
}

// sourceFailure records the first error of a part's source. The transport reads the body on
// its own goroutine, hence the lock.
type sourceFailure struct {
	mu  sync.Mutex
	err error
}

func (f *sourceFailure) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *sourceFailure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// partBody streams a part from its source and records when the source itself fails (short or
// unreadable), which no retry can fix.
type partBody struct {
	r    io.Reader
	left int64
	fail *sourceFailure
}

func (b *partBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case err == io.EOF && b.left > 0:
		b.fail.set(io.ErrUnexpectedEOF)
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		b.fail.set(err)
	}
	return n, err
}

func (b *partBody) Close() error { return nil }
