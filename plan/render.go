package plan

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// Summary counts a plan's changes.
type Summary struct {
	Create    int   `json:"create"`
	Update    int   `json:"update"`
	Delete    int   `json:"delete"`
	Adopt     int   `json:"adopt"`
	Finish    int   `json:"finish"`
	Move      int   `json:"move"`
	Conflict  int   `json:"conflict"` // creates and moves that would put a second copy beside an untracked file
	Reread    int   `json:"reread"`   // unchanged files read because their stat moved (Plan.Restat)
	Unchanged int   `json:"unchanged"`
	Excluded  int   `json:"excluded"` // addresses left out by the selection (Plan.Excluded)
	Waiting   int   `json:"waiting"`  // files held back by stable_for (Plan.Waiting)
	Bytes     int64 `json:"bytes"`    // bytes to upload from local files (remote sizes are unknown)
}

// Summary counts p's changes by action and adds up the bytes to upload (adopts upload
// nothing).
func (p *Plan) Summary() Summary {
	s := Summary{Unchanged: p.Unchanged, Reread: len(p.Restat), Excluded: len(p.Excluded), Waiting: len(p.Waiting)}
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
		case Move:
			s.Move++
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
	case Move:
		return ">", ansiCyan
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
	case c.Action == Move:
		// product.md: "> /old -> /new  move".
		r.address = escape.Text(c.From) + " -> " + r.address
		r.kind = "move"
		if c.Prior != nil && c.Prior.VersionStackID != "" {
			r.why = "with its versions"
		}
		if c.Conflict != nil {
			r.why = fmt.Sprintf("conflict: %s (file %s)", ReasonConflict, escape.Text(c.Conflict.ID))
		}
		return r
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
	if c.MHL != "" {
		r.why = strings.TrimPrefix(r.why+", "+c.MHL, ", ")
	}
	return r
}

// TextLinesPerFolder bounds the lines WriteText gives one kind of change in one folder (after
// sequences are folded into one line each); the rest are summed up in one line.
const TextLinesPerFolder = 50

// rowOfLine lays out a line of one or more changes: a sequence or a summary shows its
// pattern, the total size and the count before the first member's note.
func rowOfLine(l line) row {
	r := rowOf(l.Changes[0])
	if len(l.Changes) == 1 && !l.Summary {
		return r
	}
	r.address = escape.Text(l.Address)
	if r.detail != "" && l.Changes[0].Kind == source.Local {
		r.detail = display.Bytes(l.Size())
	}
	count := display.Count(len(l.Changes), "file", "files")
	if l.Summary {
		count = "and " + display.Count(len(l.Changes), "more file", "more files")
	}
	if r.why != "" {
		count += ", " + r.why
	}
	r.why = count
	return r
}

