package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zeebo/blake3"
)

// Part URLs look like S3 presigned URLs on the emulator's own origin:
//
//	http://HOST/_parts/{file id}/{part index}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=...
//	    &X-Amz-Expires=86400&X-Amz-SignedHeaders=content-type;host;x-amz-acl&X-Amz-Signature=...
//
// The signature is an HMAC-SHA256, under a secret only this emulator knows, over the method,
// the path, the other query parameters and the signed headers (the file's media type, the host
// and the "private" ACL). A PUT is checked by recomputing the signature from the headers it
// actually carries, so a missing or different Content-Type or x-amz-acl fails exactly as on S3:
// 403 SignatureDoesNotMatch.
const (
	amzAlgorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	amzSignedHeaders = "content-type;host;x-amz-acl"
	amzACL           = "private"
)

// copyBuffers bound the memory a part upload takes: one buffer per PUT in flight.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func removeAll(dir string) error { return os.RemoveAll(dir) }

// signPart returns the presigned URL of part n of a file.
func (e *Emulator) signPart(host, fileID string, n int, mediaType string, now time.Time) string {
	path := fmt.Sprintf("/_parts/%s/%d", fileID, n)
	return e.presign(http.MethodPut, host, path, amzSignedHeaders, mediaType, amzACL, nil, now)
}

// presign returns a presigned URL for method on path, valid for Options.URLTTL from now, over
// the signed headers (contentType and acl are their values; "" when not signed) and the extra
// query parameters.
func (e *Emulator) presign(method, host, path, signedHeaders, contentType, acl string, extra url.Values, now time.Time) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	q.Set("X-Amz-Algorithm", amzAlgorithm)
	q.Set("X-Amz-Date", now.Format(amzDateFormat))
	q.Set("X-Amz-Expires", strconv.FormatInt(max(1, int64(e.opts.URLTTL/time.Second)), 10))
	q.Set("X-Amz-SignedHeaders", signedHeaders)
	q.Set("X-Amz-Signature", e.signature(method, path, q, contentType, host, acl))
	return (&url.URL{Scheme: "http", Host: host, Path: path, RawQuery: q.Encode()}).String()
}

// checkPresigned checks r's presigned query as S3 does, in order: an Authorization header
// (400 InvalidArgument), a missing parameter (403 AccessDenied), the signature over the method,
// path, query and the signed headers' values contentType and acl (403 SignatureDoesNotMatch),
// then expiry (403 AccessDenied "Request has expired"). It answers and reports false on the
// first that fails.
func (e *Emulator) checkPresigned(w http.ResponseWriter, r *http.Request, signedHeaders, contentType, acl string) bool {
	if r.Header.Get("Authorization") != "" {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return false
	}
	q := r.URL.Query()
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if q.Get(k) == "" {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "Query-string authentication requires the "+k+" parameter")
			return false
		}
	}
	// A HEAD is signed as the GET it stands for.
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	want := e.signature(method, r.URL.Path, q, contentType, r.Host, acl)
	if q.Get("X-Amz-SignedHeaders") != signedHeaders || !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return false
	}
	date, err1 := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	secs, err2 := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err1 != nil || err2 != nil {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "X-Amz-Date or X-Amz-Expires is malformed")
		return false
	}
	if !e.now().Before(date.Add(time.Duration(secs) * time.Second)) {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return false
	}
	return true
}

// signature signs a request; q's own X-Amz-Signature is left out.
func (e *Emulator) signature(method, path string, q url.Values, contentType, host, acl string) string {
	rest := url.Values{}
	for k, v := range q {
		if k != "X-Amz-Signature" {
			rest[k] = v
		}
	}
	mac := hmac.New(sha256.New, e.secret)
	fmt.Fprintf(mac, "%s\n%s\n%s\ncontent-type:%s\nhost:%s\nx-amz-acl:%s\n",
		method, path, rest.Encode(), contentType, host, acl)
	return hex.EncodeToString(mac.Sum(nil))
}

type s3ErrorXML struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

func writeS3Error(w http.ResponseWriter, status int, code, message string) {
	body, _ := xml.Marshal(s3ErrorXML{Code: code, Message: message, RequestID: newID()})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}

