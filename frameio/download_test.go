package frameio_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/frameio"
)

// TestDownloadOriginal fetches an uploaded file back through media_links.original, whole and by
// ranges, and compares BLAKE3 digests with the upload; a forged or expired URL is refused.
func TestDownloadOriginal(t *testing.T) {
	var clk clock
	opts := noLimits()
	opts.Now = clk.now
	opts.PartSize = 64 << 10
	opts.URLTTL = time.Hour
	e := newEnv(t, opts, frameio.WithoutPacing())
	ctx := t.Context()
	src := bytes.Repeat([]byte("0123456789abcdefghij"), 15_000) // 300,000 bytes in 5 parts
	up, err := upload(ctx, e.client, e.seed, "A001.mov", bytes.NewReader(src), int64(len(src)), 3)
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.client.FileWithMediaLinks(ctx, e.seed.AccountID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.MediaLinks == nil || f.MediaLinks.Original == nil || f.MediaLinks.Original.DownloadURL == "" {
		t.Fatalf("FileWithMediaLinks gave no original download URL: %+v", f.MediaLinks)
	}
	link := f.MediaLinks.Original.DownloadURL
	want := blake3Hex(t, bytes.NewReader(src), int64(len(src)))

	t.Run("whole", func(t *testing.T) {
		var buf bytes.Buffer
		n, err := e.client.Download(ctx, link, 0, -1, &buf)
		if err != nil || n != int64(len(src)) {
			t.Fatalf("Download = %d, %v; want %d bytes", n, err, len(src))
		}
		if got := blake3Hex(t, bytes.NewReader(buf.Bytes()), n); got != want {
			t.Errorf("BLAKE3 of the download = %s, want the upload's %s", got, want)
		}
	})

	t.Run("by ranges", func(t *testing.T) {
		var buf bytes.Buffer
		const chunk = 70_001 // not a divisor of the part size, so ranges cross parts
		for off := int64(0); off < int64(len(src)); off += chunk {
			length := min(chunk, int64(len(src))-off)
			n, err := e.client.Download(ctx, link, off, length, &buf)
			if err != nil || n != length {
				t.Fatalf("Download(%d, %d) = %d, %v", off, length, n, err)
			}
		}
		if got := blake3Hex(t, bytes.NewReader(buf.Bytes()), int64(buf.Len())); got != want {
			t.Errorf("BLAKE3 of the ranges joined = %s, want the upload's %s", got, want)
		}
	})

	t.Run("forged", func(t *testing.T) {
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set("X-Amz-Signature", strings.Repeat("0", 64))
		u.RawQuery = q.Encode()
		before := requests(e, "GET original", "403")
		_, err := e.client.Download(ctx, u.String(), 0, -1, &bytes.Buffer{})
		if !errors.Is(err, frameio.ErrURLRejected) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Errorf("forged URL: %v, want ErrURLRejected (SignatureDoesNotMatch)", err)
		}
		if strings.Contains(err.Error(), "X-Amz") {
			t.Errorf("error shows the query: %v", err)
		}
		if got := requests(e, "GET original", "403") - before; got != 1 {
			t.Errorf("a forged URL was tried %d times, want once", got)
		}
	})

	t.Run("expired", func(t *testing.T) {
		clk.advance(time.Hour)
		_, err := e.client.Download(ctx, link, 0, 10, &bytes.Buffer{})
		if !errors.Is(err, frameio.ErrURLRejected) || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("expired URL: %v, want ErrURLRejected (AccessDenied)", err)
		}
		fresh, err := e.client.FileWithMediaLinks(ctx, e.seed.AccountID, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.Download(ctx, fresh.MediaLinks.Original.DownloadURL, 0, 10, &bytes.Buffer{}); err != nil {
			t.Errorf("fresh URL: %v", err)
		}
	})

	t.Run("not complete", func(t *testing.T) {
		f, err := e.client.CreateLocalUpload(ctx, e.seed.AccountID, e.seed.RootFolderID, "later.mov", 5)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.FileWithMediaLinks(ctx, e.seed.AccountID, f.ID)
		if err != nil || got.MediaLinks == nil || got.MediaLinks.Original == nil || got.MediaLinks.Original.DownloadURL != "" {
			t.Errorf("links of an incomplete file = %+v, %v; want an original without URLs", got.MediaLinks, err)
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		if _, err := e.client.Download(ctx, link, 5, -1, &bytes.Buffer{}); err == nil {
			t.Error("offset without a length: no error")
		}
		if _, err := e.client.Download(ctx, "not a url", 0, -1, &bytes.Buffer{}); err == nil {
			t.Error("invalid URL: no error")
		}
	})
}
