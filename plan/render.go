package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/source"
)

// Summary counts a plan's changes.
type Summary struct {
	Create    int   `json:"create"`
	Update    int   `json:"update"`
	Delete    int   `json:"delete"`
	Adopt     int   `json:"adopt"`
	Finish    int   `json:"finish"`
	Conflict  int   `json:"conflict"` // creates that would put a second copy beside an untracked file
	Reread    int   `json:"reread"`   // unchanged files read because their stat moved (Plan.Restat)
	Unchanged int   `json:"unchanged"`
	Excluded  int   `json:"excluded"` // addresses left out by the selection (Plan.Excluded)
	Bytes     int64 `json:"bytes"`    // bytes to upload from local files (remote sizes are unknown)
}

// Summary counts p's changes by action and adds up the bytes to upload (adopts upload
// nothing).
func (p *Plan) Summary() Summary {
	s := Summary{Unchanged: p.Unchanged, Reread: len(p.Restat), Excluded: len(p.Excluded)}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		case Adopt:
			s.Adopt++
		case Finish:
			s.Finish++
		}
		if c.Conflict != nil {
			s.Conflict++
		}
		if c.Action == Create || c.Action == Update {
			s.Bytes += c.Size
		}
	}
	return s
}

// Empty reports whether p changes nothing; `plan --detailed-exitcode` exits 0 then.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Style says how WriteText decorates its output.
type Style struct {
	// Color adds ANSI colours: green creates, yellow updates, red deletes, cyan adopts. The
	// caller decides (NO_COLOR, a terminal).
	Color bool
	// Claimed names, by address, the runner of a cooperative apply working on the address
	// now ("host pid N"); its line says so.
	Claimed map[string]string
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiCyan   = "\x1b[36m"
)

// symbol returns the one-character mark of an action and its colour.
func symbol(a Action) (string, string) {
	switch a {
	case Create:
		return "+", ansiGreen
	case Update:
		return "~", ansiYellow
	case Adopt:
		return "=", ansiCyan
	case Finish:
		return "~", ansiYellow
	default:
		return "-", ansiRed
	}
}

// row is one change laid out in columns: address, kind, detail (size or URL), note. Names,
// URLs and ids come from the manifest, the disk, the state or Frame.io, so they are escaped
// for the terminal (escape.Text): a name cannot add a line or a control sequence.
type row struct {
	action                     Action
	address, kind, detail, why string
}

func rowOf(c Change) row {
	r := row{action: c.Action, address: escape.Text(c.Address), kind: string(c.Kind)}
	switch {
	case c.Action == Delete:
		r.kind = "prune"
	case c.Action == Finish: // nothing to upload
	case c.Kind == source.Remote:
		r.detail = escape.Text(c.Source.URL)
	default:
		r.detail = display.Bytes(c.Size)
	}
	switch {
	case c.Action == Adopt:
		r.why = "adopt " + escape.Text(existingID(c))
	case c.Conflict != nil:
		r.why = fmt.Sprintf("conflict: %s (file %s)", c.Reason, escape.Text(c.Conflict.ID))
	case c.Action == Update && c.OnChange != "":
		r.why = fmt.Sprintf("%s (%s)", c.Reason, c.OnChange)
	case c.Action == Delete && c.Reason == ReasonNotInConfig, c.Reason == ReasonNew:
	default:
		r.why = c.Reason
	}
	return r
}

