package emulator

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// originalLinks returns the media_links.original of a file.
func (e *env) originalLinks(id string) map[string]any {
	e.t.Helper()
	v := e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"?include=media_links.original", nil), http.StatusOK).json(e.t)
	links, _ := v["data"].(map[string]any)["media_links"].(map[string]any)
	orig, ok := links["original"].(map[string]any)
	if !ok {
		e.t.Fatalf("no media_links.original in %v", v["data"])
	}
	return orig
}

// get sends a GET without a token, with the headers given as name, value pairs.
func (e *env) get(rawURL string, header ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

func TestDownloadOriginal(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 1000; o.URLTTL = time.Hour })
	src := randomBytes(3500, 21)
	id := e.upload(e.seed.RootFolderID, "clip one.mov", src)
	links := e.originalLinks(id)
	download, _ := links["download_url"].(string)
	inline, _ := links["inline_url"].(string)
	if download == "" || inline == "" || download == inline {
		t.Fatalf("media_links.original = %v, want two different URLs", links)
	}

	t.Run("whole", func(t *testing.T) {
		r := e.mustStatus(e.get(download), http.StatusOK)
		if got := blake3Hex(r.body); got != blake3Hex(src) {
			t.Errorf("BLAKE3 of the download = %s, want %s", got, blake3Hex(src))
		}
		want := map[string]string{"Content-Type": "video/quicktime", "Content-Length": "3500",
			"Accept-Ranges": "bytes", "Content-Disposition": `attachment; filename="clip one.mov"`}
		for k, v := range want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if got := e.mustStatus(e.get(inline), http.StatusOK).header.Get("Content-Disposition"); !strings.HasPrefix(got, "inline") {
			t.Errorf("inline_url Content-Disposition = %q, want inline", got)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		for _, tt := range []struct {
			rng          string
			from, to     int // src[from:to]
			contentRange string
		}{
			{"bytes=0-99", 0, 100, "bytes 0-99/3500"},
			{"bytes=800-1900", 800, 1901, "bytes 800-1900/3500"}, // across three parts
			{"bytes=3000-", 3000, 3500, "bytes 3000-3499/3500"},
			{"bytes=-10", 3490, 3500, "bytes 3490-3499/3500"},
			{"bytes=3499-9999", 3499, 3500, "bytes 3499-3499/3500"},
		} {
			r := e.mustStatus(e.get(download, "Range", tt.rng), http.StatusPartialContent)
			if got := r.header.Get("Content-Range"); got != tt.contentRange {
				t.Errorf("%s: Content-Range = %q, want %q", tt.rng, got, tt.contentRange)
			}
			if blake3Hex(r.body) != blake3Hex(src[tt.from:tt.to]) {
				t.Errorf("%s: %d bytes differ from src[%d:%d]", tt.rng, len(r.body), tt.from, tt.to)
			}
		}
		r := e.mustStatus(e.get(download, "Range", "bytes=5000-6000"), http.StatusRequestedRangeNotSatisfiable)
		if got := r.header.Get("Content-Range"); got != "bytes */3500" {
			t.Errorf("416 Content-Range = %q, want bytes */3500", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		forge := func(edit func(u *url.URL, q url.Values)) string {
			u, _ := url.Parse(download)
			q := u.Query()
			edit(u, q)
			u.RawQuery = q.Encode()
			return u.String()
		}
		other := e.upload(e.seed.RootFolderID, "other.mov", src[:10])
		for _, tt := range []struct {
			name   string
			url    string
			header []string
			status int
			code   string
		}{
			{"forged signature", forge(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) }), nil, 403, "SignatureDoesNotMatch"},
			{"another file", forge(func(u *url.URL, _ url.Values) { u.Path = strings.Replace(u.Path, id, other, 1) }), nil, 403, "SignatureDoesNotMatch"},
			{"longer lifetime", forge(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "999999") }), nil, 403, "SignatureDoesNotMatch"},
			{"no signature", forge(func(_ *url.URL, q url.Values) { q.Del("X-Amz-Signature") }), nil, 403, "AccessDenied"},
			{"bearer token too", download, []string{"Authorization", "Bearer " + e.seed.Token}, 400, "InvalidArgument"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.mustStatus(e.get(tt.url, tt.header...), tt.status)
				if got := s3Code(t, r); got != tt.code {
					t.Errorf("code = %s, want %s", got, tt.code)
				}
			})
		}
		t.Run("expired", func(t *testing.T) {
			e.clock.Add(time.Hour)
			r := e.mustStatus(e.get(download), http.StatusForbidden)
			if got := s3Code(t, r); got != "AccessDenied" || !containsString(r.body, "expired") {
				t.Errorf("expired URL: %s", r.body)
			}
			// A fresh show signs fresh URLs.
			e.mustStatus(e.get(e.originalLinks(id)["download_url"].(string)), http.StatusOK)
		})
	})

	t.Run("not complete yet", func(t *testing.T) {
		f := e.createFile(e.seed.RootFolderID, "later.mov", 10)
		if diff := cmp.Diff(map[string]any{"download_url": nil, "inline_url": nil}, e.originalLinks(f["id"].(string))); diff != "" {
			t.Errorf("links of an incomplete file (-want +got):\n%s", diff)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		gone := e.upload(e.seed.RootFolderID, "gone.mov", src[:100])
		u := e.originalLinks(gone)["download_url"].(string)
		e.mustStatus(e.call("DELETE", e.acct()+"/files/"+gone, nil), http.StatusNoContent)
		if got := s3Code(t, e.mustStatus(e.get(u), http.StatusNotFound)); got != "NoSuchKey" {
			t.Errorf("code = %s, want NoSuchKey", got)
		}
	})

	t.Run("includes", func(t *testing.T) {
		v := e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"?include=media_links.thumbnail,creator", nil), http.StatusOK).json(t)
		want := map[string]any{"thumbnail": map[string]any{"download_url": nil, "url": nil}}
		if diff := cmp.Diff(want, v["data"].(map[string]any)["media_links"]); diff != "" {
			t.Errorf("media_links (-want +got):\n%s", diff)
		}
		if _, ok := e.mustStatus(e.call("GET", e.acct()+"/files/"+id, nil), http.StatusOK).json(t)["data"].(map[string]any)["media_links"]; ok {
			t.Error("media_links present without include")
		}
		item := errorItem(t, e.mustStatus(e.call("GET", e.acct()+"/files/"+id+"?include=media_links.bogus", nil), http.StatusBadRequest))
		if diff := cmp.Diff(map[string]any{"pointer": "include"}, item["source"]); diff != "" {
			t.Errorf("source (-want +got):\n%s", diff)
		}
	})

	if got := e.emu.Stats().Requests[routeOriginal]; got["200"] == 0 || got["206"] == 0 || got["403"] == 0 {
		t.Errorf("stats for downloads = %v, want 200, 206 and 403 counted", got)
	}
}

