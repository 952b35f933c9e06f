package emulator

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/zeebo/blake3"
)

// handleRemoteUpload starts a remote upload. Frame.io answers 202 with file_size and
// media_type already filled, so the emulator opens the source with a GET before answering
// (loopback URLs included) and streams that same response's body in the background. A source
// that cannot be reached, answers other than 2xx or sends no Content-Length is refused with 422
// at once, as is one over 50 GB.
func (e *Emulator) handleRemoteUpload(w http.ResponseWriter, r *http.Request) *apiError {
	var body nameBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if err := checkName(body.Name); err != nil {
		return err
	}
	if body.Source == nil || *body.Source == "" {
		return errPointer(http.StatusUnprocessableEntity, "/data/source_url", "source_url is required")
	}
	src, err := url.Parse(*body.Source)
	if err != nil || (src.Scheme != "http" && src.Scheme != "https") || src.Host == "" {
		return errPointer(http.StatusUnprocessableEntity, "/data/source_url", "source_url must be an absolute http or https URL")
	}
	// Look the folder up before touching the source, so a bad id costs no fetch.
	e.mu.Lock()
	_, aerr := e.folderFor(r)
	e.mu.Unlock()
	if aerr != nil {
		return aerr
	}

	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, src.String(), nil)
	if err != nil {
		return errPointer(http.StatusUnprocessableEntity, "/data/source_url", "source_url is not a valid URL")
	}
	resp, err := e.fetcher.Do(req)
	if err != nil {
		// The error names the URL, which may carry a signed query: say only what failed.
		return errPointer(http.StatusUnprocessableEntity, "/data/source_url", "source_url could not be fetched")
	}
	fail := func(detail string) *apiError {
		resp.Body.Close()
		return errPointer(http.StatusUnprocessableEntity, "/data/source_url", detail)
	}
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fail("source_url answered " + strconv.Itoa(resp.StatusCode))
	case resp.ContentLength < 0:
		return fail("source_url must report its size with Content-Length")
	case resp.ContentLength > maxRemoteSize:
		return fail("source is larger than 50 GB; upload it as a local file")
	}

	now := e.now()
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		resp.Body.Close()
		return errStatus(http.StatusServiceUnavailable, "the emulator is shutting down")
	}
	parent := e.st.folder(r.PathValue("f"))
	n := e.st.addChild(parent, kindFile, *body.Name, now)
	n.Size = resp.ContentLength
	n.MediaType = mediaType(n.Name)
	n.Status = statusCreated
	n.Remote = true
	n.Received = []bool{false}
	e.st.filesCreated++
	out := remoteJSON{Data: e.renderFile(r, n)}
	out.Links.Status = "/v4/accounts/" + e.st.accountID + "/files/" + n.ID + "/status"
	e.wg.Add(1) // under e.mu, so Close cannot be waiting yet
	e.mu.Unlock()

	go func() {
		defer e.wg.Done()
		defer resp.Body.Close()
		e.fetch(e.ctx, n.ID, resp.ContentLength, resp.Body)
	}()
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// fetch stores a remote source as the file's single part, hashing as it goes, and flips the
// file to uploaded, or to upload_failed when the body breaks off or the emulator closes.
func (e *Emulator) fetch(ctx context.Context, id string, size int64, body io.Reader) {
	now := e.now()
	e.mu.Lock()
	if f := e.st.file(id); f != nil {
		f.UploadedAt = now
	}
	e.mu.Unlock()

	sum, err := e.storeRemote(ctx, id, size, body)
	now = e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.st.file(id)
	if f == nil {
		_ = removeAll(e.partDir(id))
		return
	}
	f.UpdatedAt = now
	if err != nil {
		f.Status = statusFailed
		return
	}
	f.Received[0] = true
	f.BLAKE3 = sum
	f.Status = statusUploaded
	f.CompletedAt = now
	e.st.bytesReceived += size
}

func (e *Emulator) storeRemote(ctx context.Context, id string, size int64, body io.Reader) (string, error) {
	dir := e.partDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create part directory: %w", err)
	}
	out, err := os.Create(e.partPath(id, 0))
	if err != nil {
		return "", fmt.Errorf("create part file: %w", err)
	}
	h := blake3.New()
	bp := copyBuffers.Get().(*[]byte)
	written, err := io.CopyBuffer(io.MultiWriter(out, h), io.LimitReader(body, size+1), *bp)
	copyBuffers.Put(bp)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil && written != size {
		err = fmt.Errorf("fetch source: got %d bytes, want %d", written, size)
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
