package emulator

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Downloads: GET /files/{id}?include=media_links.original answers media_links.original with a
// download_url and an inline_url, presigned GET URLs on the emulator's own origin:
//
//	http://HOST/_files/{file id}/original?response-content-disposition=attachment%3B+filename%3D...
//	    &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=...&X-Amz-Expires=86400
//	    &X-Amz-SignedHeaders=host&X-Amz-Signature=...
//
// They are signed like part URLs (over the method, path, query and host) and live
// Options.URLTTL. The GET serves the stored bytes with Range support (206 with Content-Range,
// 416 for a range outside the file) and S3's refusals for a forged or expired URL.

// routeOriginal is the stats key of original downloads, which go to the "CDN", not the API.
const routeOriginal = "GET original"

// mediaLinkIncludes are the spec's media_links includes (FileWithMediaLinksInclude). The
// emulator makes no renditions, so every link but original answers with null URLs.
var mediaLinkIncludes = map[string]bool{
	"media_links.original": true, "media_links.thumbnail": true, "media_links.thumbnail_high_quality": true,
	"media_links.video_h264_180": true, "media_links.high_quality": true, "media_links.efficient": true,
	"media_links.scrub_sheet": true,
}

// otherIncludes are the spec's includes that the emulator accepts and does not answer.
var otherIncludes = map[string]bool{"creator": true, "project": true, "metadata": true}

// parseIncludes reads the include query parameter of GET /files/{id}: the media links it
// asks for, in order. An include the spec does not define is a 400.
func parseIncludes(r *http.Request) ([]string, *apiError) {
	var links []string
	raw := r.URL.Query().Get("include")
	if raw == "" {
		return nil, nil
	}
	for inc := range strings.SplitSeq(raw, ",") {
		inc = strings.TrimSpace(inc)
		switch {
		case mediaLinkIncludes[inc]:
			links = append(links, strings.TrimPrefix(inc, "media_links."))
		case otherIncludes[inc]:
		default:
			return nil, errParameter("include", fmt.Sprintf("include %q is not one the API defines", inc))
		}
	}
	return links, nil
}

// mediaLinks renders the media links asked for. Callers hold e.mu.
func (e *Emulator) mediaLinks(r *http.Request, n *node, links []string) map[string]any {
	out := make(map[string]any, len(links))
	for _, l := range links {
		switch l {
		case "original":
			var o originalLinkJSON
			if n.Status == statusUploaded {
				now := e.now()
				download := e.signOriginal(r.Host, n, "attachment", now)
				inline := e.signOriginal(r.Host, n, "inline", now)
				o.DownloadURL, o.InlineURL = &download, &inline
			}
			out[l] = o
		case "efficient", "high_quality":
			out[l] = mediaLinkJSON{}
		default:
			out[l] = renditionLinkJSON{}
		}
	}
	return out
}

// signOriginal returns a presigned GET URL for a file's original bytes that the browser treats
// as disposition ("attachment" or "inline").
func (e *Emulator) signOriginal(host string, n *node, disposition string, now time.Time) string {
	extra := url.Values{}
	extra.Set("response-content-disposition", mime.FormatMediaType(disposition, map[string]string{"filename": n.Name}))
	return e.presign(http.MethodGet, host, "/_files/"+n.ID+"/original", "host", "", "", extra, now)
}