// handlePart serves a part PUT. Checks, in order: an Authorization header (400
// InvalidArgument), the presigned query and signature (403 SignatureDoesNotMatch; the signed
// headers make a wrong Content-Type or x-amz-acl fail here), expiry (403 AccessDenied "Request
// has expired"), the file and part (404 NoSuchUpload), the length (403: chunked encoding is
// MissingContentLength, a Content-Length other than the part size SignatureDoesNotMatch, as if
// the length were signed). Then the fault switches, then the body is streamed to disk; a body
// shorter than its Content-Length is 400 IncompleteBody. Part PUTs are not rate limited.
func (e *Emulator) handlePart(rw http.ResponseWriter, r *http.Request) {
	if !e.wait(r.Context()) {
		return
	}
	w := &statusWriter{ResponseWriter: rw}
	defer func() { e.stats.record(routePart, w.status) }()

	if !e.checkPresigned(w, r, amzSignedHeaders, r.Header.Get("Content-Type"), r.Header.Get("x-amz-acl")) {
		return
	}

	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("n"))
	var size int64 = -1
	e.mu.Lock()
	if f := e.st.file(id); f != nil && err == nil && n >= 0 && n < len(f.Parts) {
		size = f.Parts[n]
	}
	e.mu.Unlock()
	switch {
	case size < 0:
		writeS3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	case len(r.TransferEncoding) > 0 || r.ContentLength < 0:
		writeS3Error(w, http.StatusForbidden, "MissingContentLength", "You must provide the Content-Length HTTP header; chunked transfer encoding is not accepted.")
		return
	case r.ContentLength != size:
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", fmt.Sprintf("Content-Length %d does not match the signed part size %d.", r.ContentLength, size))
		return
	}

	f := e.faults.Load()
	if e.dice.roll(f.ResetRate) {
		e.stats.recordKey(routePart, statusReset)
		_, _ = io.CopyN(io.Discard, r.Body, min(size/2, 1<<20))
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	if e.dice.roll(f.PartFaultRate) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}

	etag, err := e.storePart(id, n, size, r.Body)
	switch {
	case errors.Is(err, errGone):
		writeS3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	case err != nil:
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	w.WriteHeader(http.StatusOK)
}

// onlyWriter hides *os.File's ReadFrom, so io.CopyBuffer uses the pooled buffer instead of
// allocating its own.
type onlyWriter struct{ io.Writer }

// errGone means the file was deleted while its part arrived.
var errGone = errors.New("file deleted")

// storePart streams one part into a temporary file, renames it into place (so a re-PUT
// overwrites atomically), records it and, when it completes the file, hashes the whole file.
// It returns the part's ETag.
func (e *Emulator) storePart(id string, n int, size int64, body io.Reader) (string, error) {
	dir := e.partDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create part directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, strconv.Itoa(n)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("create part file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	bp := copyBuffers.Get().(*[]byte)
	written, err := io.CopyBuffer(onlyWriter{tmp}, io.LimitReader(body, size), *bp)
	copyBuffers.Put(bp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && written != size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return "", fmt.Errorf("store part %d: %w", n, err)
	}
	if err := os.Rename(tmp.Name(), e.partPath(id, n)); err != nil {
		return "", fmt.Errorf("store part %d: %w", n, err)
	}
	// S3's part ETag is an MD5 of the bytes; clients treat it as opaque, so a random one
	// saves hashing every byte twice.
	etag := strings.ReplaceAll(newID(), "-", "")

	now := e.now()
	e.mu.Lock()
	f := e.st.file(id)
	if f == nil {
		e.mu.Unlock()
		_ = os.Remove(e.partPath(id, n))
		return "", errGone
	}
	f.Received[n] = true
	f.Gen++
	gen, parts, complete := f.Gen, len(f.Parts), f.receivedCount() == len(f.Parts)
	if f.UploadedAt.IsZero() {
		f.UploadedAt = now
	}
	f.UpdatedAt = now
	e.st.bytesReceived += size
	e.mu.Unlock()

	if complete {
		e.finish(id, gen, parts)
	}
	return etag, nil
}

// finish hashes a file whose parts have all arrived and marks it uploaded, unless another part
// arrived meanwhile (that PUT's own finish records the newer hash).
func (e *Emulator) finish(id string, gen uint64, parts int) {
	sum, err := e.hashParts(id, parts)
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.st.file(id)
	if f == nil || f.Gen != gen {
		return
	}
	if err != nil {
		f.Status = statusFailed
		return
	}
	f.BLAKE3 = sum
	if f.Status != statusUploaded {
		f.Status = statusUploaded
		f.CompletedAt = now
	}
	f.UpdatedAt = now
}

// hashParts streams a file's parts in order through BLAKE3.
func (e *Emulator) hashParts(id string, parts int) (string, error) {
	h := blake3.New()
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	for i := range parts {
		f, err := os.Open(e.partPath(id, i))
		if err != nil {
			return "", fmt.Errorf("hash part %d: %w", i, err)
		}
		_, err = io.CopyBuffer(h, f, *bp)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("hash part %d: %w", i, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
