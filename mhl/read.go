package mhl

import (
	"crypto/sha512"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The names and namespaces of ASC MHL v2.0.
const (
	// Dir is the history folder's name inside its root.
	Dir = "ascmhl"
	// ChainFile is the chain's name inside Dir.
	ChainFile      = "ascmhl_chain.xml"
	namespace      = "urn:ASC:MHL:v2.0"
	chainNamespace = "urn:ASC:MHL:DIRECTORY:v2.0"
)

// Limits on what a history may hold, so a hostile or broken one costs bounded memory.
const (
	maxChainBytes      = 16 << 20 // a chain entry is ~200 bytes: 80,000 generations
	maxManifestBytes   = 2 << 30  // ~300 bytes a file: millions of files
	maxGenerations     = 10000
	maxRecords         = 10_000_000
	maxPathBytes       = 4096
	maxElementTextSize = 64 << 10
)

// generationName is the reference reader's pattern for a generation file's name, without
// ".mhl": a number of four or more digits, then optionally "_" and anything.
var generationName = regexp.MustCompile(`^(\d{4,})(?:_(.+))?$`)

// Action says how a hash in a generation came about.
type Action string

// The actions of ASC MHL.
const (
	Original Action = "original" // the file's first hash in the history
	Verified Action = "verified" // computed again and matched an earlier record
	Failed   Action = "failed"   // computed again and did not match
)

// Generation is one manifest of a history, as its chain lists it.
type Generation struct {
	Number  int    // the chain's sequencenr, from 1
	Name    string // file name inside the ascmhl folder
	C4      string // the C4 of its bytes, as the chain records and as checked
	Process string // in-place, transfer or flatten
	Created time.Time
}

// Record is what a history says about one file: the earliest hash in each format that a
// generation recorded as original or verified (failed hashes never vouch for content), and the
// size and modification date from the generation of the first of them.
type Record struct {
	Path    string            // relative to the history root, '/'-separated
	Size    int64             // -1 when not recorded
	ModTime time.Time         // zero when not recorded
	Hashes  map[Format]string // canonical text by format
	From    string            // the generation file (name inside ascmhl/) of Size and ModTime
}

// History is a loaded, checked ascmhl folder.
type History struct {
	Root        string // the folder the history describes (holding ascmhl/)
	Generations []Generation
	records     map[string]*Record
}

// Lookup returns the record of rel, a '/'-separated path relative to h.Root.
func (h *History) Lookup(rel string) (Record, bool) {
	r, ok := h.records[rel]
	if !ok {
		return Record{}, false
	}
	return *r, true
}

// Records returns every file record, sorted by path.
func (h *History) Records() []Record {
	out := make([]Record, 0, len(h.records))
	for _, r := range h.records {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Exists reports whether root holds an ascmhl folder.
func Exists(root string) bool {
	fi, err := os.Stat(filepath.Join(root, Dir))
	return err == nil && fi.IsDir()
}

// A TamperedError says a history's files do not match its chain: a generation changed,
// missing or not in the chain. The history must not be trusted.
type TamperedError struct {
	File   string // the generation file (or chain) concerned
	Reason string
}

func (e *TamperedError) Error() string {
	return fmt.Sprintf("ASC MHL history %s: %s", e.File, e.Reason)
}

// Load reads and checks the history of root (root/ascmhl): the chain, the C4 of every
// generation against it, and every generation. Files of nested histories are not part of it:
// load those from their own roots.
func Load(root string) (*History, error) {
	dir := filepath.Join(root, Dir)
	chainPath := filepath.Join(dir, ChainFile)
	chain, err := readChain(chainPath)
	if err != nil {
		return nil, err
	}
	// Every generation file in the folder must be in the chain, and the other way round.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read ASC MHL history: %w", err)
	}
	inChain := map[string]bool{}
	for _, g := range chain {
		inChain[g.Name] = true
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "._") || !strings.HasSuffix(name, ".mhl") {
			continue
		}
		if generationName.MatchString(strings.TrimSuffix(name, ".mhl")) && !inChain[name] {
			return nil, &TamperedError{File: filepath.Join(dir, name), Reason: "generation is not in " + ChainFile}
		}
	}
	h := &History{Root: root, records: map[string]*Record{}}
	for _, g := range chain {
		gen, err := h.readGeneration(dir, g)
		if err != nil {
			return nil, err
		}
		h.Generations = append(h.Generations, gen)
	}
	return h, nil
}

// chainXML is ascmhl_chain.xml.
type chainXML struct {
	XMLName  xml.Name `xml:"urn:ASC:MHL:DIRECTORY:v2.0 ascmhldirectory"`
	Hashlist []struct {
		Sequence string `xml:"sequencenr,attr"`
		Path     string `xml:"path"`
		C4       string `xml:"c4"`
	} `xml:"hashlist"`
}

// readChain parses the chain file and checks its shape: numbers 1..n in order, plain file
// names (never a path out of the folder), well-formed C4s.
func readChain(file string) ([]Generation, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &TamperedError{File: file, Reason: "missing: an ascmhl folder without its chain cannot be checked"}
	}
	if err != nil {
		return nil, fmt.Errorf("read ASC MHL chain: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChainBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read ASC MHL chain %s: %w", file, err)
	}
	if len(data) > maxChainBytes {
		return nil, fmt.Errorf("ASC MHL chain %s: larger than %d MiB", file, maxChainBytes>>20)
	}
	var c chainXML
	if err := xml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("ASC MHL chain %s: %w", file, err)
	}
	if len(c.Hashlist) > maxGenerations {
		return nil, fmt.Errorf("ASC MHL chain %s: more than %d generations", file, maxGenerations)
	}
	var out []Generation
	for i, hl := range c.Hashlist {
		where := fmt.Sprintf("ASC MHL chain %s: hashlist %d", file, i+1)
		n, err := strconv.Atoi(strings.TrimSpace(hl.Sequence))
		if err != nil || n != i+1 {
			return nil, fmt.Errorf("%s: sequencenr %q, want %d (numbers start at 1, in order, without gaps)", where, clip(hl.Sequence), i+1)
		}
		name := strings.TrimSpace(hl.Path)
		if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.ContainsRune(name, 0) {
			return nil, fmt.Errorf("%s: <path> %q: want a generation file name in the ascmhl folder", where, clip(name))
		}
		c4, err := normalize(C4, hl.C4)
		if err != nil {
			return nil, fmt.Errorf("%s: <c4>: %w", where, err)
		}
		out = append(out, Generation{Number: n, Name: name, C4: c4})
	}
	return out, nil
}

