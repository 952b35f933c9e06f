package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// document is the on-disk form: the state's fields followed by a checksum.
type document struct {
	state.State
	// Checksum is the BLAKE3 of the canonical encoding of State: the bytes
	// Encode writes before the checksum member, which always comes last.
	Checksum source.Digest `json:"checksum"`
}

// Encode returns the file form of s: indented JSON with sorted map keys, a
// fixed field order, times in UTC, a checksum of the content as the last member
// and a trailing newline, so that successive states diff cleanly. It does not
// change s. Backends other than File store these bytes as they are.
//
// The checksum is the BLAKE3 of every byte before the checksum member (see
// decode), so verifying it costs one pass of the hash, not a second
// encoding: a no-op plan over many files loads the state on every run.
func Encode(s *state.State) ([]byte, error) {
	data, _, err := encode(s)
	return data, err
}

// EncodeSum is Encode, also returning the checksum the file form carries, with which
// Checksummed later recognises these bytes without decoding them.
func EncodeSum(s *state.State) ([]byte, source.Digest, error) { return encode(s) }

// encode is Encode, also returning the checksum it wrote.
func encode(s *state.State) ([]byte, source.Digest, error) {
	return encodeAs(s, state.FormatVersion)
}

// encodeAs is encode writing format version v, for upgraders: the layout is the same in
// every version so far.
func encodeAs(s *state.State, v int) ([]byte, source.Digest, error) {
	c, err := normalize(s, v)
	if err != nil {
		return nil, source.Digest{}, fmt.Errorf("encode state: %w", err)
	}
	body, err := jsonv2.Marshal(c, encodeOptions)
	if err != nil {
		return nil, source.Digest{}, fmt.Errorf("encode state: %w", err)
	}
	// body ends with "\n}": the checksum goes in as the last member.
	prefix := body[:len(body)-len("\n}")]
	sum := source.Digest(blake3.Sum256(prefix))
	return append(prefix, checksumTail(sum)...), sum, nil
}

// encodeOptions make json/v2 write exactly what encoding/json's MarshalIndent(s, "", "  ")
// writes (sorted map keys, the same escapes), about twice as fast; apply saves the state
// after every file, so on large deliveries encoding is on the hot path.
// TestEncodeMatchesEncodingJSON holds the two to the same bytes.
var encodeOptions = jsonv2.JoinOptions(
	jsonv2.Deterministic(true),
	jsontext.WithIndent("  "),
	jsontext.SpaceAfterColon(true),
	jsontext.EscapeForHTML(true),
	jsontext.EscapeForJS(true),
)

// checksumTail is what follows the checksummed prefix in the file form.
func checksumTail(sum source.Digest) []byte {
	return []byte(",\n  \"checksum\": \"" + sum.String() + "\"\n}\n")
}

