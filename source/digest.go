package source

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/zeebo/blake3"
)

// digestPrefix names the algorithm in the text form of a Digest, so that a
// later change of algorithm can never be mistaken for changed content.
const digestPrefix = "blake3:"

// Digest is a BLAKE3-256 digest. Its text form, used in the state file and in
// messages, is "blake3:" followed by 64 lower-case hex digits.
type Digest [32]byte

// ParseDigest parses the text form written by Digest.String.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	hexPart, ok := strings.CutPrefix(s, digestPrefix)
	if !ok {
		return d, fmt.Errorf("parse digest %q: want the form %s<64 hex digits>", s, digestPrefix)
	}
	if len(hexPart) != 2*len(d) {
		return d, fmt.Errorf("parse digest %q: want %d hex digits, got %d", s, 2*len(d), len(hexPart))
	}
	// One pass, no allocation: a state file holds one or two digests per entry.
	for i := range d {
		hi, lo := unhex[hexPart[2*i]], unhex[hexPart[2*i+1]]
		if hi|lo > 0xf {
			if strings.ContainsAny(hexPart, "ABCDEF") {
				// The text form has one spelling, so that a file's checksum can be found as written.
				return Digest{}, fmt.Errorf("parse digest %q: want lower-case hex digits", s)
			}
			return Digest{}, fmt.Errorf("parse digest %q: want hex digits", s)
		}
		d[i] = hi<<4 | lo
	}
	return d, nil
}

// unhex is the value of each lower-case hex digit, and 0xff for every other byte.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// IsZero reports whether d is the zero value, which stands for "not hashed".
func (d Digest) IsZero() bool { return d == Digest{} }

// String returns "blake3:<hex>".
func (d Digest) String() string { return digestPrefix + hex.EncodeToString(d[:]) }

// Hex returns the 64 hex digits without the algorithm prefix, as b3sum and the
// emulator print them.
func (d Digest) Hex() string { return hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	parsed, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// Hasher computes a Digest from bytes fed in order. Apply uses it to hash a
// file while its parts stream to Frame.io, so each byte is read once. The
// zero value is not usable; call NewHasher. A Hasher is not safe for
// concurrent use.
type Hasher struct {
	h *blake3.Hasher
	n int64
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return &Hasher{h: blake3.New()} }

// Write adds p to the hash. It never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	n, _ := h.h.Write(p) // blake3.Hasher.Write never fails
	h.n += int64(n)
	return n, nil
}

// Digest returns the digest of the bytes written so far without changing
// the Hasher's state.
func (h *Hasher) Digest() Digest {
	var d Digest
	h.h.Sum(d[:0])
	return d
}

// Size returns the number of bytes written so far.
func (h *Hasher) Size() int64 { return h.n }

// Reset empties the Hasher for reuse.
func (h *Hasher) Reset() {
	h.h.Reset()
	h.n = 0
}

// bufSize is the read size used while hashing. Large reads keep the number of
// system calls low; the buffers are pooled so hashing many small files does
// not allocate a megabyte each.
const bufSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// HashReader streams r into BLAKE3 and returns the digest and the number of
// bytes read. Memory use is one pooled buffer, whatever the input size.
func HashReader(r io.Reader) (Digest, int64, error) {
	h := NewHasher()
	if err := copyInto(h, r); err != nil {
		return Digest{}, h.Size(), err
	}
	return h.Digest(), h.Size(), nil
}

// copyInto reads r to its end into h through a pooled buffer, so hashing thousands of files
// makes no garbage. It does not use io.Copy because *os.File implements io.WriterTo, which
// would bypass the buffer and fall back to 32 KiB reads.
func copyInto(h *Hasher, r io.Reader) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// HashFile streams the file at path into BLAKE3 and returns the digest and
// the number of bytes read. It never holds the whole file in memory.
func HashFile(path string) (Digest, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return Digest{}, 0, fmt.Errorf("hash %q: %w", path, err)
	}
	defer f.Close()
	h := NewHasher()
	if err := copyInto(h, f); err != nil {
		return Digest{}, h.Size(), fmt.Errorf("hash %q: %w", path, err)
	}
	return h.Digest(), h.Size(), nil
}

// HashURL returns the BLAKE3 of the whole URL, query string included. The
// state records it so that a changed signed URL (a new query) counts as a
// changed source without the query itself ever being written down.
func HashURL(u string) Digest { return blake3.Sum256([]byte(u)) }

// StripQuery returns u without its query string, fragment and user
// information, the form that may appear in the state file, messages and logs.
// Presigned URLs carry their credentials in the query, and user information
// is a password by another name.
func StripQuery(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		// Unparsable: cut at the first character that could start a secret.
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		if i := strings.Index(u, "@"); i >= 0 {
			if j := strings.Index(u, "://"); j >= 0 && j < i {
				u = u[:j+3] + u[i+1:]
			}
		}
		return u
	}
	parsed.RawQuery = ""
	parsed.ForceQuery = false
	parsed.Fragment = ""
	parsed.RawFragment = ""
	parsed.User = nil
	return parsed.String()
}
