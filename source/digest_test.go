package source

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vectorInput returns the input of the official BLAKE3 test vectors: n bytes
// of the repeating sequence 0, 1, ..., 250.
func vectorInput(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// blake3Vectors are the first 32 bytes of the "hash" outputs in
// BLAKE3-team/BLAKE3 test_vectors/test_vectors.json.
var blake3Vectors = []struct {
	n    int
	want string
}{
	{0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
	{1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
	{1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
	{1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
	{1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
	{2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
	{2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"},
	{3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
	{4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
	{8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
	{8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
	{16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
	{31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
	{102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
}

func TestHashVectors(t *testing.T) {
	dir := t.TempDir()
	for _, v := range blake3Vectors {
		t.Run(itoa(v.n), func(t *testing.T) {
			in := vectorInput(v.n)
			path := filepath.Join(dir, itoa(v.n))
			if err := os.WriteFile(path, in, 0o644); err != nil {
				t.Fatal(err)
			}
			d, n, err := HashFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if d.Hex() != v.want || n != int64(v.n) {
				t.Errorf("HashFile = %s, %d; want %s, %d", d.Hex(), n, v.want, v.n)
			}
			d, _, err = HashReader(bytes.NewReader(in))
			if err != nil || d.Hex() != v.want {
				t.Errorf("HashReader = %s, %v; want %s", d.Hex(), err, v.want)
			}
			// Fed in uneven pieces, as apply does while parts stream.
			h := NewHasher()
			for rest := in; len(rest) > 0; {
				k := min(len(rest), 1+len(rest)/3)
				h.Write(rest[:k])
				rest = rest[k:]
			}
			if h.Digest().Hex() != v.want || h.Size() != int64(v.n) {
				t.Errorf("Hasher = %s after %d bytes; want %s", h.Digest().Hex(), h.Size(), v.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHashAgreesWithB3sum compares HashFile with the reference b3sum on
// generated files around the buffer size.
func TestHashAgreesWithB3sum(t *testing.T) {
	b3sum, err := exec.LookPath("b3sum")
	if err != nil {
		t.Skip("b3sum not installed (apt-get install -y b3sum); skipping the comparison with the reference implementation")
	}
	dir := t.TempDir()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	var paths []string
	for _, size := range []int{0, 1, 64 << 10, bufSize - 1, bufSize, bufSize + 1, 3*bufSize + 12345} {
		data := make([]byte, size)
		rng.Read(data)
		path := filepath.Join(dir, "f"+itoa(size))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	out, err := exec.Command(b3sum, paths...).Output()
	if err != nil {
		t.Fatalf("b3sum: %v", err)
	}
	want := map[string]string{}
	for line := range strings.Lines(string(out)) {
		hash, path, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			t.Fatalf("unexpected b3sum line %q", line)
		}
		want[path] = hash
	}
	got := map[string]string{}
	for _, path := range paths {
		d, _, err := HashFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got[path] = d.Hex()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HashFile disagrees with b3sum (-want +got):\n%s", diff)
	}
}

func TestHashFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.mov")
	if _, _, err := HashFile(path); err == nil || !strings.Contains(err.Error(), `hash "`+path+`"`) {
		t.Errorf("HashFile(missing) error = %v, want one naming the file", err)
	}
}

func TestDigestText(t *testing.T) {
	d := HashURL("x")
	s := d.String()
	if !strings.HasPrefix(s, "blake3:") || len(s) != len("blake3:")+64 {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseDigest(s)
	if err != nil || back != d {
		t.Errorf("ParseDigest(%q) = %v, %v; want %v", s, back, err, d)
	}
	if (Digest{}).IsZero() != true || d.IsZero() {
		t.Error("IsZero wrong")
	}
	for _, bad := range []string{"", d.Hex(), "sha256:" + d.Hex(), "blake3:" + d.Hex()[:62], "blake3:" + strings.Repeat("zz", 32), "blake3:" + strings.ToUpper(d.Hex())} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) succeeded, want an error", bad)
		}
	}
}

func TestStripQuery(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "https://cdn.example.com/a/b.mov", "https://cdn.example.com/a/b.mov"},
		{"presigned", "https://s3.example.com/b.mov?X-Amz-Signature=abc&X-Amz-Credential=k", "https://s3.example.com/b.mov"},
		{"fragment", "https://example.com/b.mov#t=10", "https://example.com/b.mov"},
		{"user info", "https://user:pass@example.com/b.mov?token=t", "https://example.com/b.mov"},
		{"empty query", "https://example.com/b.mov?", "https://example.com/b.mov"},
		{"unparsable", "https://exa mple.com/%zz?sig=1", "https://exa mple.com/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripQuery(tt.in); got != tt.want {
				t.Errorf("StripQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if HashURL("https://x/a?sig=1") == HashURL("https://x/a?sig=2") {
		t.Error("HashURL ignores the query string; a changed signed URL would go unnoticed")
	}
}

// TestParseDigestEveryDigit: ParseDigest decodes every lower-case hex digit at every position
// and refuses any other byte there, an upper-case digit with its own message.
func TestParseDigestEveryDigit(t *testing.T) {
	var d Digest
	for i := range d {
		d[i] = byte(i*37 + 11)
	}
	hexPart := d.Hex()
	for at := range len(hexPart) {
		for c := range 256 {
			b := []byte(hexPart)
			b[at] = byte(c)
			got, err := ParseDigest("blake3:" + string(b))
			switch isLowerHex := '0' <= c && c <= '9' || 'a' <= c && c <= 'f'; {
			case isLowerHex && err != nil:
				t.Fatalf("digit %q at %d: %v", rune(c), at, err)
			case isLowerHex && got.Hex() != string(b):
				t.Fatalf("digit %q at %d: decoded %s, want %s", rune(c), at, got.Hex(), b)
			case !isLowerHex && err == nil:
				t.Fatalf("byte %#02x at %d: accepted", c, at)
			case 'A' <= c && c <= 'F' && !strings.Contains(err.Error(), "lower-case"):
				t.Fatalf("upper-case %q at %d: %v, want the lower-case message", rune(c), at, err)
			}
		}
	}
}
