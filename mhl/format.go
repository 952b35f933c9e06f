package mhl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
)

// Format is a hash format of ASC MHL, named as its XML element is.
type Format string

// The hash formats ASC MHL v2.0 defines.
const (
	C4     Format = "c4"     // SHA-512 in base58 with the prefix "c4", 90 characters
	MD5    Format = "md5"    // lower-case hex, 32 characters
	SHA1   Format = "sha1"   // lower-case hex, 40 characters
	XXH128 Format = "xxh128" // XXH3 128-bit, high 64 bits first, lower-case hex, 32 characters
	XXH3   Format = "xxh3"   // XXH3 64-bit, big-endian lower-case hex, 16 characters
	XXH64  Format = "xxh64"  // XXH64, big-endian lower-case hex, 16 characters
)

// Formats lists every format in the order the XSD wants them inside a hash element.
var Formats = []Format{C4, MD5, SHA1, XXH128, XXH3, XXH64}

// textLen is the length of each format's text form.
var textLen = map[Format]int{C4: 90, MD5: 32, SHA1: 40, XXH128: 32, XXH3: 16, XXH64: 16}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	if _, ok := textLen[f]; !ok {
		return "", fmt.Errorf("unknown hash format %q (want one of c4, md5, sha1, xxh128, xxh3, xxh64)", s)
	}
	return f, nil
}

// normalize checks value as a hash of format f and returns its canonical spelling:
// lower-case hex for the hex formats, C4 as written (base58 is case-sensitive).
func normalize(f Format, value string) (string, error) {
	v := strings.TrimSpace(value)
	if len(v) != textLen[f] {
		return "", fmt.Errorf("%s hash %q: want %d characters, got %d", f, clip(v), textLen[f], len(v))
	}
	if f == C4 {
		if _, err := parseC4(v); err != nil {
			return "", err
		}
		return v, nil
	}
	v = strings.ToLower(v)
	if _, err := hex.DecodeString(v); err != nil {
		return "", fmt.Errorf("%s hash %q: not hex", f, clip(v))
	}
	return v, nil
}

// clip shortens untrusted text for a message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// Hasher computes several formats from one stream of bytes: write the bytes once, then read
// each format's text with Sum. XXH3 and XXH128 share one XXH3 state. A Hasher is an io.Writer
// that never fails; it is not safe for concurrent use.
type Hasher struct {
	formats []Format
	xxh3    *xxh3.Hasher
	xxh64   *xxhash.Digest
	std     map[Format]hash.Hash // c4 (sha512), md5, sha1
	n       int64
}

// NewHasher returns a Hasher for the given formats (duplicates are ignored).
func NewHasher(formats ...Format) *Hasher {
	h := &Hasher{std: map[Format]hash.Hash{}}
	for _, f := range Formats {
		if !contains(formats, f) {
			continue
		}
		h.formats = append(h.formats, f)
		switch f {
		case XXH3, XXH128:
			if h.xxh3 == nil {
				h.xxh3 = xxh3.New()
			}
		case XXH64:
			h.xxh64 = xxhash.New()
		case C4:
			h.std[f] = sha512.New()
		case MD5:
			h.std[f] = md5.New()
		case SHA1:
			h.std[f] = sha1.New()
		}
	}
	return h
}

func contains(fs []Format, f Format) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// Formats returns the formats h computes, in XSD order.
func (h *Hasher) Formats() []Format { return h.formats }

// Write adds p to every hash. It never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	if h.xxh3 != nil {
		h.xxh3.Write(p)
	}
	if h.xxh64 != nil {
		h.xxh64.Write(p)
	}
	for _, s := range h.std {
		s.Write(p)
	}
	h.n += int64(len(p))
	return len(p), nil
}

// Size returns the number of bytes written.
func (h *Hasher) Size() int64 { return h.n }

// Sum returns the text form of format f of the bytes written so far ("" when h does not
// compute f).
func (h *Hasher) Sum(f Format) string {
	switch f {
	case XXH3:
		if h.xxh3 != nil && contains(h.formats, XXH3) {
			return fmt.Sprintf("%016x", h.xxh3.Sum64())
		}
	case XXH128:
		if h.xxh3 != nil && contains(h.formats, XXH128) {
			b := h.xxh3.Sum128().Bytes()
			return hex.EncodeToString(b[:])
		}
	case XXH64:
		if h.xxh64 != nil {
			return fmt.Sprintf("%016x", h.xxh64.Sum64())
		}
	case C4:
		if s := h.std[C4]; s != nil {
			return c4String(s.Sum(nil))
		}
	case MD5, SHA1:
		if s := h.std[f]; s != nil {
			return hex.EncodeToString(s.Sum(nil))
		}
	}
	return ""
}

// Sums returns every format h computes, by format.
func (h *Hasher) Sums() map[Format]string {
	out := make(map[Format]string, len(h.formats))
	for _, f := range h.formats {
		out[f] = h.Sum(f)
	}
	return out
}

// Sum computes format f of b.
func Sum(f Format, b []byte) string {
	h := NewHasher(f)
	h.Write(b)
	return h.Sum(f)
}

// The C4 ID (SMPTE ST 2114): the 64-byte SHA-512 digest read as a big-endian integer, written
// in base 58 with this alphabet, left-padded with '1' (zero) to 88 characters, after "c4".
const (
	c4Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	c4Digits   = 88
)

var fiftyEight = big.NewInt(58)

// c4String encodes a SHA-512 digest as a C4 ID.
func c4String(digest []byte) string {
	n := new(big.Int).SetBytes(digest)
	out := make([]byte, c4Digits)
	for i := range out {
		out[i] = '1'
	}
	mod := new(big.Int)
	for i := c4Digits - 1; n.Sign() > 0 && i >= 0; i-- {
		n.DivMod(n, fiftyEight, mod)
		out[i] = c4Alphabet[mod.Int64()]
	}
	return "c4" + string(out)
}

// parseC4 decodes a C4 ID back to its 64-byte digest.
func parseC4(s string) ([]byte, error) {
	digits, ok := strings.CutPrefix(s, "c4")
	if !ok || len(digits) != c4Digits {
		return nil, fmt.Errorf("c4 hash %q: want \"c4\" and %d base58 characters", clip(s), c4Digits)
	}
	n := new(big.Int)
	for i := 0; i < len(digits); i++ {
		d := strings.IndexByte(c4Alphabet, digits[i])
		if d < 0 {
			return nil, fmt.Errorf("c4 hash %q: %q is not a base58 character", clip(s), digits[i])
		}
		n.Mul(n, fiftyEight)
		n.Add(n, big.NewInt(int64(d)))
	}
	if n.BitLen() > 512 {
		return nil, fmt.Errorf("c4 hash %q: larger than 512 bits", clip(s))
	}
	return n.FillBytes(make([]byte, 64)), nil
}
