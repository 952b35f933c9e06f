package emulator

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/zeebo/blake3"
)

// handleRemoteUpload starts a remote upload. Frame.io fetches the source after it answers, so
// the emulator answers 202 at once, with file_size 0 until the source's Content-Length is
// known, and fetches in the background (loopback URLs included). A source that cannot be
// reached, answers other than 2xx, sends no Content-Length, is over 50 GB or breaks off marks
// the file upload_failed, which /files/{id}/status shows.
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

	now := e.now()
	e.mu.Lock()
	parent, aerr := e.folderFor(r)
	if aerr != nil {
		e.mu.Unlock()
		return aerr
	}
	if e.closing {
		e.mu.Unlock()
		return errStatus(http.StatusServiceUnavailable, "the emulator is shutting down")
	}
	n := e.st.addChild(parent, kindFile, *body.Name, now)
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
		e.fetchRemote(e.ctx, n.ID, src.String())
	}()
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// fetchRemote opens the source of remote upload id and stores it, or marks the file failed.
func (e *Emulator) fetchRemote(ctx context.Context, id, src string) {
	fail := func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if f := e.st.file(id); f != nil {
			f.Status = statusFailed
			f.UpdatedAt = e.now()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		fail()
		return
	}
	resp, err := e.fetcher.Do(req)
	if err != nil {
		fail()
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 || resp.ContentLength < 0 || resp.ContentLength > maxRemoteSize {
		fail()
		return
	}
	e.mu.Lock()
	if f := e.st.file(id); f != nil {
		f.Size = resp.ContentLength
	}
	e.mu.Unlock()
	e.fetch(ctx, id, resp.ContentLength, resp.Body)
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
