package plan

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fiosync/fiosync/internal/escape"
)

// Selection is the part of the manifest one plan works on: the addresses matching any of
// Targets (all addresses when there are none) and none of Excludes. The patterns are address
// globs (path.Match syntax); a pattern also selects everything below a folder it matches, so
// "/Dailies/Day01" selects the folder's files. A plan never touches an address outside its
// selection: such an address is neither uploaded nor deleted, only counted (Plan.Excluded).
//
// Replaces (plan --replace) are address globs of the same syntax that do not narrow the
// selection: a tracked, delivered address they match and the selection includes is uploaded
// again even when its content is unchanged, following its entry's on_change.
type Selection struct {
	Targets  []string `json:"targets"`
	Excludes []string `json:"excludes"`
	Replaces []string `json:"replaces"`
}

// IsZero reports whether s selects every address and replaces none.
func (s Selection) IsZero() bool {
	return len(s.Targets) == 0 && len(s.Excludes) == 0 && len(s.Replaces) == 0
}

// Check returns an error naming the first malformed pattern of s.
func (s Selection) Check() error {
	for _, p := range slices.Concat(s.Targets, s.Excludes, s.Replaces) {
		if _, err := path.Match(p, "/"); err != nil {
			return fmt.Errorf("address glob %q: %w", p, err)
		}
	}
	return nil
}

// Includes reports whether addr is in s.
func (s Selection) Includes(addr string) bool {
	if len(s.Targets) > 0 && !slices.ContainsFunc(s.Targets, func(p string) bool { return matchAddress(p, addr) }) {
		return false
	}
	return !slices.ContainsFunc(s.Excludes, func(p string) bool { return matchAddress(p, addr) })
}

// Replacing reports whether addr matches one of s.Replaces (or sits below a folder one
// matches). It says nothing of whether s includes addr.
func (s Selection) Replacing(addr string) bool {
	return slices.ContainsFunc(s.Replaces, func(p string) bool { return matchAddress(p, addr) })
}

// Equal reports whether s and o select and replace by the same patterns in the same order.
func (s Selection) Equal(o Selection) bool {
	return slices.Equal(s.Targets, o.Targets) && slices.Equal(s.Excludes, o.Excludes) && slices.Equal(s.Replaces, o.Replaces)
}

// nonNilSelection is s with empty lists rather than nil ones, for JSON.
func nonNilSelection(s Selection) Selection {
	return Selection{Targets: nonNil(s.Targets), Excludes: nonNil(s.Excludes), Replaces: nonNil(s.Replaces)}
}

// matchAddress reports whether pattern matches addr or one of the folders above it.
func matchAddress(pattern, addr string) bool {
	for a := addr; ; a = path.Dir(a) {
		if ok, _ := path.Match(pattern, a); ok {
			return true
		}
		if a == "/" || a == "." {
			return false
		}
	}
}

// describe is s for the plan's note: "targets /A/*; excludes /A/b.mov".
func (s Selection) describe() string {
	var parts []string
	if len(s.Targets) > 0 {
		parts = append(parts, "targets "+escape.Text(strings.Join(s.Targets, ", ")))
	}
	if len(s.Excludes) > 0 {
		parts = append(parts, "excludes "+escape.Text(strings.Join(s.Excludes, ", ")))
	}
	return strings.Join(parts, "; ")
}
