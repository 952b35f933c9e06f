package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/internal/atomicfile"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
)

// ErrStale is wrapped by the error CheckStale returns when a saved plan no longer fits the
// state or the sources it was made from.
var ErrStale = errors.New("plan is stale")

// document is the on-disk form of a plan file. Field names are part of the format: change
// them only with a new FormatVersion.
type document struct {
	FormatVersion string            `json:"format_version"`
	Manifest      string            `json:"manifest"`
	Lineage       string            `json:"lineage"`
	Serial        uint64            `json:"serial"`
	Target        state.Target      `json:"target"`
	Refreshed     bool              `json:"refreshed"`
	Folders       map[string]string `json:"folders"`
	Unchanged     int               `json:"unchanged"`
	Untracked     []string          `json:"untracked"`
	Deleted       []string          `json:"deleted_on_disk"`
	Select        Selection         `json:"select"`
	Excluded      []string          `json:"excluded"`
	Policy        []PolicyExclusion `json:"policy_excluded"`
	Waiting       []Waiting         `json:"waiting"`
	Restat        []Restat          `json:"restat"`
	Moves         Moves             `json:"moves"`
	Emptied       []string          `json:"emptied"`
	Warnings      []string          `json:"warnings"`
	Changes       []fileChange      `json:"changes"`
	// Entries is Plan.Entries, with null for no entry.
	Entries map[string]*source.Digest `json:"entries"`
}

// fileChange is Change with the plan file's field names; a field added to Change must be
// added here too, or the conversions between them stop compiling.
type fileChange struct {
	Address  string            `json:"address"`
	Action   Action            `json:"action"`
	Kind     source.Kind       `json:"kind"`
	Folder   string            `json:"folder"`
	Name     string            `json:"name"`
	Size     int64             `json:"size"`
	Reason   string            `json:"reason"`
	OnChange manifest.OnChange `json:"on_change,omitempty"`
	Priority int               `json:"priority,omitempty"`
	Source   source.Identity   `json:"source"`
	From     string            `json:"from,omitempty"`
	Prior    *state.Entry      `json:"prior,omitempty"`
	Existing *RemoteFile       `json:"existing,omitempty"`
	MHL      string            `json:"-"` // plan output only: apply checks the histories again
	Conflict *RemoteFile       `json:"conflict,omitempty"`
}