// manifestXML elements decoded whole; hashes are streamed one by one.
type creatorXML struct {
	CreationDate string `xml:"creationdate"`
	Hostname     string `xml:"hostname"`
}

type processXML struct {
	Process string `xml:"process"`
}

type hashValueXML struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
	Action  string `xml:"action,attr"`
}

type hashXML struct {
	Path struct {
		Value   string `xml:",chardata"`
		Size    string `xml:"size,attr"`
		ModDate string `xml:"lastmodificationdate,attr"`
	} `xml:"path"`
	Values       []hashValueXML `xml:",any"`
	PreviousPath string         `xml:"previousPath"`
}

// readGeneration parses one generation, checks its C4 against the chain entry g and merges
// its file hashes into h.
func (h *History) readGeneration(dir string, g Generation) (Generation, error) {
	file := filepath.Join(dir, g.Name)
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return g, &TamperedError{File: file, Reason: fmt.Sprintf("generation %d is in the chain but missing", g.Number)}
	}
	if err != nil {
		return g, fmt.Errorf("read ASC MHL generation: %w", err)
	}
	defer f.Close()
	sum := sha512.New()
	lim := &io.LimitedReader{R: f, N: maxManifestBytes + 1}
	dec := xml.NewDecoder(io.TeeReader(lim, sum))
	gen, err := h.decodeGeneration(dec, file, g)
	if err == nil {
		// Read to the end, so the C4 covers every byte.
		_, err = io.Copy(io.Discard, io.TeeReader(lim, sum))
	}
	if lim.N <= 0 {
		return g, fmt.Errorf("ASC MHL generation %s: larger than %d GiB", file, maxManifestBytes>>30)
	}
	if got := c4String(sum.Sum(nil)); err == nil && got != g.C4 {
		return g, &TamperedError{File: file, Reason: fmt.Sprintf("C4 %s, but the chain records %s: the generation was changed after it was written", got, g.C4)}
	}
	if err != nil {
		return g, err
	}
	return gen, nil
}

// decodeGeneration walks the manifest's tokens: the root, creatorinfo, processinfo, and each
// hash of hashes; directory hashes, metadata and references are skipped.
func (h *History) decodeGeneration(dec *xml.Decoder, file string, g Generation) (Generation, error) {
	pos := func() string {
		line, col := dec.InputPos()
		return fmt.Sprintf("%s:%d:%d", file, line, col)
	}
	var depth int
	var inHashes bool
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return g, fmt.Errorf("ASC MHL generation %s: %w", pos(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Space != namespace || t.Name.Local != "hashlist" {
					return g, fmt.Errorf("ASC MHL generation %s: root <%s> in %q, want <hashlist> in %q", pos(), t.Name.Local, t.Name.Space, namespace)
				}
				if v := attr(t, "version"); v != "2.0" {
					return g, fmt.Errorf("ASC MHL generation %s: <hashlist version=%q>, want \"2.0\"", pos(), clip(v))
				}
			case depth == 2 && t.Name.Local == "creatorinfo":
				var c creatorXML
				p := pos()
				if err := dec.DecodeElement(&c, &t); err != nil {
					return g, fmt.Errorf("ASC MHL generation %s: <creatorinfo>: %w", p, err)
				}
				depth--
				if ts, err := parseDate(c.CreationDate); err == nil {
					g.Created = ts
				}
			case depth == 2 && t.Name.Local == "processinfo":
				var pi processXML
				p := pos()
				if err := dec.DecodeElement(&pi, &t); err != nil {
					return g, fmt.Errorf("ASC MHL generation %s: <processinfo>: %w", p, err)
				}
				depth--
				g.Process = strings.TrimSpace(pi.Process)
			case depth == 2 && t.Name.Local == "hashes":
				inHashes = true
			case depth == 3 && inHashes && t.Name.Local == "hash":
				p := pos()
				var hx hashXML
				if err := dec.DecodeElement(&hx, &t); err != nil {
					return g, fmt.Errorf("ASC MHL generation %s: <hash>: %w", p, err)
				}
				depth--
				if err := h.merge(hx, g, p, seen); err != nil {
					return g, err
				}
			default:
				if depth >= 2 && !(depth == 2 && inHashes) {
					if err := dec.Skip(); err != nil {
						return g, fmt.Errorf("ASC MHL generation %s: %w", pos(), err)
					}
					depth--
				}
			}
		case xml.EndElement:
			depth--
			if depth == 1 {
				inHashes = false
			}
		case xml.CharData:
			if len(t) > maxElementTextSize {
				return g, fmt.Errorf("ASC MHL generation %s: text longer than %d KiB", pos(), maxElementTextSize>>10)
			}
		}
	}
	return g, nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// merge adds one hash element of generation g (at pos) to h.