// WriteText writes p in the human form of `fiosync plan`: the target, then one aligned line per change or
// sequence of changes (`shot010.[1001-3000].exr`, with their count and size; at most
// TextLinesPerFolder lines for one kind of change in a folder), a summary line, then a note listing untracked files. It leaves p.Warnings to the caller,
// which prints diagnostics apart from the plan (on stderr).
func WriteText(w io.Writer, p *Plan, style Style) error {
	bw := bufio.NewWriter(w)
	paint := func(color, s string) string {
		if !style.Color {
			return s
		}
		return color + s + ansiReset
	}
	if t := p.Target; t.ProjectID != "" {
		fmt.Fprintf(bw, "Target: %s\n\n", DescribeTarget(t))
	}
	ls := lines(p.Changes, TextLinesPerFolder)
	rows := make([]row, len(ls))
	var wAddr, wKind, wDetail int
	for i, l := range ls {
		r := rowOfLine(l)
		rows[i] = r
		wAddr = max(wAddr, len([]rune(r.address)))
		wKind = max(wKind, len(r.kind))
		if c := l.Changes[0]; c.Kind == source.Local && c.Action != Delete {
			wDetail = max(wDetail, len(r.detail))
		}
	}
	for i, r := range rows {
		if who, ok := style.Claimed[p.Changes[i].Address]; ok {
			r.why = strings.TrimSpace(r.why + "  (claimed by " + escape.Text(who) + ")")
		}
		mark, color := symbol(r.action)
		cols := []string{pad(r.address, wAddr), pad(r.kind, wKind)}
		if (r.detail != "" || r.why != "") && r.action != Move { // a move has no size column
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
	dropped, deleted := p.untracked()
	if n := len(dropped); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s no longer in the manifest; fiosync leaves %s in Frame.io (set prune: true to delete %s):\n",
			display.Count(n, "file is", "files are"), display.Pick(n, "it", "them"), display.Pick(n, "it", "them"))
		for _, a := range ListAddresses(dropped, TextLinesPerFolder, 0) {
			fmt.Fprintf(bw, "  %s\n", a)
		}
	}
	if n := len(deleted); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s deleted on disk, and the manifest still lists %s; fiosync leaves %s in Frame.io (set prune: true to delete %s):\n",
			display.Count(n, "file was", "files were"), display.Pick(n, "it", "them"), display.Pick(n, "it", "them"), display.Pick(n, "it", "them"))
		for _, a := range ListAddresses(deleted, TextLinesPerFolder, 0) {
			fmt.Fprintf(bw, "  %s\n", a)
		}
	}
	if n := len(p.Emptied); n > 0 {
		fmt.Fprintf(bw, "\nNote: the moves leave %s empty; fiosync does not delete folders:\n", display.Count(n, "folder", "folders"))
		for _, dir := range p.Emptied {
			fmt.Fprintf(bw, "  %s\n", escape.Text(dir))
		}
	}
	if n := len(p.Waiting); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s changed within %s entry's stable_for; a later plan uploads %s once %s left alone:\n",
			display.Count(n, "file", "files"), display.Pick(n, "its", "their"), display.Pick(n, "it", "them"), display.Pick(n, "it is", "they are"))
		for _, w := range p.Waiting {
			fmt.Fprintf(bw, "  %s  waiting: modified %s (stable_for %s)\n", escape.Text(w.Address), ago(w.Age), w.StableFor)
		}
	}
	if n := len(p.PolicyExcluded); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s delivered earlier %s now left out by the manifest's top-level exclude or a default exclude; fiosync keeps %s in Frame.io and in the state and never prunes %s:\n",
			display.Count(n, "file", "files"), display.Pick(n, "is", "are"), display.Pick(n, "it", "them"), display.Pick(n, "it", "them"))
		for _, x := range p.PolicyExcluded {
			fmt.Fprintf(bw, "  %s  excluded by policy (%s)\n", escape.Text(x.Address), x.describe())
		}
	}
	if n := len(p.Excluded); n > 0 {
		fmt.Fprintf(bw, "\nNote: %s outside the targeting (%s); this plan leaves %s as %s.\n",
			display.Count(n, "file is", "files are"), p.Select.describe(), display.Pick(n, "it", "them"), display.Pick(n, "it is", "they are"))
	}
	return bw.Flush()
}

// untracked splits p.Untracked into the addresses dropped from the manifest and those
// deleted on disk (p.Deleted).
func (p *Plan) untracked() (dropped, deleted []string) {
	for _, a := range p.Untracked {
		if _, ok := slices.BinarySearch(p.Deleted, a); !ok {
			dropped = append(dropped, a)
		}
	}
	return dropped, p.Deleted
}