// Encode returns the plan file form of p: indented JSON with a trailing newline. Remote
// sources keep only the URL without its query (which may hold a signature) and the hash of
// the whole URL; apply takes the URL itself from the manifest and checks it against the hash.
func Encode(p *Plan) ([]byte, error) {
	doc := document{
		FormatVersion: FileFormatVersion,
		Manifest:      p.Manifest,
		Lineage:       p.Lineage,
		Serial:        p.Serial,
		Target:        p.Target,
		Refreshed:     p.Refreshed,
		Folders:       nonNilMap(p.Folders),
		Unchanged:     p.Unchanged,
		Untracked:     nonNil(p.Untracked),
		Deleted:       nonNil(p.Deleted),
		Select:        nonNilSelection(p.Select),
		Excluded:      nonNil(p.Excluded),
		Policy:        nonNil(p.PolicyExcluded),
		Waiting:       nonNil(p.Waiting),
		Restat:        nonNil(p.Restat),
		Moves:         p.Moves,
		Emptied:       nonNil(p.Emptied),
		Warnings:      nonNil(p.Warnings),
		Changes:       make([]fileChange, 0, len(p.Changes)),
		Entries:       make(map[string]*source.Digest, len(p.Entries)),
	}
	for addr := range touched(p) {
		if _, ok := p.Entries[addr]; !ok {
			return nil, fmt.Errorf("encode plan: no state entry recorded for %q, which the plan changes", addr)
		}
	}
	for addr, d := range p.Entries {
		if !d.IsZero() {
			doc.Entries[addr] = &d
		} else {
			doc.Entries[addr] = nil
		}
	}
	for _, c := range p.Changes {
		fc := fileChange(c)
		fc.Source = redactSource(c.Source)
		if c.Prior != nil {
			fc.Prior = c.Prior.Clone()
			fc.Prior.Source = redactSource(fc.Prior.Source)
		}
		doc.Changes = append(doc.Changes, fc)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	// data ends with "\n}": the checksum of everything before goes in as the last member.
	body := data[:len(data)-len("\n}")]
	return append(body, checksumTail(source.Digest(blake3.Sum256(body)))...), nil
}

// checksumTail is what follows the checksummed part of a plan file, as the state file has it.
func checksumTail(sum source.Digest) []byte {
	return []byte(",\n  \"checksum\": \"" + sum.String() + "\"\n}\n")
}

// verifyChecksum checks the checksum member a plan file ends with and returns the file
// without it. It catches a damaged or hand-edited file; it is no defence against a forged one,
// which apply refuses by re-deriving the plan (Verify).
func verifyChecksum(data []byte) ([]byte, error) {
	const member = ",\n  \"checksum\": \""
	i := bytes.LastIndex(data, []byte(member))
	if i < 0 {
		return nil, errors.New("no checksum; make the plan again with this fiosync")
	}
	sum, err := source.ParseDigest(strings.TrimSuffix(string(data[i+len(member):]), "\"\n}\n"))
	if err != nil || !bytes.Equal(data[i:], checksumTail(sum)) {
		return nil, errors.New("the checksum is not the last field, laid out as fiosync writes it (edited by hand?)")
	}
	if got := source.Digest(blake3.Sum256(data[:i])); got != sum {
		return nil, fmt.Errorf("checksum mismatch: the file says %s, its content hashes to %s (edited or damaged)", sum, got)
	}
	return append(bytes.Clone(data[:i]), "\n}\n"...), nil
}

// Decode parses a plan file written by Encode. It refuses unknown fields and other format
// versions, since a plan is only safe to apply when every field is understood.
func Decode(data []byte) (*Plan, error) {
	var probe struct {
		FormatVersion string `json:"format_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&probe); err != nil {
		return nil, fmt.Errorf("decode plan: not a fiosync plan file: %w", err)
	}
	if probe.FormatVersion != FileFormatVersion {
		return nil, fmt.Errorf("decode plan: format version %q is not %q; make the plan again with this fiosync", probe.FormatVersion, FileFormatVersion)
	}
	data, err := verifyChecksum(data)
	if err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc document
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode plan: unexpected data after the plan")
	}
	p := &Plan{
		Manifest:  doc.Manifest,
		Lineage:   doc.Lineage,
		Serial:    doc.Serial,
		Target:    doc.Target,
		Refreshed: doc.Refreshed,
		Folders:   nonNilMap(doc.Folders),
		Unchanged: doc.Unchanged,
		Untracked: nonNil(doc.Untracked),
		Deleted:   nonNil(doc.Deleted),
		Warnings:  nonNil(doc.Warnings),
		Moves:     doc.Moves,
	}
	if len(doc.Emptied) > 0 {
		p.Emptied = doc.Emptied
	}
	if len(doc.Select.Targets) > 0 {
		p.Select.Targets = doc.Select.Targets
	}
	if len(doc.Select.Excludes) > 0 {
		p.Select.Excludes = doc.Select.Excludes
	}
	if len(doc.Select.Replaces) > 0 {
		p.Select.Replaces = doc.Select.Replaces
	}
	if err := p.Select.Check(); err != nil {
		return nil, fmt.Errorf("decode plan: select: %w", err)
	}
	if len(doc.Excluded) > 0 {
		p.Excluded = doc.Excluded
	}
	if len(doc.Policy) > 0 {
		p.PolicyExcluded = doc.Policy
	}
	if len(doc.Waiting) > 0 {
		p.Waiting = doc.Waiting
	}
	if len(doc.Restat) > 0 {
		p.Restat = doc.Restat
	}
	for i, fc := range doc.Changes {
		if err := validChange(fc); err != nil {
			return nil, fmt.Errorf("decode plan: changes[%d]: %w", i, err)
		}
		if i > 0 && doc.Changes[i-1].Address >= fc.Address {
			return nil, fmt.Errorf("decode plan: changes[%d]: %q is out of order", i, fc.Address)
		}
		// Redact on the way in as on the way out: a plan file written by something else
		// (or edited) never brings a URL's query into output, and decoding is stable.
		fc.Source = redactSource(fc.Source)
		if fc.Prior != nil {
			prior := fc.Prior.Clone()
			prior.Source = redactSource(prior.Source)
			fc.Prior = prior
		}
		p.Changes = append(p.Changes, Change(fc))
	}
	if err := p.decodeEntries(doc.Entries); err != nil {
		return nil, fmt.Errorf("decode plan: entries: %w", err)
	}
	return p, nil
}

// decodeEntries sets p.Entries from a plan file's entries, which must name exactly the
// addresses p writes: one left out would escape CheckStale.
func (p *Plan) decodeEntries(entries map[string]*source.Digest) error {
	p.Entries = make(map[string]source.Digest, len(entries))
	for addr := range touched(p) {
		d, ok := entries[addr]
		if !ok {
			return fmt.Errorf("no entry recorded for %q, which the plan changes", addr)
		}
		if d != nil {
			if d.IsZero() {
				return fmt.Errorf("%q: a zero digest; no entry is written null", addr)
			}
			p.Entries[addr] = *d
		} else {
			p.Entries[addr] = source.Digest{}
		}
	}
	if len(p.Entries) != len(entries) {
		for addr := range entries {
			if _, ok := p.Entries[addr]; !ok {
				return fmt.Errorf("an entry recorded for %q, which the plan does not change", addr)
			}
		}
	}
	return nil
}

func validChange(fc fileChange) error {
	switch fc.Action {
	case Create, Update, Delete, Adopt, Finish, Move:
	default:
		return fmt.Errorf("unknown action %q", fc.Action)
	}
	switch fc.Kind {
	case source.Local, source.Remote:
	default:
		return fmt.Errorf("unknown kind %q", fc.Kind)
	}
	if folder, name := splitAddress(fc.Address); !strings.HasPrefix(fc.Address, "/") || folder != fc.Folder || name != fc.Name {
		return fmt.Errorf("address %q does not match folder %q and name %q", fc.Address, fc.Folder, fc.Name)
	}
	switch {
	case fc.Action == Adopt && (fc.Existing == nil || fc.Existing.ID == ""):
		return fmt.Errorf("adopt of %q names no Frame.io file", fc.Address)
	case fc.Action == Adopt && fc.Prior != nil:
		return fmt.Errorf("adopt of %q has a prior entry; only untracked addresses are adopted", fc.Address)
	case fc.Action != Create && fc.Action != Move && fc.Conflict != nil:
		return fmt.Errorf("%s of %q names a conflicting file; only creates and moves do", fc.Action, fc.Address)
	case fc.Action != Adopt && fc.Existing != nil:
		return fmt.Errorf("%s of %q names an existing file; only adopts do", fc.Action, fc.Address)
	case fc.Action != Create && fc.Action != Adopt && fc.Prior == nil:
		return fmt.Errorf("%s of %q has no prior entry", fc.Action, fc.Address)
	case fc.Action == Finish && fc.Prior.Followup == nil:
		return fmt.Errorf("finish of %q has nothing to finish", fc.Address)
	case fc.Action == Move && (fc.Kind != source.Local || !strings.HasPrefix(fc.From, "/") || fc.From == fc.Address):
		return fmt.Errorf("move to %q names no other address to move from", fc.Address)
	case fc.Action != Move && fc.From != "":
		return fmt.Errorf("%s of %q names an address to move from; only moves do", fc.Action, fc.Address)
	}
	return nil
}

// WriteFile saves p as a plan file at path, replacing it atomically.
func WriteFile(path string, p *Plan) error {
	data, err := Encode(p)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("write plan %q: %w", path, err)
	}
	return nil
}

// ReadFile reads a plan file written by WriteFile.
func ReadFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("read plan %q: %w", path, err)
	}
	return p, nil
}

// CheckStale returns an error wrapping ErrStale when p no longer fits what it was made from:
// the state's lineage changed, the state's entry at an address the plan writes is not the one
// recorded (p.Entries: one appeared, vanished or changed since), a local source's size or
// mtime differs (and, when the plan recorded the file's hash, its content too), a remote
// source's URL changed, a file to upload or adopt left the manifest or a file to delete came
// back. An adopt is checked like an upload: the local file it hashes must still have the size
// the match was made on. Entries of addresses the plan does not write, and so the serial, may
// have changed: another apply (or another runner) delivered other files meanwhile. st is the
// state loaded now (nil for none yet) and files the manifest expanded now.
func CheckStale(p *Plan, st *state.State, files []manifest.Desired) error {
	if st == nil {
		st = &state.State{}
	}
	// A state that was never saved (serial 0) may have a throwaway lineage, a plan made from
	// none certainly has.
	if !(p.Serial == 0 && st.Serial == 0) && p.Lineage != st.Lineage {
		if p.Serial == 0 {
			return fmt.Errorf("%w: it was made before any state existed, and an apply has written one since (serial %d); run fiosync plan again", ErrStale, st.Serial)
		}
		return fmt.Errorf("%w: it was made for state lineage %s, but the state now has lineage %s; run fiosync plan again", ErrStale, p.Lineage, st.Lineage)
	}
	var problems []string
	for addr := range touched(p) {
		if why, err := entryChange(p.Entries[addr], st.Entries[addr]); err != nil || why != "" {
			if err != nil {
				why = err.Error()
			}
			problems = append(problems, fmt.Sprintf("%s changed in the state since the plan was made (%s)", addr, why))
		}
	}
	byAddr := make(map[string]*manifest.Desired, len(files))
	for i := range files {
		byAddr[files[i].Address] = &files[i]
	}
	for _, c := range p.Changes {
		d := byAddr[c.Address]
		switch {
		case c.Action == Delete && d != nil:
			problems = append(problems, c.Address+" is in the manifest again")
		case c.Action == Delete:
		case c.Action == Move && byAddr[c.From] != nil:
			problems = append(problems, c.From+", which the plan moves away, is in the manifest again")
		case d == nil:
			problems = append(problems, c.Address+" is no longer in the manifest")
		default:
			if why := sourceChange(c, *d); why != "" {
				problems = append(problems, fmt.Sprintf("%s changed since the plan was made (%s)", c.Address, why))
			}
		}
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s; run fiosync plan again", ErrStale, problems[0])
	}
	const maxListed = 10
	var b strings.Builder
	fmt.Fprintf(&b, "%d differences from the plan:", len(problems))
	for i, msg := range problems {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(problems)-maxListed)
			break
		}
		b.WriteString("\n  " + msg)
	}
	b.WriteString("\nrun fiosync plan again")
	return fmt.Errorf("%w: %s", ErrStale, b.String())
}

// entryChange describes how now, the state's entry at an address, differs from the one whose
// digest a plan recorded (zero: none), or returns "".
func entryChange(was source.Digest, now *state.Entry) (string, error) {
	d, err := statefile.EntryDigest(now)
	switch {
	case err != nil:
		return "", err
	case d == was:
		return "", nil
	case was.IsZero():
		return "a file is recorded there now", nil
	case now == nil:
		return "its entry was removed", nil
	}
	return "its entry is another now", nil
}

// sourceChange describes how d differs from the source c recorded, or returns "".
func sourceChange(c Change, d manifest.Desired) string {
	if (d.Source.Kind == source.Remote) != (c.Kind == source.Remote) {
		return "its source kind changed"
	}
	if c.Kind == source.Remote {
		if source.HashURL(d.URL) != c.Source.URLHash {
			return "source URL changed"
		}
		return ""
	}
	now, was := d.Source, c.Source
	switch {
	case now.Path != was.Path || now.Size != was.Size:
		return source.DescribeChange(was, now)
	case source.Unchanged(was, now):
		return ""
	case was.Hash.IsZero():
		// Nothing to compare the content with: the stat is all the plan knew.
		return source.DescribeChange(was, now)
	}
	sum, _, err := source.HashFile(d.Path)
	switch {
	case err != nil:
		return fmt.Sprintf("cannot read it: %v", err)
	case sum != was.Hash:
		return "content changed"
	}
	return ""
}

// redactSource drops anything a URL may carry besides its scheme, host and path.
func redactSource(s source.Identity) source.Identity {
	if s.URL != "" {
		s.URL = source.StripQuery(s.URL)
	}
	return s
}

// restats returns r for the plan file, never nil, so the member is always written.
// nonNil is s, or an empty slice for nil: lists are written as [], never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
