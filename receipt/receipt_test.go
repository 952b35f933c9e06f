package receipt

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"
)

func sample() *Receipt {
	return &Receipt{
		FormatVersion: FormatVersion,
		GeneratedAt:   time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		State:         StateRef{Lineage: "lin", Serial: 4},
		Target:        Target{AccountID: "a", WorkspaceID: "w", ProjectID: "p", Project: "Dailies"},
		Files: []File{{Address: "/A/clip \"checksum\": \"blake3:x | `tick`.mov", Kind: "local", Source: "media/clip.mov", Size: 10,
			BLAKE3: "blake3:" + strings.Repeat("ab", 32), FileID: "f1", ViewURL: "http://example.com/view/f1 (x)<y>", UploadedAt: "2026-12-01T11:00:00Z"},
			{Address: "/B.mov", Kind: "remote", Source: "https://cdn/b.mov", FileID: "f2", ViewURL: "javascript:alert(1)"}},
		Summary: Summary{Files: 2, Bytes: 10},
	}
}

// TestRoundTrip: Encode's output decodes to the same receipt; any edited byte, whitespace
// included, is refused with ErrChecksum.
func TestRoundTrip(t *testing.T) {
	data, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Checksum == "" || r.Files[0].Address != sample().Files[0].Address {
		t.Fatalf("decoded %+v", r)
	}
	for i := range data {
		edited := bytes.Clone(data)
		edited[i] ^= 0x01
		if _, err := Decode(edited); err == nil {
			t.Fatalf("a receipt with byte %d edited (%q) was accepted", i, data[max(0, i-10):min(len(data), i+10)])
		}
	}
	if _, err := Decode(bytes.Replace(data, []byte(`"size": 10`), []byte(`"size": 11`), 1)); !errors.Is(err, ErrChecksum) {
		t.Errorf("an edited size: %v, want ErrChecksum", err)
	}
}

// TestChecksumWithoutFiosync: the documented recipe (sed, then b3sum) gives the checksum;
// without b3sum installed, the same steps in Go.
func TestChecksumWithoutFiosync(t *testing.T) {
	r := sample()
	data, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	canonical := regexp.MustCompile(`"checksum": "blake3:[0-9a-f]*"`).ReplaceAll(data, []byte(`"checksum": ""`))
	if got := fmt.Sprintf("blake3:%x", blake3.Sum256(canonical)); got != r.Checksum {
		t.Errorf("BLAKE3 of the canonical content = %s, the receipt says %s", got, r.Checksum)
	}
	if _, err := exec.LookPath("b3sum"); err != nil {
		t.Skip("b3sum not installed")
	}
	cmd := exec.Command("sh", "-c", `sed 's/"checksum": "blake3:[0-9a-f]*"/"checksum": ""/' | b3sum --no-names`)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := "blake3:" + strings.TrimSpace(string(out)); got != r.Checksum {
		t.Errorf("sed | b3sum = %s, the receipt says %s", got, r.Checksum)
	}
}

// TestMarkdown: names are escaped into code spans, view_url is linked only when http(s) and
// cannot close the link, and the JSON form's checksum ends it.
func TestMarkdown(t *testing.T) {
	r := sample()
	if _, err := Encode(r); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"(<http://example.com/view/f1%20%28x%29%3Cy%3E>)",
		"``/A/clip \"checksum\": \"blake3:x \\| `tick`.mov``",
		"Receipt checksum (BLAKE3 of the JSON form's canonical content): `" + r.Checksum + "`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "javascript:") {
		t.Errorf("a javascript: view_url was linked:\n%s", md)
	}
}
