package mhl

import (
	"bytes"
	"crypto/sha512"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Creator says who wrote a generation (the XSD's creatorinfo). Tool is required; Hostname
// defaults to os.Hostname.
type Creator struct {
	Tool        string
	ToolVersion string
	Hostname    string
	Authors     []Author
	Location    string
	Comment     string // e.g. what was transferred from where: manifests hold relative paths only
}

// Author is a person responsible for a generation. Email, when set, must look like one (the
// XSD's pattern).
type Author struct {
	Name, Email, Phone, Role string
}

// FileHashes is one file of a transfer: its path relative to the history root, its size and
// modification time, and the hashes computed from its bytes.
type FileHashes struct {
	Path     string
	Size     int64
	ModTime  time.Time // zero: not recorded
	Hashes   map[Format]string
	HashDate time.Time // zero: the transfer's Time
}

// Transfer is a generation to append with WriteTransfer.
type Transfer struct {
	Creator Creator
	Time    time.Time // when the operation started: names the file and dates it
	Files   []FileHashes
}

// Written says what WriteTransfer wrote.
type Written struct {
	Generation int      // its number
	Path       string   // the generation file
	C4         string   // the C4 of its bytes, as the chain records it
	Failed     []string // paths whose hash did not match the history's earlier record
}

// emailPattern is the XSD's EmailAddressAttributeType.
var emailPattern = regexp.MustCompile(`^[^@]+@[^.]+\..+$`)

// defaultIgnore is what every ASC MHL generation ignores.
var defaultIgnore = []string{".DS_Store", Dir, Dir + "/"}

// WriteTransfer appends a generation with process "transfer" to the history of dir
// (dir/ascmhl, created when missing) and adds it to the chain. The history already there is
// loaded and checked first; a tampered one is refused. Existing generations are never
// rewritten: the new one is numbered after the highest present and created exclusively.
//
// Each hash's action follows the history: "original" for a file or format it has no record
// of, "verified" when the earliest record in that format matches, "failed" when it does not
// (those paths are returned in Written.Failed; the generation is written anyway, as ASC MHL
// wants every check recorded). A format new to a file whose other formats failed is not
// recorded, and one new to a file that has records is "verified" only once another matched.
func WriteTransfer(dir string, t Transfer) (Written, error) {
	var w Written
	if strings.TrimSpace(t.Creator.Tool) == "" {
		return w, errors.New("write ASC MHL generation: Creator.Tool is required")
	}
	for _, a := range t.Creator.Authors {
		if a.Email != "" && !emailPattern.MatchString(a.Email) {
			return w, fmt.Errorf("write ASC MHL generation: author email %q is not an e-mail address", a.Email)
		}
	}
	if len(t.Files) == 0 {
		return w, errors.New("write ASC MHL generation: no files")
	}
	if t.Time.IsZero() {
		t.Time = time.Now()
	}
	if t.Creator.Hostname == "" {
		t.Creator.Hostname, _ = os.Hostname()
		if t.Creator.Hostname == "" {
			t.Creator.Hostname = "unknown"
		}
	}
	hdir := filepath.Join(dir, Dir)
	if err := os.MkdirAll(hdir, 0o755); err != nil {
		return w, fmt.Errorf("write ASC MHL generation: %w", err)
	}
	// One writer at a time: the chain is read, extended and replaced whole.
	unlock, err := lockHistory(hdir)
	if err != nil {
		return w, err
	}
	defer unlock()
	var prior *History
	if !emptyHistory(hdir) {
		h, err := Load(dir)
		if err != nil {
			return w, fmt.Errorf("write ASC MHL generation: %w", err)
		}
		prior = h
	}

	body, failed, err := renderTransfer(t, prior)
	if err != nil {
		return w, err
	}
	number := 1
	if prior != nil {
		number = len(prior.Generations) + 1
	}
	if n := highestGeneration(hdir); n >= number {
		number = n + 1 // a file the chain does not list (never reached here: Load refuses it)
	}
	base := filepath.Base(filepath.Clean(dir))
	name := fmt.Sprintf("%04d_%s_%s.mhl", number, base, t.Time.UTC().Format("2006-01-02_150405Z"))
	file := filepath.Join(hdir, name)
	if err := writeExclusive(file, body); err != nil {
		return w, fmt.Errorf("write ASC MHL generation %s: %w", file, err)
	}
	sum := sha512.Sum512(body)
	c4 := c4String(sum[:])
	gens := []Generation{}
	if prior != nil {
		gens = append(gens, prior.Generations...)
	}
	gens = append(gens, Generation{Number: number, Name: name, C4: c4})
	if err := writeChain(filepath.Join(hdir, ChainFile), gens); err != nil {
		return w, fmt.Errorf("write ASC MHL chain (generation %s is written but not chained; remove it and run again): %w", file, err)
	}
	return Written{Generation: number, Path: file, C4: c4, Failed: failed}, nil
}

// emptyHistory reports whether hdir holds neither a chain nor a generation: what a first
// write that failed before its generation was linked leaves.
func emptyHistory(hdir string) bool {
	if _, err := os.Lstat(filepath.Join(hdir, ChainFile)); err == nil {
		return false
	}
	return highestGeneration(hdir) == 0
}

// highestGeneration returns the highest generation number among hdir's .mhl files (0: none).
func highestGeneration(hdir string) int {
	ents, _ := os.ReadDir(hdir)
	high := 0
	for _, e := range ents {
		m := generationName.FindStringSubmatch(strings.TrimSuffix(e.Name(), ".mhl"))
		if m == nil || !strings.HasSuffix(e.Name(), ".mhl") {
			continue
		}
		if n, err := strconv.Atoi(m[1]); err == nil && n > high {
			high = n
		}
	}
	return high
}

// writeExclusive writes body to file through a synced temporary file linked into place: it
// fails, leaving nothing, when file exists.
func writeExclusive(file string, body []byte) error { return writeVia(file, body, os.Link) }

// writeReplace writes body to file atomically (temporary file, sync, rename).
func writeReplace(file string, body []byte) error { return writeVia(file, body, os.Rename) }

// writeVia writes body to a temporary file beside file (mode 0644, as histories are shared),
// syncs it, puts it in place with place (os.Link or os.Rename) and syncs the directory.
func writeVia(file string, body []byte, place func(tmp, file string) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".fiosync-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := place(tmp.Name(), file); err != nil {
		return err
	}
	return syncDir(filepath.Dir(file))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func writeChain(file string, gens []Generation) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<ascmhldirectory xmlns="` + chainNamespace + `">` + "\n")
	for _, g := range gens {
		fmt.Fprintf(&b, "  <hashlist sequencenr=\"%d\">\n    <path>%s</path>\n    <c4>%s</c4>\n  </hashlist>\n", g.Number, esc(g.Name), g.C4)
	}
	b.WriteString("</ascmhldirectory>\n")
	return writeReplace(file, b.Bytes())
}

// esc escapes text for XML character data or attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// dateLayout writes xs:dateTime with a numeric offset, as the reference implementation does.
const dateLayout = "2006-01-02T15:04:05-07:00"

func date(t time.Time) string { return t.Format(dateLayout) }

// renderTransfer builds the generation's XML and returns the paths whose hashes failed.
func renderTransfer(t Transfer, prior *History) ([]byte, []string, error) {
	files := make([]FileHashes, len(t.Files))
	copy(files, t.Files)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<hashlist version="2.0" xmlns="` + namespace + `">` + "\n")
	c := t.Creator
	b.WriteString("  <creatorinfo>\n")
	fmt.Fprintf(&b, "    <creationdate>%s</creationdate>\n", date(t.Time))
	fmt.Fprintf(&b, "    <hostname>%s</hostname>\n", esc(c.Hostname))
	if c.ToolVersion != "" {
		fmt.Fprintf(&b, "    <tool version=\"%s\">%s</tool>\n", esc(c.ToolVersion), esc(c.Tool))
	} else {
		fmt.Fprintf(&b, "    <tool>%s</tool>\n", esc(c.Tool))
	}
	for _, a := range c.Authors {
		b.WriteString("    <author")
		for _, kv := range [][2]string{{"email", a.Email}, {"phone", a.Phone}, {"role", a.Role}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, " %s=\"%s\"", kv[0], esc(kv[1]))
			}
		}
		fmt.Fprintf(&b, ">%s</author>\n", esc(a.Name))
	}
	if c.Location != "" {
		fmt.Fprintf(&b, "    <location>%s</location>\n", esc(c.Location))
	}
	if c.Comment != "" {
		fmt.Fprintf(&b, "    <comment>%s</comment>\n", esc(c.Comment))
	}
	b.WriteString("  </creatorinfo>\n  <processinfo>\n    <process>transfer</process>\n    <ignore>\n")
	for _, p := range defaultIgnore {
		fmt.Fprintf(&b, "      <pattern>%s</pattern>\n", esc(p))
	}
	b.WriteString("    </ignore>\n  </processinfo>\n  <hashes>\n")
	var failed []string
	seen := map[string]bool{}
	for _, f := range files {
		p, err := CleanPath(f.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("write ASC MHL generation: file %w", err)
		}
		if seen[p] {
			return nil, nil, fmt.Errorf("write ASC MHL generation: file %q given twice", p)
		}
		seen[p] = true
		if f.Size < 0 {
			return nil, nil, fmt.Errorf("write ASC MHL generation: file %q: negative size", p)
		}
		var old Record
		if prior != nil {
			old, _ = prior.Lookup(p)
		}
		actions, bad, err := actionsFor(p, f.Hashes, old)
		if err != nil {
			return nil, nil, err
		}
		if bad {
			failed = append(failed, p)
		}
		hd := f.HashDate
		if hd.IsZero() {
			hd = t.Time
		}
		b.WriteString("    <hash>\n")
		fmt.Fprintf(&b, "      <path size=\"%d\"", f.Size)
		if !f.ModTime.IsZero() {
			fmt.Fprintf(&b, " lastmodificationdate=\"%s\"", date(f.ModTime.Truncate(time.Second)))
		}
		fmt.Fprintf(&b, ">%s</path>\n", esc(p))
		for _, format := range Formats {
			a, ok := actions[format]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "      <%s action=\"%s\" hashdate=\"%s\">%s</%s>\n", format, a.action, date(hd), a.value, format)
		}
		b.WriteString("    </hash>\n")
	}
	b.WriteString("  </hashes>\n</hashlist>\n")
	return b.Bytes(), failed, nil
}