// counts is the summary line's body: "3 to upload (2.1 GiB), 1 to delete, 14 unchanged", with
// "N to adopt" after the uploads when there are adopts.
func (s Summary) counts() string {
	adopt := ""
	if s.Adopt > 0 {
		adopt = fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	if s.Move > 0 {
		adopt += fmt.Sprintf(", %d to move", s.Move)
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

// ago says how long ago a file changed, for people: "12 s ago", "5 min ago", "3 h ago"; a
// change in the future is a clock that disagrees with the file system's.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future (check the clocks)"
	case d < 2*time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h ago", int(d/time.Hour))
}

// describe is x's pattern for the plan: ".DS_Store, a default exclude" or "*.tmp".
func (x PolicyExclusion) describe() string {
	if x.Default {
		return escape.Text(x.Pattern) + ", a default exclude"
	}
	return escape.Text(x.Pattern)
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
	FormatVersion string `json:"format_version"`
	// Target is the account, workspace and project, ids and names (names may be empty in a
	// plan made with --refresh=false from a state that predates them).
	Target  state.Target `json:"target"`
	Changes []jsonChange `json:"changes"`
	Summary Summary      `json:"summary"`
	// Untracked are the tracked addresses the plan leaves in Frame.io without prune: true.
	Untracked []jsonUntracked `json:"untracked"`
	// Select and Excluded are the targeting and what it left out (Plan.Select, Excluded).
	Select   Selection `json:"select"`
	Excluded []string  `json:"excluded"`
	// Emptied are the folders the moves leave empty (Plan.Emptied).
	Emptied []string `json:"emptied"`
	// PolicyExcluded lists the tracked addresses a policy exclude leaves out (reported, never
	// pruned); Waiting the files stable_for holds back.
	PolicyExcluded []PolicyExclusion `json:"policy_excluded"`
	Waiting        []Waiting         `json:"waiting"`
}

// The drop values of the JSON output: why a tracked address left the desired files.
const (
	dropManifest = "removed_from_manifest"
	dropDisk     = "deleted_on_disk"
)

type jsonChange struct {
	Address string      `json:"address"`
	Action  Action      `json:"action"`
	Kind    source.Kind `json:"kind"`
	Size    int64       `json:"size"`
	Reason  string      `json:"reason"`
	// Source is where the content comes from: the local path relative to the manifest's
	// directory, or the URL without its query; for a delete, where it came from.
	Source string `json:"source"`
	// OnChange is the manifest's on_change for an update.
	OnChange manifest.OnChange `json:"on_change,omitempty"`
	// FileID is the Frame.io file the change acts on: the one an adopt records, an update
	// replaces or stacks onto, a delete removes or a finish completes.
	FileID string `json:"file_id,omitempty"`
	// ConflictID is the untracked file already at the address of a create in conflict.
	ConflictID string `json:"conflict_file_id,omitempty"`
	// From is the address a move takes the file from (moves only).
	From string `json:"from,omitempty"`
	// Drop says why a delete's address left the desired files: dropManifest or dropDisk.
	Drop string `json:"drop,omitempty"`
	// MHL is "not in MHL" for a file of an entry with mhl: that no history covers.
	MHL string `json:"mhl,omitempty"`
}

type jsonUntracked struct {
	Address string `json:"address"`
	Drop    string `json:"drop"`
}

// WriteJSON writes p as the one JSON object of `fiosync plan --json` (schema in product.md),
// followed by a newline.
func WriteJSON(w io.Writer, p *Plan) error {
	doc := jsonPlan{FormatVersion: FormatVersion, Target: p.Target, Changes: []jsonChange{}, Summary: p.Summary(),
		Untracked: []jsonUntracked{},
		Select:    nonNilSelection(p.Select),
		Excluded:  nonNil(p.Excluded), Emptied: nonNil(p.Emptied),
		PolicyExcluded: nonNil(p.PolicyExcluded), Waiting: nonNil(p.Waiting)}
	for _, c := range p.Changes {
		jc := jsonChange{Address: c.Address, Action: c.Action, Kind: c.Kind, Size: c.Size, Reason: c.Reason, FileID: existingID(c),
			OnChange: c.OnChange, From: c.From, MHL: c.MHL}
		src := c.Source
		if c.Prior != nil {
			if jc.FileID == "" {
				jc.FileID = c.Prior.FileID
			}
			if src.Kind == "" {
				src = c.Prior.Source
			}
		}
		jc.Source = cmp.Or(src.Path, src.URL)
		if c.Conflict != nil {
			jc.ConflictID = c.Conflict.ID
		}
		if c.Action == Delete {
			jc.Drop = dropManifest
			if c.Reason == ReasonDeletedDisk {
				jc.Drop = dropDisk
			}
		}
		doc.Changes = append(doc.Changes, jc)
	}
	deleted := map[string]bool{}
	for _, a := range p.Deleted {
		deleted[a] = true
	}
	for _, a := range p.Untracked {
		u := jsonUntracked{Address: a, Drop: dropManifest}
		if deleted[a] {
			u.Drop = dropDisk
		}
		doc.Untracked = append(doc.Untracked, u)
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

// MarkdownLinesPerFolder bounds the table lines WriteMarkdown gives one kind of change in
// one folder (after sequences are folded into one line each); the rest are summed up.
const MarkdownLinesPerFolder = 20

// markdownReserve is the room WriteMarkdown keeps beside the folder table for the title,
// the target, the counts and the notes, so the folder table always fits.
const markdownReserve = 4096

// WriteMarkdown writes p as a compact summary for a pull request comment: the target, the
// counts and bytes, a table of every folder's totals, every delete, update and adopt in a
// table, then the creates in a collapsed block; sequences take one row each. The folder
// table always fits: when it would not, folders are rolled up into their ancestors, deepest
// levels first, and a note says so. When the change rows would pass MarkdownLimit bytes, it
// stops and says how many files it left out.
func WriteMarkdown(w io.Writer, p *Plan) error {
	var b strings.Builder
	s := p.Summary()
	b.WriteString("### fiosync plan\n\n")
	if t := p.Target; t.ProjectID != "" {
		fmt.Fprintf(&b, "Target: %s\n\n", markdownTarget(t))
	}
	if p.Empty() {
		fmt.Fprintf(&b, "No changes. %s up to date.\n", display.Count(s.Unchanged, "file", "files"))
	} else {
		fmt.Fprintf(&b, "**%s.**\n", s.counts())
		b.WriteString(folderTable(p.Changes, MarkdownLimit-markdownReserve))
	}

	var first, creates []line
	for _, l := range lines(p.Changes, MarkdownLinesPerFolder) {
		if l.Changes[0].Action == Create {
			creates = append(creates, l)
		} else {
			first = append(first, l)
		}
	}
	// Each block is a header, rows and a footer; the footer's room is kept free so the
	// document always closes properly.
	const header = "\n| | address | kind | size | reason |\n|---|---|---|---|---|\n"
	const detailsOpen = "\n<details><summary>%s to create</summary>\n"
	const detailsClose = "\n</details>\n"
	// moreRoom keeps space for what follows the last row: the "... and N more" line, the
	// closing of the details block and the note about untracked files.
	const moreRoom = 512
	omitted := 0 // files left out once the budget ran out
	rows := func(ls []line) {
		for _, l := range ls {
			row := markdownRow(l)
			if omitted > 0 || b.Len()+len(row)+moreRoom > MarkdownLimit {
				omitted += len(l.Changes)
				continue
			}
			b.WriteString(row)
		}
	}
	more := func() {
		if omitted > 0 {
			fmt.Fprintf(&b, "\n... and %s not shown (the folder table counts them; `fiosync plan --json` lists every file).\n",
				display.Count(omitted, "more file", "more files"))
		}
	}
	if len(first) > 0 {
		b.WriteString(header)
		rows(first)
	}
	open := fmt.Sprintf(detailsOpen, display.Count(s.Create, "file", "files")) + header
	switch {
	case len(creates) == 0:
		more()
	case omitted > 0 || b.Len()+len(open)+moreRoom > MarkdownLimit:
		for _, l := range creates {
			omitted += len(l.Changes)
		}
		more()
	default:
		b.WriteString(open)
		rows(creates)
		more()
		b.WriteString(detailsClose)
	}
	dropped, deleted := p.untracked()
	if n := len(dropped); n > 0 {
		fmt.Fprintf(&b, "\n%s no longer in the manifest and left in Frame.io (no `prune: true`).\n", display.Count(n, "file is", "files are"))
	}
	if n := len(p.Emptied); n > 0 {
		fmt.Fprintf(&b, "\nThe moves leave %s empty.\n", display.Count(n, "folder", "folders"))
	}
	if n := len(deleted); n > 0 {
		fmt.Fprintf(&b, "\n%s deleted on disk, still listed by the manifest, and left in Frame.io (no `prune: true`).\n", display.Count(n, "file was", "files were"))
	}
	if n := len(p.Excluded); n > 0 {
		fmt.Fprintf(&b, "\n%s outside the targeting and left as they are.\n", display.Count(n, "file is", "files are"))
	}
	if n := len(p.Waiting); n > 0 {
		fmt.Fprintf(&b, "\n%s still being written (stable_for) and left for a later plan.\n", display.Count(n, "file is", "files are"))
	}
	if n := len(p.PolicyExcluded); n > 0 {
		fmt.Fprintf(&b, "\n%s delivered earlier and now excluded by policy, kept in Frame.io (never pruned).\n", display.Count(n, "file is", "files are"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan as markdown: %w", err)
	}
	return nil
}

// folderTotals is one row of the markdown folder table.
type folderTotals struct {
	upload, del, other int
	bytes              int64
}

// folderTable is the markdown table of every folder's totals, at most budget bytes long:
// when the table of every folder would be longer, folders deeper than some level are
// counted in their ancestor at that level (shown as "/A/B/**"), starting from the deepest,
// and a note under the table says from which level down.
func folderTable(cs []Change, budget int) string {
	deepest := 0
	for _, c := range cs {
		deepest = max(deepest, depth(folderOf(c)))
	}
	for level := deepest; ; level-- {
		t := renderFolders(cs, level, level < deepest)
		if len(t) <= budget || level == 0 {
			return t
		}
	}
}

// folderOf is c's destination folder, from its address when the change does not say.
func folderOf(c Change) string {
	if c.Folder != "" {
		return c.Folder
	}
	folder, _ := splitAddress(c.Address)
	return folder
}

// depth is how many folders deep path is: 0 for "/", 1 for "/A".
func depth(path string) int {
	if path == "/" || path == "" {
		return 0
	}
	return strings.Count(path, "/")
}

// ancestorAt is the ancestor of path at level (path itself when it is not deeper).
func ancestorAt(path string, level int) string {
	if depth(path) <= level {
		return path
	}
	if level == 0 {
		return "/"
	}
	parts := strings.SplitN(path, "/", level+2)
	return strings.Join(parts[:level+1], "/")
}

func renderFolders(cs []Change, level int, rolled bool) string {
	totals := map[string]*folderTotals{}
	rolledInto := map[string]bool{}
	for _, c := range cs {
		f := ancestorAt(folderOf(c), level)
		if f != folderOf(c) {
			rolledInto[f] = true
		}
		t := totals[f]
		if t == nil {
			t = &folderTotals{}
			totals[f] = t
		}
		switch c.Action {
		case Create, Update:
			t.upload++
			t.bytes += c.Size
		case Delete:
			t.del++
		default:
			t.other++
		}
	}
	folders := make([]string, 0, len(totals))
	for f := range totals {
		folders = append(folders, f)
	}
	slices.Sort(folders)
	var b strings.Builder
	b.WriteString("\n| folder | to upload | size | to delete | other |\n|---|---|---|---|---|\n")
	for _, f := range folders {
		t := totals[f]
		name := f
		if rolledInto[f] {
			name = folderPrefix(f) + "**"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %d |\n", escape.Markdown(name), t.upload, display.Bytes(t.bytes), t.del, t.other)
	}
	if rolled {
		fmt.Fprintf(&b, "\nRolled up: folders more than %s deep are counted in their ancestor (`/**`), so that every folder's totals fit in one comment.\n",
			display.Count(level, "level", "levels"))
	}
	return b.String()
}

// markdownRow is one table row of a line; the address and the file id sit in code spans that
// nothing in them can break out of (escape.Markdown). A line of several files shows their
// pattern, total size and count.
func markdownRow(l line) string {
	c := l.Changes[0]
	mark, _ := symbol(c.Action)
	size := ""
	if (c.Kind == source.Local || c.Action == Delete) && c.Action != Finish {
		size = display.Bytes(l.Size())
	}
	reason := c.Reason
	switch {
	case c.Action == Adopt:
		reason = fmt.Sprintf("%s (file %s)", c.Reason, escape.Markdown(existingID(c)))
	case c.Conflict != nil:
		reason = fmt.Sprintf("conflict: %s (file %s)", c.Reason, escape.Markdown(c.Conflict.ID))
	case c.Action == Update && c.OnChange != "":
		reason = fmt.Sprintf("%s (%s)", c.Reason, c.OnChange)
	case c.Action == Move:
		reason = "moved from " + escape.Markdown(c.From)
	}
	if c.MHL != "" {
		reason += ", " + c.MHL
	}
	switch {
	case l.Summary:
		reason = display.Count(len(l.Changes), "more file", "more files") + ", " + reason
	case len(l.Changes) > 1:
		reason = display.Count(len(l.Changes), "file", "files") + ", " + reason
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s |\n", mark, escape.Markdown(l.Address), c.Kind, size, reason)
}

// DescribeTarget names the account, workspace and project of t with their ids, for
// people: `account "Acme" (id a-1), workspace "Post" (id w-1), project "Dailies" (id p-1)`.
// A name the state or plan does not know (made before fiosync recorded it) is left out,
// the id stays. Names come from Frame.io and are escaped for the terminal.
func DescribeTarget(t state.Target) string {
	return targetWords(t, func(name string) string { return fmt.Sprintf("%q", escape.Text(name)) }, escape.Text)
}

// markdownTarget is DescribeTarget for markdown: names and ids in code spans.
func markdownTarget(t state.Target) string {
	return targetWords(t, escape.Markdown, escape.Markdown)
}

func targetWords(t state.Target, name, id func(string) string) string {
	part := func(kind, n, i string) string {
		if n == "" {
			return fmt.Sprintf("%s %s", kind, id(i))
		}
		return fmt.Sprintf("%s %s (id %s)", kind, name(n), id(i))
	}
	return strings.Join([]string{part("account", t.Account, t.AccountID), part("workspace", t.Workspace, t.WorkspaceID),
		part("project", t.Project, t.ProjectID)}, ", ")
}