// normalize returns a deep copy of s in the form that is written: format
// version v, non-nil maps, UTC times without monotonic readings.
func normalize(s *state.State, v int) (*state.State, error) {
	c := s.Clone()
	c.Version = v
	for addr, e := range c.Entries {
		if e == nil {
			return nil, fmt.Errorf("entry %q is nil", addr)
		}
		e.CreatedAt = utc(e.CreatedAt)
		e.UploadedAt = utc(e.UploadedAt)
		e.VerifiedAt = utc(e.VerifiedAt)
		e.VerifyFailedAt = utc(e.VerifyFailedAt)
		e.Source.ModTime = utc(e.Source.ModTime)
		e.Source.Ctime = utc(e.Source.Ctime)
	}
	return c, nil
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Decode parses the file form written by Encode, upgrading older format
// versions. It refuses (with *CorruptError) input that does not parse, has
// fields it does not know, trailing data, or a checksum that does not match
// (an edit by hand, even one that only re-indents, counts as damage), and
// refuses (with ErrNewerFormat) a format from a newer fiosync.
func Decode(data []byte) (*state.State, error) {
	doc, err := decode(string(data), false)
	if err != nil {
		return nil, err
	}
	return &doc.State, nil
}

// DecodeString is Decode of a document held in a string, which the decoded state's strings
// share (a backend can read its file straight into one, saving a copy of the whole file); it
// also returns the document's verified checksum.
func DecodeString(data string) (*state.State, source.Digest, error) {
	doc, err := decode(data, false)
	if err != nil {
		return nil, source.Digest{}, err
	}
	return &doc.State, doc.Checksum, nil
}

// DecodeLent is DecodeString of a document only lent for the call: nothing of the decoded
// state refers to data once it returns, so data may be a mapped file about to be unmapped.
// What the state keeps (about a fifth of a large document: addresses, paths, ids) is copied.
func DecodeLent(data string) (*state.State, source.Digest, error) {
	doc, err := decode(data, true)
	if err != nil {
		return nil, source.Digest{}, err
	}
	return &doc.State, doc.Checksum, nil
}

// decode is Decode of a document held in a string, which the decoded strings share (File
// reads its file straight into one) unless it is lent (DecodeLent); it returns the document
// with its verified checksum.
func decode(data string, lent bool) (*document, error) {
	doc, checked, err := decodeDocument(data, lent)
	if err != nil || doc.Version != state.FormatVersion {
		// Either the file is damaged or it is another format version: find out
		// which version it claims before saying anything.
		v, verr := peekVersion([]byte(data))
		if verr != nil {
			return nil, verr
		}
		if v > state.FormatVersion {
			return nil, fmt.Errorf("%w (format %d, this fiosync reads up to %d); upgrade fiosync", ErrNewerFormat, v, state.FormatVersion)
		}
		if v != state.FormatVersion {
			up, uerr := upgrade([]byte(data), v)
			if uerr != nil {
				return nil, uerr
			}
			data = string(up)
			doc, checked, err = decodeDocument(data, false) // the upgrade's own copy
		}
		if err != nil {
			return nil, err
		}
	}
	if err := verifySum(data, doc.Checksum); err != nil {
		return nil, err
	}
	if err := validate(&doc.State, !checked); err != nil {
		return nil, corrupt("%v", err)
	}
	return doc, nil
}

// verifySum checks that data ends with the checksum member sum as Encode writes it, and that
// everything before it hashes to sum.
func verifySum(data string, sum source.Digest) error {
	if sum.IsZero() {
		return corrupt("no %q field", "checksum")
	}
	prefix, ok := strings.CutSuffix(data, string(checksumTail(sum)))
	if !ok {
		return corrupt("the checksum is not the last field, laid out as fiosync writes it (edited by hand?)")
	}
	if got := sumString(prefix); got != sum {
		return corrupt("checksum mismatch: the file says %s, its content hashes to %s (edited by hand or damaged)", sum, got)
	}
	return nil
}

// Checksummed reports whether data is the document whose checksum is sum: it ends with the
// checksum member as Encode writes it and everything before hashes to sum. It lets a backend
// recognise the file it last read or wrote without decoding it.
func Checksummed(data []byte, sum source.Digest) bool {
	prefix, ok := bytes.CutSuffix(data, checksumTail(sum))
	return ok && source.Digest(blake3.Sum256(prefix)) == sum
}

func sumString(s string) source.Digest {
	h := blake3.New()
	h.WriteString(s)
	var d source.Digest
	copy(d[:], h.Sum(nil))
	return d
}

// decodeDocument parses data strictly: unknown fields, duplicate names and
// trailing data are errors. The documents Encode writes go through decodeFast;
// whatever it is unsure of, through decodeJSON, which also words the errors.
// checked reports that decodeFast took it, which ran validEntry on each entry
// while it was at hand.
func decodeDocument(data string, lent bool) (doc *document, checked bool, err error) {
	if doc, ok := decodeFast(data, lent); ok {
		return doc, true, nil
	}
	doc, err = decodeJSON(data)
	return doc, false, err
}

// decodeJSON is decodeDocument through the encoding/json/v2 implementation (a
// mirror module until Go 1.27 ships it), which reads any RFC 8259 document.
func decodeJSON(data string) (*document, error) {
	var doc document
	if err := jsonv2.Unmarshal([]byte(data), &doc, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, corrupt("parse JSON: %s", describeJSONError(err))
	}
	return &doc, nil
}

// describeJSONError words a decoding error for people: where in the document it is
// (a JSON pointer such as /entries/~1A~1B.mov/source) and what is wrong, without
// the Go type names the decoder puts in its own messages.
func describeJSONError(err error) string {
	var sem *jsonv2.SemanticError
	if !errors.As(err, &sem) {
		return strings.TrimPrefix(err.Error(), "jsontext: ")
	}
	where := ""
	if parent := sem.JSONPointer.Parent(); parent != "" {
		where = fmt.Sprintf(" in %s", parent)
	}
	switch {
	case errors.Is(sem.Err, jsonv2.ErrUnknownName):
		return fmt.Sprintf("unknown field %q%s (written by something other than this fiosync?)", sem.JSONPointer.LastToken(), where)
	case sem.JSONPointer != "":
		msg := fmt.Sprintf("unexpected %s at %s", sem.JSONKind, sem.JSONPointer)
		if sem.Err != nil {
			msg += ": " + strings.TrimPrefix(sem.Err.Error(), "jsontext: ")
		}
		return msg
	default:
		return fmt.Sprintf("invalid JSON value at byte %d", sem.ByteOffset)
	}
}

// peekVersion reads only the format version of data.
func peekVersion(data []byte) (int, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return 0, corrupt("parse JSON: %v", err)
	}
	if head.Version == nil {
		return 0, corrupt("no %q field", "version")
	}
	return *head.Version, nil
}

