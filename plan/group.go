package plan

import (
	"cmp"
	"slices"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/internal/sequence"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
)

// line is one line of the human plan forms (text and markdown): one change, a sequence of
// changes (`shot010.[1001-3000].exr`) or the rest of a large folder's changes summed up. The
// JSON output and plan files keep one object per change.
type line struct {
	// Changes are the members, in plan order; the first one stands for the line's action,
	// kind, folder and reason, which all members share.
	Changes []Change
	// Address is what the line shows: the change's address, the sequence's pattern in its
	// folder, or the folder followed by "*" for a summary.
	Address string
	// Summary marks the rest of a folder's changes summed up in one line.
	Summary bool
}

// Size is the bytes of the line's members.
func (l line) Size() int64 {
	var n int64
	for _, c := range l.Changes {
		n += c.Size
	}
	return n
}

// lineKey is what the members of one line share.
type lineKey struct {
	action   Action
	kind     source.Kind
	folder   string
	reason   string
	onChange manifest.OnChange
}

// groupable reports whether c may share a line: adopts and conflicts name a Frame.io file
// of their own, which a line of many cannot show.
func groupable(c Change) bool {
	return c.Existing == nil && c.Conflict == nil && c.Folder != "" && c.Name != ""
}

// lines groups cs (sorted by address) into lines: sequences of at least sequence.MinRun
// members become one line each, and when a folder still has more than perFolder lines of one
// kind of change, those past the first perFolder/2 are summed up in one line (perFolder <= 0:
// no limit). Lines come in the order of their first change.
func lines(cs []Change, perFolder int) []line {
	type bucket struct {
		idx []int // into cs
	}
	byKey := map[lineKey]*bucket{}
	var keys []lineKey // in order of first appearance, for a deterministic result
	var out []line
	for i, c := range cs {
		if !groupable(c) {
			out = append(out, line{Changes: []Change{c}, Address: c.Address})
			continue
		}
		k := lineKey{c.Action, c.Kind, c.Folder, c.Reason, c.OnChange}
		b := byKey[k]
		if b == nil {
			b = &bucket{}
			byKey[k] = b
			keys = append(keys, k)
		}
		b.idx = append(b.idx, i)
	}
	for _, k := range keys {
		b := byKey[k]
		names := make([]string, len(b.idx))
		for j, i := range b.idx {
			names[j] = cs[i].Name
		}
		groups := sequence.Find(names)
		dir := folderPrefix(k.folder)
		var ls []line
		for _, g := range groups {
			l := line{Address: dir + g.Name(names)}
			for _, m := range g.Members {
				l.Changes = append(l.Changes, cs[b.idx[m]])
			}
			ls = append(ls, l)
		}
		if keep := perFolder / 2; perFolder > 0 && len(ls) > perFolder {
			rest := line{Address: dir + "*", Summary: true}
			for _, l := range ls[keep:] {
				rest.Changes = append(rest.Changes, l.Changes...)
			}
			ls = append(ls[:keep], rest)
		}
		out = append(out, ls...)
	}
	// By first member: a folder's summary line comes after the lines it left standing, whose
	// first members all sort before its own.
	slices.SortStableFunc(out, func(a, b line) int { return cmp.Compare(a.Changes[0].Address, b.Changes[0].Address) })
	return out
}

// folderPrefix is what goes before a name in folder: "/" for the root, else "/A/B/".
func folderPrefix(folder string) string {
	if folder == "/" {
		return "/"
	}
	return folder + "/"
}

// ListAddresses writes addrs (sorted) for a list in a message, one line per address or
// sequence (`/VFX/shot010.[1001-3000].exr (2000 files)`), with at most perFolder lines for
// one folder and at most limit lines in all, the last saying how many it left out (limit
// <= 0: no bound). Addresses are escaped for the terminal.
func ListAddresses(addrs []string, perFolder, limit int) []string {
	cs := make([]Change, len(addrs))
	for i, a := range addrs {
		folder, name := splitAddress(a)
		cs[i] = Change{Address: a, Action: Delete, Folder: folder, Name: name}
	}
	var out []string
	left := 0
	for _, l := range lines(cs, perFolder) {
		if limit > 0 && len(out) == limit-1 {
			left += len(l.Changes)
			continue
		}
		s := escape.Text(l.Address)
		switch {
		case l.Summary:
			s += " (" + display.Count(len(l.Changes), "more file", "more files") + ")"
		case len(l.Changes) > 1:
			s += " (" + display.Count(len(l.Changes), "file", "files") + ")"
		}
		out = append(out, s)
	}
	if left > 0 {
		out = append(out, "... and "+display.Count(left, "more file", "more files"))
	}
	return out
}
