package manifest

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/fiosync/fiosync/source"
)

// The keys each mapping allows, in the order messages list them.
var (
	topKeys    = []string{"version", "target", "prune", "exclude", "exclude_defaults", "uploads"}
	targetKeys = []string{"account", "workspace", "project"}
	uploadKeys = []string{"local", "remote", "to", "name", "exclude", "on_change", "allow_outside", "stat_cache", "stable_for", "priority", "mhl"}
	statCaches = []string{"full", "size_mtime"}
	onChanges  = []string{string(OnChangeVersion), string(OnChangeReplace), string(OnChangeKeep), string(OnChangeError)}
)

// parser walks the yaml.Node tree of one manifest, collecting every problem
// it meets instead of stopping at the first.
type parser struct {
	file      string
	data      []byte
	lookupEnv func(string) (string, bool)
	checkVar  func(name, value string) error // nil allows every variable (WithVarCheck)
	partial   **Manifest                     // WithPartial
	broken    []int                          // uploads with problems, by index
	errs      ErrorList
	aliases   int  // aliases resolved so far, bounded by maxAliases
	aliasErr  bool // the alias budget error has been reported
}

func (p *parser) add(at Pos, field, msg string) {
	p.errs = append(p.errs, &Error{File: p.file, Pos: at, Field: field, Msg: msg})
}