// WriteText writes p in the human form of `fiosync plan`: one aligned line per change, a
// summary line, then a note listing untracked files. It leaves p.Warnings to the caller,
// which prints diagnostics apart from the plan (on stderr).
func WriteText(w io.Writer, p *Plan, style Style) error {
	bw := bufio.NewWriter(w)
	paint := func(color, s string) string {
		if !style.Color {
			return s
		}
		return color + s + ansiReset
	}
	rows := make([]row, len(p.Changes))
	var wAddr, wKind, wDetail int
	for i, c := range p.Changes {
		r := rowOf(c)
		rows[i] = r
		wAddr = max(wAddr, len([]rune(r.address)))
		wKind = max(wKind, len(r.kind))
		if c.Kind == source.Local && c.Action != Delete {
			wDetail = max(wDetail, len(r.detail))
		}
	}
	for i, r := range rows {
		if who, ok := style.Claimed[p.Changes[i].Address]; ok {
			r.why = strings.TrimSpace(r.why + "  (claimed by " + escape.Text(who) + ")")
		}
		mark, color := symbol(r.action)
		cols := []string{pad(r.address, wAddr), pad(r.kind, wKind)}
		if r.detail != "" || r.why != "" {
			cols = append(cols, pad(r.detail, wDetail))
		}
		if r.why != "" {
			cols = append(cols, r.why)
		}
		line := strings.TrimRight(strings.Join(cols, "  "), " ")
		fmt.Fprintf(bw, "  %s %s\n", paint(color, mark), line)
	}

	s := p.Summary()
	if p.Empty() {
		fmt.Fprintf(bw, "%s %s up to date.\n", paint(ansiBold, "No changes."), display.Count(s.Unchanged, "file", "files"))
	} else {
		fmt.Fprintf(bw, "%s %s.\n", paint(ansiBold, "Plan:"), s.counts())
	}
	if n := len(p.Restat); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s re-read, unchanged; apply records their new stat.\n", display.Count(n, "file", "files"))
	}
	if n := len(p.Untracked); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s no longer in the manifest; fiosync leaves %s in Frame.io (set prune: true to delete %s):\n",
			display.Count(n, "file is", "files are"), display.Pick(n, "it", "them"), display.Pick(n, "it", "them"))
		for _, a := range p.Untracked {
			fmt.Fprintf(bw, "  %s\n", escape.Text(a))
		}
	}
	if n := len(p.Excluded); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s outside the targeting (%s); this plan leaves %s as %s.\n",
			display.Count(n, "file is", "files are"), p.Select.describe(), display.Pick(n, "it", "them"), display.Pick(n, "it is", "they are"))
	}
	return bw.Flush()
}

