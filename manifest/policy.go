package manifest

import (
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// DefaultExcludes are the patterns every walk leaves out unless the manifest sets
// exclude_defaults: false: the litter of Finder (.DS_Store, and the ._ AppleDouble files it
// writes on volumes without extended attributes) and of Windows Explorer (Thumbs.db).
var DefaultExcludes = []string{".DS_Store", "._*", "Thumbs.db"}

// PolicyHit is a file or directory that a walk left out because of a policy exclude: the
// manifest's top-level exclude or DefaultExcludes, not the entry's own. A plan never prunes
// a tracked address that a hit covers: it reports it (an upgrade that brings a new default,
// or a top-level exclude added for the future, must not delete what was delivered).
type PolicyHit struct {
	// Address is where the file would have gone, or for a directory the folder its files
	// would have gone to.
	Address string
	Dir     bool
	// Pattern is the exclude that matched, as written; Default says it is one of
	// DefaultExcludes.
	Pattern string
	Default bool
}

// Covers reports whether the hit covers addr: it is the file, or addr is below the directory.
func (h PolicyHit) Covers(addr string) bool {
	if !h.Dir {
		return addr == h.Address
	}
	return strings.HasPrefix(addr, h.Address+"/") || h.Address == "/"
}

// policyRule is one compiled policy exclude. A pattern without "/" matches the name of a file
// or directory at any depth; one with "/" matches the path below the entry's base, as an
// entry's own exclude does.
type policyRule struct {
	pattern string
	isDef   bool
	byName  func(string) bool // nil for a path pattern
}

func compilePolicy(m *Manifest) []policyRule {
	var rules []policyRule
	add := func(p string, def bool) {
		r := policyRule{pattern: p, isDef: def}
		if !strings.Contains(p, "/") {
			r.byName = compileName(p)
		}
		rules = append(rules, r)
	}
	for _, p := range m.Exclude {
		add(p, false)
	}
	if !m.NoDefaultExcludes {
		for _, p := range DefaultExcludes {
			add(p, true)
		}
	}
	return rules
}

// matchPolicy returns the first rule that matches a file or directory named name at rel (its path
// below the entry's base, NFC), or nil.
func matchPolicy(rules []policyRule, name, rel string) *policyRule {
	for i := range rules {
		r := &rules[i]
		if r.byName != nil {
			if r.byName(name) {
				return r
			}
		} else if doublestar.MatchUnvalidated(r.pattern, rel) {
			return r
		}
	}
	return nil
}
