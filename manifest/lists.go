package manifest

import (
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"golang.org/x/text/unicode/norm"
)

// Lists reports the address the manifest gives a local file at relPath (slash-separated,
// relative to Dir, as source.Identity records it), whether or not the file exists: the
// first directory or glob entry whose base holds relPath, whose pattern matches it and
// whose excludes leave it in. A tracked address that the manifest still lists but the
// walk did not find was deleted on disk, not dropped from the manifest. Entries naming a
// single file are not consulted: their file missing is an error of Expand.
func (m *Manifest) Lists(relPath string) (string, bool) {
	relPath = path.Clean(relPath)
	for i := range m.Uploads {
		u := &m.Uploads[i]
		if u.Local == "" {
			continue
		}
		base, pattern := u.Local, ""
		if isGlob(u.Local) {
			base, pattern = doublestar.SplitPattern(u.Local)
			pattern = norm.NFC.String(pattern)
		}
		base = path.Clean(base)
		rel := relPath
		if base != "." {
			var ok bool
			if rel, ok = strings.CutPrefix(relPath, base+"/"); !ok {
				continue
			}
		}
		rel = norm.NFC.String(rel)
		if !listedBelow(u, rel, pattern) {
			continue
		}
		return address(u.To, rel), true
	}
	return "", false
}

// listedBelow reports whether the walk of u would take the file at rel below its base: no
// exclude matches it or a directory above it, and with a glob, the pattern matches it or a
// directory above it (a matched directory is taken whole).
func listedBelow(u *Upload, rel, pattern string) bool {
	matched := pattern == ""
	for p := rel; ; {
		for _, x := range u.Exclude {
			if doublestar.MatchUnvalidated(x, p) {
				return false
			}
		}
		if !matched && doublestar.MatchUnvalidated(pattern, p) {
			matched = true
		}
		dir, _, ok := cutLast(p)
		if !ok {
			break
		}
		p = dir
	}
	return matched
}

func cutLast(p string) (dir, name string, ok bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p, false
	}
	return p[:i], p[i+1:], true
}