type actionValue struct {
	action Action
	value  string
}

// actionsFor decides each hash's action against old, the history's record of the file (zero:
// none), and reports whether one failed.
func actionsFor(p string, hashes map[Format]string, old Record) (map[Format]actionValue, bool, error) {
	if len(hashes) == 0 {
		return nil, false, fmt.Errorf("write ASC MHL generation: file %q has no hash", p)
	}
	out := map[Format]actionValue{}
	matched, failed := false, false
	for f, v := range hashes {
		if _, ok := textLen[f]; !ok {
			return nil, false, fmt.Errorf("write ASC MHL generation: file %q: unknown hash format %q", p, f)
		}
		v, err := normalize(f, v)
		if err != nil {
			return nil, false, fmt.Errorf("write ASC MHL generation: file %q: %w", p, err)
		}
		was, known := old.Hashes[f]
		switch {
		case !known:
			out[f] = actionValue{Original, v} // settled below when the file has records
		case was == v:
			out[f] = actionValue{Verified, v}
			matched = true
		default:
			out[f] = actionValue{Failed, v}
			failed = true
		}
	}
	if len(old.Hashes) > 0 {
		for f, a := range out {
			if _, known := old.Hashes[f]; known {
				continue
			}
			switch {
			case failed:
				delete(out, f) // nothing vouches for a new format of a file that failed
			case matched:
				out[f] = actionValue{Verified, a.value}
			}
			// neither: none of the file's recorded formats was computed; the new format is
			// the first record in it, so "original" stands.
		}
	}
	return out, failed, nil
}