// TestDownloadReset: with DownloadResetRate 1 a download is cut after half of its answer,
// and the download log shows what each GET asked for and got.
func TestDownloadReset(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PartSize = 1000 })
	src := randomBytes(3000, 5)
	id := e.upload(e.seed.RootFolderID, "a.mov", src)
	download, _ := e.originalLinks(id)["download_url"].(string)
	e.emu.SetFaults(Faults{DownloadResetRate: 1})
	fetch := func(rng string) ([]byte, error) {
		req, _ := http.NewRequest(http.MethodGet, download, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	if got, err := fetch(""); err == nil || len(got) != 1500 || string(got) != string(src[:1500]) {
		t.Fatalf("cut download: read %d bytes, err %v; want the first 1500 and an error", len(got), err)
	}
	if got, err := fetch("bytes=1500-2999"); err == nil || string(got) != string(src[1500:2250]) {
		t.Fatalf("cut ranged download: read %d bytes, err %v; want 750 and an error", len(got), err)
	}
	if got, err := fetch("bytes=2000-2000"); err != nil || string(got) != string(src[2000:2001]) {
		t.Fatalf("a one-byte answer: read %q, err %v; want it whole", got, err)
	}
	e.emu.SetFaults(Faults{})
	if got, err := fetch(""); err != nil || string(got) != string(src) {
		t.Fatalf("download without the fault: read %d bytes, err %v", len(got), err)
	}
	want := []Download{
		{FileID: id, Status: 200, Sent: 1500, Cut: true},
		{FileID: id, Range: "bytes=1500-2999", Status: 206, Sent: 750, Cut: true},
		{FileID: id, Range: "bytes=2000-2000", Status: 206, Sent: 1},
		{FileID: id, Status: 200, Sent: 3000},
	}
	if diff := cmp.Diff(want, e.emu.Downloads()); diff != "" {
		t.Errorf("download log (-want +got):\n%s", diff)
	}
}