// counts is the summary line's body: "3 to upload (2.1 GiB), 1 to delete, 14 unchanged", with
// "N to adopt" after the uploads when there are adopts.
func (s Summary) counts() string {
	adopt := ""
	if s.Adopt > 0 {
		adopt = fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	if s.Finish > 0 {
		adopt += fmt.Sprintf(", %d to finish", s.Finish)
	}
	if s.Conflict > 0 {
		adopt += fmt.Sprintf(", %d in conflict", s.Conflict)
	}
	return fmt.Sprintf("%d to upload (%s)%s, %d to delete, %d unchanged",
		s.Create+s.Update, display.Bytes(s.Bytes), adopt, s.Delete, s.Unchanged)
}

// existingID is the id of the Frame.io file an adopt records.
func existingID(c Change) string {
	if c.Existing == nil {
		return ""
	}
	return c.Existing.ID
}

// pad left-aligns s in a column of width runes.
func pad(s string, width int) string {
	if n := len([]rune(s)); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// jsonPlan is the documented schema of `fiosync plan --json`.
type jsonPlan struct {
	FormatVersion string       `json:"format_version"`
	Changes       []jsonChange `json:"changes"`
	Summary       Summary      `json:"summary"`
	// Select and Excluded are the targeting and what it left out (Plan.Select, Excluded).
	Select   Selection `json:"select"`
	Excluded []string  `json:"excluded"`
}

type jsonChange struct {
	Address string      `json:"address"`
	Action  Action      `json:"action"`
	Kind    source.Kind `json:"kind"`
	Size    int64       `json:"size"`
	Reason  string      `json:"reason"`
	// FileID is the Frame.io file an adopt records (adopts only).
	FileID string `json:"file_id,omitempty"`
	// ConflictID is the untracked file already at the address of a create in conflict.
	ConflictID string `json:"conflict_file_id,omitempty"`
}

// WriteJSON writes p as the one JSON object of `fiosync plan --json` (schema in product.md),
// followed by a newline.
func WriteJSON(w io.Writer, p *Plan) error {
	doc := jsonPlan{FormatVersion: FormatVersion, Changes: []jsonChange{}, Summary: p.Summary(),
		Select:   Selection{Targets: nonNil(p.Select.Targets), Excludes: nonNil(p.Select.Excludes)},
		Excluded: nonNil(p.Excluded)}
	for _, c := range p.Changes {
		jc := jsonChange{Address: c.Address, Action: c.Action, Kind: c.Kind, Size: c.Size, Reason: c.Reason, FileID: existingID(c)}
		if c.Conflict != nil {
			jc.ConflictID = c.Conflict.ID
		}
		doc.Changes = append(doc.Changes, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write plan as JSON: %w", err)
	}
	return nil
}

// MarkdownLimit bounds the size of WriteMarkdown's output in bytes, below the 65,536
// characters GitHub allows in a pull request comment.
const MarkdownLimit = 60000

// WriteMarkdown writes p as a compact summary for a pull request comment: the counts and
// bytes, every delete, update and adopt in a table, then the creates in a collapsed block. When the
// lines would pass MarkdownLimit bytes, it stops and says how many it left out.
func WriteMarkdown(w io.Writer, p *Plan) error {
	var b strings.Builder
	s := p.Summary()
	b.WriteString("### fiosync plan\n\n")
	if p.Empty() {
		fmt.Fprintf(&b, "No changes. %s up to date.\n", display.Count(s.Unchanged, "file", "files"))
	} else {
		fmt.Fprintf(&b, "**%s.**\n", s.counts())
	}

	var first, creates []Change
	for _, c := range p.Changes {
		if c.Action == Create {
			creates = append(creates, c)
		} else {
			first = append(first, c)
		}
	}
	// Each block is a header, rows and a footer; the footer's room is kept free so the
	// document always closes properly.
	const header = "\n| | address | kind | size | reason |\n|---|---|---|---|---|\n"
	const detailsOpen = "\n<details><summary>%s to create</summary>\n"
	const detailsClose = "\n</details>\n"
	// moreRoom keeps space for what follows the last row: the "... and N more" line, the
	// closing of the details block and the note about untracked files.
	const moreRoom = 256
	omitted := 0 // rows left out once the budget ran out
	rows := func(cs []Change) {
		for _, c := range cs {
			line := markdownRow(c)
			if omitted > 0 || b.Len()+len(line)+moreRoom > MarkdownLimit {
				omitted++
				continue
			}
			b.WriteString(line)
		}
	}
	more := func() {
		if omitted > 0 {
			fmt.Fprintf(&b, "\n... and %d more not shown.\n", omitted)
		}
	}
	if len(first) > 0 {
		b.WriteString(header)
		rows(first)
	}
	open := fmt.Sprintf(detailsOpen, display.Count(len(creates), "file", "files")) + header
	switch {
	case len(creates) == 0:
		more()
	case omitted > 0 || b.Len()+len(open)+moreRoom > MarkdownLimit:
		omitted += len(creates)
		more()
	default:
		b.WriteString(open)
		rows(creates)
		more()
		b.WriteString(detailsClose)
	}
	if n := len(p.Untracked); n > 0 {
		fmt.Fprintf(&b, "\n%s no longer in the manifest and left in Frame.io (no `prune: true`).\n", display.Count(n, "file is", "files are"))
	}
	if n := len(p.Excluded); n > 0 {
		fmt.Fprintf(&b, "\n%s outside the targeting and left as they are.\n", display.Count(n, "file is", "files are"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan as markdown: %w", err)
	}
	return nil
}

// markdownRow is one table row; the address and the file id sit in code spans that nothing
// in them can break out of (escape.Markdown).
func markdownRow(c Change) string {
	mark, _ := symbol(c.Action)
	size := ""
	if (c.Kind == source.Local || c.Action == Delete) && c.Action != Finish {
		size = display.Bytes(c.Size)
	}
	reason := c.Reason
	switch {
	case c.Action == Adopt:
		reason = fmt.Sprintf("%s (file %s)", c.Reason, escape.Markdown(existingID(c)))
	case c.Conflict != nil:
		reason = fmt.Sprintf("conflict: %s (file %s)", c.Reason, escape.Markdown(c.Conflict.ID))
	case c.Action == Update && c.OnChange != "":
		reason = fmt.Sprintf("%s (%s)", c.Reason, c.OnChange)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", mark, escape.Markdown(c.Address), c.Kind, size, reason)
}