func (h *History) merge(hx hashXML, g Generation, pos string, seen map[string]bool) error {
	p, err := CleanPath(hx.Path.Value)
	if err != nil {
		return fmt.Errorf("ASC MHL generation %s: <hash><path>: %w", pos, err)
	}
	if seen[p] {
		return fmt.Errorf("ASC MHL generation %s: <hash><path> %q: recorded twice in one generation", pos, p)
	}
	seen[p] = true
	rec := h.records[p]
	if prev := strings.TrimSpace(hx.PreviousPath); prev != "" && rec == nil {
		// A rename: the older records of the old path are this path's.
		old, err := CleanPath(prev)
		if err != nil {
			return fmt.Errorf("ASC MHL generation %s: <hash><previousPath>: %w", pos, err)
		}
		if r := h.records[old]; r != nil {
			delete(h.records, old)
			r.Path = p
			rec = r
			h.records[p] = r
		}
	}
	if rec == nil {
		if len(h.records) >= maxRecords {
			return fmt.Errorf("ASC MHL generation %s: more than %d files", pos, maxRecords)
		}
		rec = &Record{Path: p, Size: -1, Hashes: map[Format]string{}}
		h.records[p] = rec
	}
	vouched := false
	for _, v := range hx.Values {
		f, err := ParseFormat(v.XMLName.Local)
		if err != nil {
			continue // previousPath, metadata and unknown elements
		}
		value, err := normalize(f, v.Value)
		if err != nil {
			return fmt.Errorf("ASC MHL generation %s: <hash><%s> of %q: %w", pos, f, p, err)
		}
		switch Action(strings.TrimSpace(v.Action)) {
		case Original, Verified, "":
		case Failed:
			continue
		default:
			return fmt.Errorf("ASC MHL generation %s: <%s action=%q> of %q: want original, verified or failed", pos, f, clip(v.Action), p)
		}
		if _, ok := rec.Hashes[f]; !ok {
			rec.Hashes[f] = value
			vouched = true
		}
	}
	if vouched && rec.From == "" {
		rec.From = g.Name
		if s := strings.TrimSpace(hx.Path.Size); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("ASC MHL generation %s: <path size=%q> of %q: want a byte count", pos, clip(s), p)
			}
			rec.Size = n
		}
		if s := strings.TrimSpace(hx.Path.ModDate); s != "" {
			t, err := parseDate(s)
			if err != nil {
				return fmt.Errorf("ASC MHL generation %s: <path lastmodificationdate=%q> of %q: %w", pos, clip(s), p, err)
			}
			rec.ModTime = t
		}
	}
	return nil
}

// CleanPath checks p, a path from a manifest, and returns it in canonical form: relative,
// '/'-separated, no "." or ".." segments, no empty segment. Backslashes are refused rather
// than guessed at.
func CleanPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return "", errors.New("empty path")
	case len(p) > maxPathBytes:
		return "", fmt.Errorf("path %q: longer than %d bytes", clip(p), maxPathBytes)
	case strings.ContainsRune(p, 0):
		return "", fmt.Errorf("path %q: contains a NUL byte", clip(p))
	case strings.HasPrefix(p, "/") || filepath.IsAbs(p) || (len(p) > 1 && p[1] == ':'):
		return "", fmt.Errorf("path %q: absolute; ASC MHL paths are relative to the history's root", clip(p))
	case strings.Contains(p, `\`):
		return "", fmt.Errorf("path %q: contains a backslash; ASC MHL paths use '/'", clip(p))
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "..":
			return "", fmt.Errorf("path %q: leaves the history's root (..)", clip(p))
		case ".", "":
			return "", fmt.Errorf("path %q: not in canonical form (empty or '.' segment)", clip(p))
		}
	}
	return path.Clean(p), nil
}

// parseDate accepts xs:dateTime as ASC MHL writers use it: RFC 3339 with an optional
// fraction, and a time zone of Z or ±hh:mm. A date without a zone is read as UTC.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want xs:dateTime, e.g. 2020-01-16T09:15:00+00:00", clip(s))
}