// handleOriginal serves a file's original bytes on a presigned URL. Checks, in order: the
// presigned query (see checkPresigned), then the file (404 NoSuchKey when it is unknown,
// deleted or not complete). Downloads are not rate limited.
func (e *Emulator) handleOriginal(rw http.ResponseWriter, r *http.Request) {
	if !e.wait(r.Context()) {
		return
	}
	w := &statusWriter{ResponseWriter: rw}
	defer func() { e.stats.record(routeOriginal, w.status) }()
	if !e.checkPresigned(w, r, "host", "", "") {
		return
	}
	id := r.PathValue("id")
	e.mu.Lock()
	f := e.st.file(id)
	var (
		sizes     []int64
		mediaType string
		modTime   time.Time
	)
	if f != nil && f.Status == statusUploaded {
		sizes = f.Parts
		if f.Remote {
			sizes = []int64{f.Size}
		}
		mediaType, modTime = f.MediaType, f.CompletedAt
	}
	e.mu.Unlock()
	if sizes == nil {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	content, err := e.openParts(id, sizes)
	if err != nil {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	defer content.Close()
	h := w.Header()
	h.Set("Content-Type", mediaType)
	if d := r.URL.Query().Get("response-content-disposition"); d != "" {
		h.Set("Content-Disposition", d)
	}
	h.Set("ETag", `"`+id+`"`)
	rec := Download{FileID: id, Range: r.Header.Get("Range")}
	cw := &countWriter{statusWriter: w}
	if e.dice.roll(e.faults.Load().DownloadResetRate) {
		cw.cut = -1 // set from Content-Length at the first write
	}
	defer func() {
		rec.Status, rec.Sent, rec.Cut = w.status, cw.n, cw.didCut
		e.downloads.add(rec)
	}()
	// ServeContent answers Range requests with 206 and Content-Range, and 416 when no range
	// fits, as S3 does.
	http.ServeContent(cw, r, "", modTime, io.NewSectionReader(content, 0, content.size))
}

// Download is one GET of a file's original bytes, as the emulator saw it: for tests that
// check how a client fetched (by range, resumed where a cut left it).
type Download struct {
	FileID string `json:"file_id"`
	// Range is the request's Range header, "" for none.
	Range  string `json:"range"`
	Status int    `json:"status"`
	// Sent counts the body bytes written.
	Sent int64 `json:"sent"`
	// Cut is true when the emulator cut the connection on purpose (DownloadResetRate).
	Cut bool `json:"cut"`
}

// maxDownloadLog bounds the downloads remembered; older ones are forgotten first.
const maxDownloadLog = 10000

type downloadLog struct {
	mu   sync.Mutex
	list []Download
}

func (l *downloadLog) add(d Download) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) == maxDownloadLog {
		l.list = slices.Delete(l.list, 0, 1)
	}
	l.list = append(l.list, d)
}

// Downloads returns the original downloads served so far, oldest first (at most the last
// 10,000); GET /_emulator/downloads answers the same list.
func (e *Emulator) Downloads() []Download {
	e.downloads.mu.Lock()
	defer e.downloads.mu.Unlock()
	return slices.Clone(e.downloads.list)
}

func (e *Emulator) handleTestDownloads(w http.ResponseWriter, _ *http.Request) {
	list := e.Downloads()
	if list == nil {
		list = []Download{}
	}
	writeJSON(w, http.StatusOK, list)
}

// countWriter counts the body bytes of a download and, when cut is set, cuts the connection
// once half of the answer's Content-Length is written.
type countWriter struct {
	*statusWriter
	n      int64
	cut    int64 // 0: never; -1: from Content-Length at the first write; else the byte to cut at
	didCut bool
}

func (c *countWriter) Write(b []byte) (int, error) {
	if c.cut < 0 {
		c.cut = 0
		if n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64); err == nil && n > 1 {
			c.cut = n / 2
		}
	}
	if c.cut > 0 && c.n+int64(len(b)) >= c.cut {
		m, _ := c.statusWriter.Write(b[:c.cut-c.n])
		c.n += int64(m)
		_ = http.NewResponseController(c.statusWriter).Flush()
		c.didCut = true
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	m, err := c.statusWriter.Write(b)
	c.n += int64(m)
	return m, err
}

// partsFile reads a file's stored parts as one sequence of bytes.
type partsFile struct {
	files []*os.File
	ends  []int64 // ends[i] is the offset just past part i
	size  int64
}

// openParts opens the stored parts of a file, whose sizes are given in order.
func (e *Emulator) openParts(id string, sizes []int64) (*partsFile, error) {
	p := &partsFile{}
	for i, s := range sizes {
		f, err := os.Open(e.partPath(id, i))
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("open part %d: %w", i, err)
		}
		p.files = append(p.files, f)
		p.size += s
		p.ends = append(p.ends, p.size)
	}
	return p, nil
}

// ReadAt implements io.ReaderAt across the parts.
func (p *partsFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("read parts: negative offset")
	}
	n := 0
	for i, end := range p.ends {
		if off >= end || n == len(b) {
			continue
		}
		start := end - p.sizeOf(i)
		m, err := p.files[i].ReadAt(b[n:min(len(b), n+int(end-off))], off-start)
		n += m
		off += int64(m)
		if err != nil && !(errors.Is(err, io.EOF) && off == end) {
			return n, err
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (p *partsFile) sizeOf(i int) int64 {
	if i == 0 {
		return p.ends[0]
	}
	return p.ends[i] - p.ends[i-1]
}

// Close closes every part.
func (p *partsFile) Close() error {
	var errs []error
	for _, f := range p.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
