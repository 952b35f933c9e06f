package statefile

import (
	"math"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// decodeFast parses a state document the way decodeDocument's JSON decoder does, about three
// times faster and without an allocation per entry: every plan decodes the whole state, and at
// 10,000 entries the general decoder was the larger half of a no-op plan (BenchmarkDecode10k
// runs the two side by side).
//
// It reads only the documents it is sure of: the members of document and nothing else, strings
// (escapes included, through jsontext.AppendUnquote), integers without fraction or exponent, and
// times in the UTC form Encode writes ("2006-01-02T15:04:05.999999999Z"). Anything else (null,
// an unknown or repeated member, another number or time form, bad syntax) makes it give up with
// ok false, and the general decoder decides, errors included; so does an entry that fails
// validEntry, checked as it is read rather than in a second pass over the map. So it accepts nothing the general
// decoder would refuse, and what it accepts decodes to the same document (FuzzDecodeFast holds
// the two to that).
//
// Decoded strings are substrings of data, which saves an allocation for each address, path
// and id; data lives as long as the state does. A lent document (DecodeLent) keeps nothing:
// the strings are copied into the decoder's arena instead (keep).
func decodeFast(data string, lent bool) (doc *document, ok bool) {
	d := &fastDecoder{s: data, lent: lent}
	doc = &document{}
	var seen fields
	d.object(func(key string) {
		switch key {
		case "version":
			seen.once(d, 0)
			doc.Version = int(d.int(math.MinInt, math.MaxInt))
		case "serial":
			seen.once(d, 1)
			doc.Serial = d.uint()
		case "lineage":
			seen.once(d, 2)
			doc.Lineage = d.text()
		case "target":
			seen.once(d, 3)
			d.target(&doc.Target)
		case "manifest":
			seen.once(d, 4)
			doc.Manifest = d.text()
		case "folders":
			seen.once(d, 5)
			doc.Folders = d.folders()
		case "entries":
			seen.once(d, 6)
			doc.Entries = d.entries()
		case "checksum":
			seen.once(d, 7)
			doc.Checksum = d.digest()
		default:
			d.bad = true
		}
	})
	d.ws()
	if d.bad || d.i != len(d.s) {
		return nil, false
	}
	return doc, true
}

// fastDecoder is a cursor over a document. Its methods set bad, and return zero values, at the
// first thing they do not expect; callers check bad where it matters and the result is thrown
// away.
type fastDecoder struct {
	s   string
	i   int
	bad bool
	// lent says s is only lent for the decoding (DecodeLent): every string the state keeps
	// is then copied into arena instead of being a substring of s.
	lent  bool
	arena strings.Builder
	// slab hands out Entries in blocks, so a state of many entries makes few allocations.
	slab []state.Entry
}

// fields records which members of one object were read, to give up on a repeated one as the
// general decoder refuses it.
type fields uint32

func (f *fields) once(d *fastDecoder, bit uint) {
	if *f&(1<<bit) != 0 {
		d.bad = true
	}
	*f |= 1 << bit
}

// ws skips JSON whitespace.
func (d *fastDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\n', '\t', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (d *fastDecoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object, calling member for each name with the cursor on its value.
func (d *fastDecoder) object(member func(name string)) {
	if !d.consume('{') {
		d.bad = true
		return
	}
	if d.consume('}') {
		return
	}
	for !d.bad {
		name := d.str()
		if !d.consume(':') {
			d.bad = true
			return
		}
		member(name)
		if d.consume(',') {
			continue
		}
		if !d.consume('}') {
			d.bad = true
		}
		return
	}
}

// text reads a string the decoded state keeps (see keep).
func (d *fastDecoder) text() string { return d.keep(d.str()) }

// arenaChunk is the size of the buffers the decoder copies kept strings into, for a lent
// document: 100,000 entries keep about 10 MB of strings of their 45 MB document.
const arenaChunk = 256 << 10

// keep returns s, read from the document, as a string the decoded state may keep: s itself,
// which shares the document's bytes, or for a document only lent, a copy of it in the
// decoder's arena. A strings.Builder only ever appends, so the strings taken from it before
// stay as they were; once a chunk is full, the next is a Builder of its own.
func (d *fastDecoder) keep(s string) string {
	if !d.lent || s == "" {
		return s
	}
	if d.arena.Cap()-d.arena.Len() < len(s) {
		d.arena = strings.Builder{}
		d.arena.Grow(max(arenaChunk, len(s)))
	}
	start := d.arena.Len()
	d.arena.WriteString(s)
	return d.arena.String()[start:]
}

// str reads a string. The common one, printable ASCII without escapes, is a substring of the
// document; the rest go through the general decoder's unquoting, which also refuses control
// characters and invalid UTF-8.
func (d *fastDecoder) str() string {
	if !d.consume('"') {
		d.bad = true
		return ""
	}
	start := d.i
	if n := strings.IndexByte(d.s[start:], '"'); n >= 0 && plainRun(d.s[start:start+n]) {
		d.i = start + n + 1
		return d.s[start : start+n]
	}
	return d.quoted(start - 1)
}

// plainRun reports whether every byte of s is plain. It tests eight bytes at a time (a
// third of a no-op plan's decoding was the byte-by-byte loop it replaces): none has its top
// bit set (not ASCII), none is below 0x20 (a control character), none is a backslash or a
// quote. Within ASCII, subtracting 0x20 from each byte borrows, and so sets a top bit, only
// where a byte is below 0x20; a byte XORed with the backslash is zero only where it was one
// (and a zero byte is found the same way, by the borrow of subtracting one).
func plainRun(s string) bool {
	const (
		ones   = 0x0101010101010101
		tops   = 0x8080808080808080
		space  = 0x20 * ones
		bslash = '\\' * ones
		quote  = '"' * ones
	)
	for ; len(s) >= 8; s = s[8:] {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		b, q := w^bslash, w^quote
		if w&tops != 0 || (w-space)&tops != 0 || (b-ones)&^b&tops != 0 || (q-ones)&^q&tops != 0 {
			return false
		}
	}
	for i := range len(s) {
		if !plain[s[i]] {
			return false
		}
	}
	return true
}

// plain holds the bytes a string can hold as they are: printable ASCII but the quote and the
// backslash. One table lookup per byte is the decoder's inner loop.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// quoted reads the string whose opening quote is at start and that needs unquoting.
func (d *fastDecoder) quoted(start int) string {
	j := start + 1
	for j < len(d.s) && d.s[j] != '"' {
		if d.s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(d.s) {
		d.bad = true
		return ""
	}
	d.i = j + 1
	b, err := jsontext.AppendUnquote(nil, d.s[start:d.i])
	if err != nil {
		d.bad = true
		return ""
	}
	return string(b)
}

// uint reads a non-negative integer that fits in a uint64.
func (d *fastDecoder) uint() uint64 {
	d.ws()
	start := d.i
	var n uint64
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		digit := uint64(d.s[d.i] - '0')
		if n > (1<<64-1-digit)/10 {
			d.bad = true
			return 0
		}
		n = n*10 + digit
		d.i++
	}
	switch digits := d.i - start; {
	case digits == 0, digits > 1 && d.s[start] == '0':
		d.bad = true // not a number, or a leading zero
	}
	if d.i < len(d.s) {
		switch d.s[d.i] {
		case '.', 'e', 'E':
			d.bad = true // a fraction or exponent: the general decoder decides
		}
	}
	return n
}

// int reads an integer in [lo, hi].
func (d *fastDecoder) int(lo, hi int64) int64 {
	d.ws()
	neg := d.i < len(d.s) && d.s[d.i] == '-'
	if neg {
		d.i++
		if d.i >= len(d.s) || d.s[d.i] < '1' || d.s[d.i] > '9' {
			d.bad = true // "-0", "- 1" (no space may follow the sign), "-x": the general decoder decides
			return 0
		}
	}
	u := d.uint()
	if u > math.MaxInt64 && !(neg && u == -math.MinInt64) {
		d.bad = true
		return 0
	}
	n := int64(u)
	if neg {
		n = -n
	}
	if n < lo || n > hi {
		d.bad = true
		return 0
	}
	return n
}

// digest reads a Digest in its text form.
func (d *fastDecoder) digest() source.Digest {
	s := d.str()
	if d.bad {
		return source.Digest{}
	}
	dg, err := source.ParseDigest(s)
	if err != nil {
		d.bad = true
	}
	return dg
}

// time reads a time in the form Encode writes: RFC 3339 in UTC, "Z", up to nine fractional
// digits.
func (d *fastDecoder) time() time.Time {
	s := d.str()
	if d.bad {
		return time.Time{}
	}
	t, ok := parseUTC(s)
	if !ok {
		d.bad = true
	}
	return t
}

// parseUTC parses "2006-01-02T15:04:05Z" with an optional fraction of one to nine digits
// before the Z, checking every field's range as time.Parse does.
func parseUTC(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := atoi(s[0:4])
	month, ok2 := atoi(s[5:7])
	day, ok3 := atoi(s[8:10])
	hour, ok4 := atoi(s[11:13])
	minute, ok5 := atoi(s[14:16])
	sec, ok6 := atoi(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := atoi(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// atoi parses a string of decimal digits, at most nine.
func atoi(s string) (int, bool) {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (d *fastDecoder) target(t *state.Target) {
	var seen fields
	d.object(func(key string) {
		switch key {
		case "account_id":
			seen.once(d, 0)
			t.AccountID = d.text()
		case "workspace_id":
			seen.once(d, 1)
			t.WorkspaceID = d.text()
		case "project_id":
			seen.once(d, 2)
			t.ProjectID = d.text()
		case "root_folder_id":
			seen.once(d, 3)
			t.RootFolderID = d.text()
		case "project":
			seen.once(d, 4)
			t.Project = d.text()
		case "account":
			seen.once(d, 5)
			t.Account = d.text()
		case "workspace":
			seen.once(d, 6)
			t.Workspace = d.text()
		default:
			d.bad = true
		}
	})
}

func (d *fastDecoder) folders() map[string]string {
	m := map[string]string{}
	d.object(func(path string) {
		path = d.keep(path)
		if _, dup := m[path]; dup {
			d.bad = true
			return
		}
		m[path] = d.text()
	})
	return m
}

func (d *fastDecoder) entries() map[string]*state.Entry {
	// A size hint: an entry takes 300 to 600 bytes of the document.
	m := make(map[string]*state.Entry, len(d.s)/600)
	d.object(func(addr string) {
		addr = d.keep(addr)
		e, n := d.entry(), len(m)
		if m[addr] = e; len(m) == n {
			d.bad = true // a repeated address (one map operation, not a lookup and then a store)
		}
		if validEntry(addr, e) != nil {
			d.bad = true // the general decoder gives the error
		}
	})
	return m
}

func (d *fastDecoder) entry() *state.Entry {
	if len(d.slab) == 0 {
		d.slab = make([]state.Entry, 256)
	}
	slab := d.slab[:1:1]
	d.slab = d.slab[1:]
	var seen fields
	d.object(func(key string) {
		// e is taken from the slab here rather than captured from outside: the compiler
		// then knows it is not nil and does not check by reading through it. Such a read,
		// the first touch of a fresh slab page, maps the shared zero page, and the write
		// that follows faults again and flushes the TLB of every core the process runs on:
		// 10% of the CPU of a 100,000-file no-op plan, with the walk on the other core.
		e := &slab[0]
		switch key {
		case "source":
			seen.once(d, 0)
			d.source(&e.Source)
		case "file_id":
			seen.once(d, 1)
			e.FileID = d.text()
		case "view_url":
			seen.once(d, 14)
			e.ViewURL = d.text()
		case "parent_id":
			seen.once(d, 2)
			e.ParentID = d.text()
		case "version_stack_id":
			seen.once(d, 3)
			e.VersionStackID = d.text()
		case "previous":
			seen.once(d, 4)
			e.Previous = d.strings()
		case "status":
			seen.once(d, 5)
			e.Status = state.Status(d.text())
		case "created_at":
			seen.once(d, 6)
			e.CreatedAt = d.time()
		case "uploaded_at":
			seen.once(d, 7)
			e.UploadedAt = d.time()
		case "followup":
			seen.once(d, 8)
			e.Followup = d.followup()
		case "verified_at":
			seen.once(d, 9)
			e.VerifiedAt = d.time()
		case "verified_file_id":
			seen.once(d, 10)
			e.VerifiedFileID = d.text()
		case "verified_size":
			seen.once(d, 11)
			e.VerifiedSize = d.int(math.MinInt64, math.MaxInt64)
		case "verified_hash":
			seen.once(d, 12)
			e.VerifiedHash = d.digest()
		case "verify_failed_at":
			seen.once(d, 13)
			e.VerifyFailedAt = d.time()
		default:
			d.bad = true
		}
	})
	return &slab[0]
}

func (d *fastDecoder) followup() *state.Followup {
	f := &state.Followup{}
	var seen fields
	d.object(func(key string) {
		switch key {
		case "step":
			seen.once(d, 0)
			f.Step = state.Step(d.text())
		case "file_id":
			seen.once(d, 1)
			f.FileID = d.text()
		default:
			d.bad = true
		}
	})
	return f
}

func (d *fastDecoder) source(s *source.Identity) {
	var seen fields
	d.object(func(key string) {
		switch key {
		case "kind":
			seen.once(d, 0)
			s.Kind = source.Kind(d.text())
		case "path":
			seen.once(d, 1)
			s.Path = d.text()
		case "size":
			seen.once(d, 2)
			s.Size = d.int(math.MinInt64, math.MaxInt64)
		case "mtime":
			seen.once(d, 3)
			s.ModTime = d.time()
		case "inode":
			seen.once(d, 4)
			s.Inode = d.uint()
		case "ctime":
			seen.once(d, 5)
			s.Ctime = d.time()
		case "hash":
			seen.once(d, 6)
			s.Hash = d.digest()
		case "url":
			seen.once(d, 7)
			s.URL = d.text()
		case "url_hash":
			seen.once(d, 8)
			s.URLHash = d.digest()
		default:
			d.bad = true
		}
	})
}

// strings reads an array of strings.
func (d *fastDecoder) strings() []string {
	if !d.consume('[') {
		d.bad = true
		return nil
	}
	list := []string{}
	if d.consume(']') {
		return list
	}
	for !d.bad {
		list = append(list, d.text())
		if d.consume(',') {
			continue
		}
		if !d.consume(']') {
			d.bad = true
		}
		break
	}
	return list
}