func corrupt(format string, args ...any) error {
	return &CorruptError{Err: fmt.Errorf(format, args...)}
}

// upgraders turn the encoding of format version N into that of version N+1,
// checksum included. Each verifies its input by that version's rules first.
var upgraders = map[int]func(raw []byte) ([]byte, error){
	1: upgrade1,
	2: upgrade2,
}

// upgrade1 brings a format 1 document to format 2, which added the optional
// "manifest" member: a format 1 document is a format 2 one that does not
// record its manifest, so only the version and the checksum change. The next
// save records the manifest.
func upgrade1(raw []byte) ([]byte, error) {
	doc, err := decodeJSON(string(raw))
	if err != nil {
		return nil, err
	}
	if doc.Manifest != "" {
		return nil, corrupt("unknown field %q (format 1 has none)", "manifest")
	}
	if err := verifySum(string(raw), doc.Checksum); err != nil {
		return nil, err
	}
	data, _, err := encodeAs(&doc.State, 2)
	return data, err
}

// upgrade2 brings a format 2 document to format 3, which added the optional verify results
// of an entry ("verified_at" and the members beside it): a format 2 document is a format 3
// one in which nothing was verified, so only the version and the checksum change.
func upgrade2(raw []byte) ([]byte, error) {
	doc, err := decodeJSON(string(raw))
	if err != nil {
		return nil, err
	}
	for addr, e := range doc.Entries {
		if e != nil && (!e.VerifiedAt.IsZero() || e.VerifiedFileID != "" || e.VerifiedSize != 0 || !e.VerifiedHash.IsZero() || !e.VerifyFailedAt.IsZero()) {
			return nil, corrupt("entry %q: verify results in a format 2 state (format 2 has none)", addr)
		}
	}
	if err := verifySum(string(raw), doc.Checksum); err != nil {
		return nil, err
	}
	data, _, err := encodeAs(&doc.State, 3)
	return data, err
}

// upgrade brings raw from format version from up to FormatVersion.
func upgrade(raw []byte, from int) ([]byte, error) {
	if from < 1 {
		return nil, corrupt("unknown format version %d", from)
	}
	for v := from; v < state.FormatVersion; v++ {
		step, ok := upgraders[v]
		if !ok {
			return nil, corrupt("no upgrade from format version %d", v)
		}
		next, err := step(raw)
		if err != nil {
			return nil, fmt.Errorf("upgrade state from format %d: %w", v, err)
		}
		raw = next
	}
	return raw, nil
}

// validate checks what the JSON decoder cannot: required fields and enums, and each entry
// (validEntry) unless entries is false because the decoder checked them as it read them.
func validate(s *state.State, entries bool) error {
	if s.Lineage == "" {
		return fmt.Errorf("no lineage")
	}
	if s.Folders == nil {
		s.Folders = map[string]string{}
	}
	if s.Entries == nil {
		s.Entries = map[string]*state.Entry{}
	}
	if !entries {
		return nil
	}
	for addr, e := range s.Entries {
		if err := validEntry(addr, e); err != nil {
			return err
		}
	}
	return nil
}

// validEntry checks the values of one entry that its JSON type does not constrain.
func validEntry(addr string, e *state.Entry) error {
	if e == nil {
		return fmt.Errorf("entry %q is null", addr)
	}
	switch e.Status {
	case state.StatusPending, state.StatusComplete:
	default:
		return fmt.Errorf("entry %q: unknown status %q", addr, e.Status)
	}
	switch e.Source.Kind {
	case source.Local, source.Remote:
	default:
		return fmt.Errorf("entry %q: unknown source kind %q", addr, e.Source.Kind)
	}
	if f := e.Followup; f != nil {
		if f.Step != state.StepStack && f.Step != state.StepDelete && f.Step != state.StepMove {
			return fmt.Errorf("entry %q: unknown followup step %q", addr, f.Step)
		}
		if f.FileID == "" {
			return fmt.Errorf("entry %q: followup names no file", addr)
		}
	}
	return nil
}

// EntryJSON returns the entry of s at address as an indented JSON object with the address
// as its first field and the entry's fields as in the state file, for `fiosync state show
// --json`. It returns an error matching state.state.ErrNoEntry when there is none.
func EntryJSON(s *state.State, address string) ([]byte, error) {
	e, ok := s.Entries[address]
	if !ok || e == nil {
		return nil, fmt.Errorf("describe %q: %w", address, state.ErrNoEntry)
	}
	c, err := normalize(&state.State{Entries: map[string]*state.Entry{address: e}}, state.FormatVersion)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(struct {
		Address string `json:"address"`
		*state.Entry
	}{address, c.Entries[address]}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("describe %q: %w", address, err)
	}
	return append(out, '\n'), nil
}