// field is one key/value pair of a mapping. use is the value as written,
// possibly an alias, and gives the position for messages; val is what it
// resolves to.
type field struct {
	key, use, val *yaml.Node
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// fields returns the entries of mapping m by key. It reports unknown keys
// (with a guess at the intended one), duplicate keys and non-string keys,
// and applies YAML merge keys ("<<: *defaults"), which explicit keys
// override.
func (p *parser) fields(m *yaml.Node, prefix string, allowed []string) map[string]field {
	out := make(map[string]field)
	p.collect(m, prefix, allowed, out, true, 0)
	return out
}

func (p *parser) collect(m *yaml.Node, prefix string, allowed []string, out map[string]field, explicit bool, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := p.resolve(m.Content[i])
		if k == nil {
			return
		}
		use := m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(pos(m.Content[i]), prefix, "keys must be strings, not "+kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, use)
			continue
		}
		name := join(prefix, k.Value)
		if !contains(allowed, k.Value) {
			msg := "unknown key"
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += "; expected one of " + quoteList(allowed)
			}
			p.add(pos(m.Content[i]), name, msg)
			continue
		}
		if first, dup := out[k.Value]; dup {
			if explicit {
				p.add(pos(m.Content[i]), name, fmt.Sprintf("duplicate key; first set at line %d", first.key.Line))
			}
			continue
		}
		v := p.resolve(use)
		if v == nil {
			return
		}
		out[k.Value] = field{key: m.Content[i], use: use, val: v}
	}
	for _, use := range merges {
		v := p.resolve(use)
		if v == nil {
			return
		}
		if depth > 8 {
			p.add(pos(use), prefix, "merge keys nest too deeply, or merge a mapping into itself")
			return
		}
		switch v.Kind {
		case yaml.MappingNode:
			p.collect(v, prefix, allowed, out, false, depth+1)
		case yaml.SequenceNode:
			for _, item := range v.Content {
				if iv := p.resolve(item); iv != nil && iv.Kind == yaml.MappingNode {
					p.collect(iv, prefix, allowed, out, false, depth+1)
				} else if iv != nil {
					p.add(pos(item), prefix, `"<<" merges mappings only, not `+kindName(iv))
				}
			}
		default:
			p.add(pos(use), prefix, `"<<" merges mappings only, not `+kindName(v))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// str returns the string value of f after ${VAR} expansion; ok is false
// after a problem has been recorded. Any scalar will do (project: 2026 is a
// fine name), but not a list, a mapping or nothing at all.
func (p *parser) str(f field, name string) (string, bool) {
	if f.val.Kind != yaml.ScalarNode {
		p.add(pos(f.use), name, "must be a string, not "+kindName(f.val))
		return "", false
	}
	if f.val.Tag == "!!null" {
		p.add(pos(f.use), name, "must not be empty")
		return "", false
	}
	s, ok := p.expand(f.val.Value, pos(f.use), name)
	if !ok {
		return "", false
	}
	if s == "" {
		msg := "must not be empty"
		if strings.Contains(f.val.Value, "${") {
			msg = "is empty after expanding " + strconv.Quote(f.val.Value)
		}
		p.add(pos(f.use), name, msg)
		return "", false
	}
	return s, true
}

// boolean returns the value of a true/false setting.
func (p *parser) boolean(f field, name string) bool {
	if f.val.Kind != yaml.ScalarNode || f.val.Tag != "!!bool" {
		p.add(pos(f.use), name, "must be true or false, not "+kindName(f.val))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(f.val.Value))
	return b
}

// expand replaces ${NAME} with the variable's value. "$${" stands for a
// literal "${"; any other "$" is kept as is, so URLs and names with dollar
// signs need no escaping. Every unset variable is reported, and so is every
// variable checkVar refuses.
func (p *parser) expand(s string, at Pos, name string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				p.add(at, name, `unterminated "${"; write "$${" for a literal "${"`)
				return "", false
			}
			v := s[i+2 : i+2+end]
			i += end + 3
			if !isVarName(v) {
				p.add(at, name, fmt.Sprintf(`invalid variable name %q in "${...}"; names are letters, digits and "_"`, v))
				ok = false
				continue
			}
			val, set := p.lookupEnv(v)
			if !set {
				p.add(at, name, fmt.Sprintf("environment variable %q is not set", v))
				ok = false
				continue
			}
			if p.checkVar != nil {
				if err := p.checkVar(v, val); err != nil {
					p.add(at, name, fmt.Sprintf("refusing to expand ${%s}: %v", v, err))
					ok = false
					continue
				}
			}
			b.WriteString(val)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), ok
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !(r < unicode.MaxASCII && (unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// parse walks the document. The returned manifest is only meaningful when
// no problem was recorded.
func (p *parser) parse() *Manifest {
	root := p.decode()
	if root == nil {
		return nil
	}
	m := &Manifest{}
	top := p.fields(root, "", topKeys)

	if f, ok := top["version"]; !ok {
		p.add(pos(root), "version", `missing; add "version: 1" at the top of the file`)
	} else {
		m.Version = p.version(f)
	}

	if f, ok := top["target"]; !ok {
		p.add(pos(root), "target", `missing; add a target with at least "project: NAME"`)
	} else {
		m.Target = p.target(f)
	}

	if f, ok := top["prune"]; ok {
		m.Prune = p.boolean(f, "prune")
		m.PrunePos = pos(f.use)
	}
	if f, ok := top["exclude"]; ok {
		m.Exclude, m.ExcludePos = p.exclude(f, "exclude")
	}
	if f, ok := top["exclude_defaults"]; ok {
		m.NoDefaultExcludes = !p.boolean(f, "exclude_defaults")
	}

	f, ok := top["uploads"]
	switch {
	case !ok:
		p.add(pos(root), "uploads", `missing; add a list of entries such as "- local: media" with "to: /" (or "uploads: []" for none)`)
	case f.val.Kind != yaml.SequenceNode:
		p.add(pos(f.use), "uploads", `must be a list of entries, each starting with "- "; not `+kindName(f.val)+` (write "uploads: []" for none)`)
	default:
		m.Uploads = make([]Upload, 0, len(f.val.Content))
		for i, item := range f.val.Content {
			before := len(p.errs)
			u := p.upload(i, item)
			m.Uploads = append(m.Uploads, u)
			if len(p.errs) > before {
				p.broken = append(p.broken, i)
			}
		}
	}
	return m
}

func (p *parser) version(f field) int {
	v := f.val
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		p.add(pos(f.use), "version", "must be the number 1, not "+kindName(v))
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 0, 64)
	if err != nil || n != 1 {
		p.add(pos(f.use), "version", fmt.Sprintf("unsupported version %s; this fiosync reads version 1", v.Value))
		return 0
	}
	return 1
}

func (p *parser) target(f field) Target {
	t := Target{Pos: pos(f.use)}
	if f.val.Kind != yaml.MappingNode {
		p.add(pos(f.use), "target", "must be a mapping with account, workspace and project, not "+kindName(f.val))
		return t
	}
	fs := p.fields(f.val, "target", targetKeys)
	if a, ok := fs["account"]; ok {
		t.Account, _ = p.str(a, "target.account")
		t.AccountPos = pos(a.use)
	}
	if w, ok := fs["workspace"]; ok {
		t.Workspace, _ = p.str(w, "target.workspace")
		t.WorkspacePos = pos(w.use)
	}
	if pr, ok := fs["project"]; ok {
		t.Project, _ = p.str(pr, "target.project")
		t.ProjectPos = pos(pr.use)
	} else {
		p.add(pos(f.val), "target.project", "missing; name or id of the Frame.io project to upload into")
	}
	return t
}

func (p *parser) upload(i int, use *yaml.Node) Upload {
	u := Upload{Index: i, Pos: pos(use), OnChange: OnChangeVersion}
	v := p.resolve(use)
	if v == nil {
		return u
	}
	if v.Kind != yaml.MappingNode {
		p.add(pos(use), u.Field(""), "must be a mapping with local or remote, and to; not "+kindName(v))
		return u
	}
	fs := p.fields(v, u.Field(""), uploadKeys)
	local, hasLocal := fs["local"]
	remote, hasRemote := fs["remote"]
	switch {
	case hasLocal && hasRemote:
		p.add(pos(remote.key), u.Field(""), "set local or remote, not both")
	case !hasLocal && !hasRemote:
		p.add(pos(use), u.Field(""), "needs a source: local (a file, directory or glob) or remote (an http or https URL)")
	}
	isRemote := hasRemote && !hasLocal

	if f, ok := fs["allow_outside"]; ok {
		u.AllowOutside = p.boolean(f, u.Field("allow_outside"))
		if isRemote {
			p.add(pos(f.key), u.Field("allow_outside"), "only applies to local entries")
		}
	}
	if hasLocal {
		u.LocalPos = pos(local.use)
		if s, ok := p.str(local, u.Field("local")); ok {
			u.Local = s
			if msg := checkLocal(s, u.AllowOutside); msg != "" {
				p.add(u.LocalPos, u.Field("local"), msg)
			}
		}
	}
	if hasRemote {
		u.RemotePos = pos(remote.use)
		if s, ok := p.str(remote, u.Field("remote")); ok {
			u.Remote = s
		}
	}

	if f, ok := fs["to"]; !ok {
		p.add(pos(use), u.Field("to"), `missing; the destination folder, such as "/Dailies/Day 01" ("/" is the project root)`)
	} else {
		u.ToPos = pos(f.use)
		if s, ok := p.str(f, u.Field("to")); ok {
			to, msg := cleanFolder(s)
			if msg != "" {
				p.add(u.ToPos, u.Field("to"), msg)
			}
			u.To = to
		}
	}

	if f, ok := fs["name"]; ok {
		u.NamePos = pos(f.use)
		if !isRemote {
			if hasLocal {
				p.add(pos(f.key), u.Field("name"), "only applies to remote entries; local files keep their own names")
			}
		} else if s, ok := p.str(f, u.Field("name")); ok {
			if msg := checkName(s); msg != "" {
				p.add(u.NamePos, u.Field("name"), msg)
			}
			u.Name = norm.NFC.String(s)
		}
	}
	if isRemote && u.Remote != "" {
		name, msg := checkURL(u.Remote, u.Name == "" && !u.NamePos.IsValid())
		if msg != "" {
			p.add(u.RemotePos, u.Field("remote"), msg)
		}
		if u.Name == "" {
			u.Name = name
		}
	}

	if f, ok := fs["exclude"]; ok {
		if isRemote {
			p.add(pos(f.key), u.Field("exclude"), "only applies to local entries")
		} else {
			u.Exclude, u.ExcludePos = p.exclude(f, u.Field("exclude"))
		}
	}

	if f, ok := fs["stat_cache"]; ok {
		switch {
		case isRemote:
			p.add(pos(f.key), u.Field("stat_cache"), "only applies to local entries")
		case f.val.Kind != yaml.ScalarNode || !contains(statCaches, f.val.Value):
			p.add(pos(f.use), u.Field("stat_cache"), `must be "full" (size, mtime, inode and ctime) or "size_mtime" (for shares whose inode or ctime change by themselves)`)
		case f.val.Value == "size_mtime":
			u.StatRule = source.SizeMtime
		}
	}

	if f, ok := fs["stable_for"]; ok {
		u.StableForPos = pos(f.use)
		if isRemote {
			p.add(pos(f.key), u.Field("stable_for"), "only applies to local entries")
		} else {
			u.StableFor = p.duration(f, u.Field("stable_for"))
		}
	}

	if f, ok := fs["priority"]; ok {
		n, err := strconv.ParseInt(f.val.Value, 0, 32)
		if f.val.Kind != yaml.ScalarNode || f.val.Tag != "!!int" || err != nil {
			p.add(pos(f.use), u.Field("priority"), "must be a whole number (higher uploads first; the default is 0), not "+kindName(f.val))
		} else {
			u.Priority = int(n)
		}
	}

	if f, ok := fs["mhl"]; ok {
		u.MHLPos = pos(f.use)
		if isRemote {
			p.add(pos(f.key), u.Field("mhl"), "only applies to local entries")
		} else if s, ok := p.str(f, u.Field("mhl")); ok {
			if msg := checkMHL(s, u.AllowOutside); msg != "" {
				p.add(u.MHLPos, u.Field("mhl"), msg)
			}
			u.MHL = s
		}
	}

	if f, ok := fs["on_change"]; ok {
		u.OnChangePos = pos(f.use)
		if f.val.Kind != yaml.ScalarNode || !contains(onChanges, f.val.Value) {
			msg := "must be " + `"version", "replace", "keep" or "error"`
			if f.val.Kind == yaml.ScalarNode {
				if s := suggest(f.val.Value, onChanges); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
			}
			p.add(u.OnChangePos, u.Field("on_change"), msg)
		} else {
			u.OnChange = OnChange(f.val.Value)
		}
	}
	return u
}

// maxStableFor bounds stable_for: a longer wait is a typo (a unit missing, "60h" for "60s").
const maxStableFor = 7 * 24 * time.Hour

// duration returns a positive duration written as Go writes them ("60s", "1m30s", "2h").
func (p *parser) duration(f field, name string) time.Duration {
	s, ok := "", f.val.Kind == yaml.ScalarNode && f.val.Tag == "!!str"
	if ok {
		s, ok = p.expand(f.val.Value, pos(f.use), name)
		if !ok {
			return 0
		}
	}
	d, err := time.ParseDuration(s)
	switch {
	case !ok || err != nil:
		p.add(pos(f.use), name, `must be a duration with its unit, such as "60s", "5m" or "1h30m"`)
	case d <= 0:
		p.add(pos(f.use), name, "must be longer than 0s; leave it out to upload files however recently they changed")
	case d > maxStableFor:
		p.add(pos(f.use), name, fmt.Sprintf("is longer than %s; is a unit wrong?", maxStableFor))
	default:
		return d
	}
	return 0
}

func (p *parser) exclude(f field, name string) ([]string, []Pos) {
	if f.val.Kind != yaml.SequenceNode {
		p.add(pos(f.use), name, `must be a list of patterns such as ["**/.DS_Store"], not `+kindName(f.val))
		return nil, nil
	}
	var pats []string
	var at []Pos
	for i, item := range f.val.Content {
		v := p.resolve(item)
		if v == nil {
			return pats, at
		}
		n := fmt.Sprintf("%s[%d]", name, i)
		s, ok := p.str(field{use: item, val: v}, n)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(s, "/"):
			p.add(pos(item), n, `patterns are relative to the entry's directory or glob base; remove the leading "/"`)
		case !doublestar.ValidatePattern(s):
			p.add(pos(item), n, "invalid pattern (check the brackets and braces)")
		default:
			pats = append(pats, norm.NFC.String(s))
			at = append(at, pos(item))
		}
	}
	return pats, at
}

// checkLocal validates a local source without looking at the disk: the
// pattern must be well formed, and the path must not leave the manifest's
// directory unless the entry allows it. Symlinks are checked by Expand.
func checkLocal(s string, allowOutside bool) string {
	if hasControl(s) {
		return "must not contain control characters"
	}
	if isGlob(s) && !doublestar.ValidatePattern(s) {
		return "invalid glob pattern (check the brackets and braces)"
	}
	if allowOutside {
		return ""
	}
	if path.IsAbs(s) || filepath.IsAbs(s) {
		return "is an absolute path; local paths are relative to the manifest's directory (set allow_outside: true to allow this)"
	}
	if c := path.Clean(s); c == ".." || strings.HasPrefix(c, "../") {
		return "leads outside the manifest's directory; set allow_outside: true to allow this"
	}
	return ""
}

// checkMHL validates an entry's mhl value: "auto", or the folder holding an ascmhl history
// (or that ascmhl folder itself), a plain path held to the same bounds as local.
func checkMHL(s string, allowOutside bool) string {
	if s == MHLAuto {
		return ""
	}
	if s == "" || isGlob(s) {
		return `must be "auto" (find the ascmhl history at or above the source, and below it) or the folder holding an ascmhl history; not a glob`
	}
	return checkLocal(s, allowOutside)
}

// isGlob reports whether s has an unescaped glob metacharacter, using the
// same rules as doublestar.
func isGlob(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[', '{':
			return true
		}
	}
	return false
}

// cleanFolder checks a destination folder and returns it NFC-normalised and
// without a trailing slash ("/Reels/" and "/Reels" are the same folder).
func cleanFolder(s string) (string, string) {
	if !strings.HasPrefix(s, "/") {
		return "", `must be an absolute folder path such as "/Dailies/Day 01"`
	}
	if hasControl(s) {
		return "", "must not contain control characters"
	}
	if s == "/" {
		return s, ""
	}
	t := strings.TrimSuffix(s, "/")
	for _, seg := range strings.Split(t[1:], "/") {
		switch seg {
		case "":
			return "", `must not contain empty segments ("//")`
		case ".", "..":
			return "", `must not contain "." or ".." segments`
		}
	}
	return norm.NFC.String(t), ""
}

// checkName validates a remote entry's file name.
func checkName(s string) string {
	switch {
	case strings.Contains(s, "/"):
		return `must not contain "/"; put folders in "to"`
	case s == "." || s == "..":
		return fmt.Sprintf("must be a file name, not %q", s)
	case hasControl(s):
		return "must not contain control characters"
	}
	return ""
}

// checkURL validates a remote source and, when needName is set, derives the
// file name from the last segment of its path. Messages never repeat the
// URL: its query string may be a presigned credential.
func checkURL(s string, needName bool) (string, string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "must be an http or https URL"
	}
	if u.Host == "" {
		return "", "must be an http or https URL with a host"
	}
	if !needName {
		return "", ""
	}
	p := u.EscapedPath()
	last := p[strings.LastIndex(p, "/")+1:]
	name, err := url.PathUnescape(last)
	if err != nil || name == "" || checkName(name) != "" {
		return "", `the URL path does not end in a file name (it ends in "/" or an encoded "/"); set name`
	}
	return norm.NFC.String(name), ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
