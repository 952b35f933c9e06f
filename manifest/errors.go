package manifest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Pos is a 1-based line and column in the manifest file. The zero Pos means
// "no particular place" and is printed without line and column.
type Pos struct {
	Line, Column int
}

// IsValid reports whether p points at a place in the file.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "LINE:COL", or "-" for the zero Pos.
func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// Error is one problem in a manifest, tied to the place that causes it.
//
// Field names the offending setting the way a user would find it in the
// file, e.g. "uploads[2].to" or "target.project"; it is empty for problems
// that belong to no field, such as YAML syntax errors.
type Error struct {
	File  string
	Pos   Pos
	Field string
	Msg   string
}

// Error formats e as "FILE:LINE:COL: field: msg", the form compilers use, so
// editors and terminals can jump to the place.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(oneLine(e.Field))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Msg))
	return b.String()
}

// oneLine escapes control characters (a newline in a key, say) and the other characters that
// do not print (bidi controls, say) so that every problem stays on one line and reads as
// written: editors, CI annotations and the FuzzLoad invariant read one problem per line.
// Keys and values come from the user's file, so anything can be in them.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// ErrorList is every problem found in one manifest, sorted by position. Parse
// and Expand return it (as an error) so that one run reports all problems at
// once; use errors.As to get at the individual entries.
type ErrorList []*Error

// Error prints one problem per line, in position order.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty. It exists because a nil
// ErrorList stored in an error interface is not a nil error.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders l by position; problems at the same place keep the order in which
// they were found, so output is deterministic. Callers merging lists from several
// steps (validate) sort the result once.
func (l ErrorList) Sort() { l.sort() }

// sort orders l by position; problems at the same place keep the order in
// which they were found, so output is deterministic.
func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Column - b.Pos.Column
	})
}
