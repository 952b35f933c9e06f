package manifest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/source"
)

// DefaultFile is the manifest's file name when the user names none.
const DefaultFile = "fiosync.yaml"

// maxSize bounds what Load reads: a manifest is a few hundred lines, and a
// bound keeps a mistaken path (a video, /dev/zero) from filling memory.
const maxSize = 1 << 20

// Manifest is a parsed and validated fiosync.yaml.
type Manifest struct {
	// Path is the file name as given to Load or Parse; messages use it.
	Path string
	// Dir is the absolute directory holding the manifest. Load resolves
	// symlinks in it; local sources are relative to it and must stay inside.
	Dir     string
	Version int
	Target  Target
	// Prune lets plan delete files that fiosync uploaded and the manifest no
	// longer lists.
	Prune    bool
	PrunePos Pos
	// Exclude holds the top-level exclude patterns, applied to every local entry's walk
	// besides its own (see Policy); ExcludePos their positions.
	Exclude    []string
	ExcludePos []Pos
	// NoDefaultExcludes turns DefaultExcludes off (exclude_defaults: false).
	NoDefaultExcludes bool
	Uploads           []Upload
	// Ignore names the files Expand leaves out besides the manifest itself. Load and
	// Parse leave it empty; the caller sets it before Expand.
	Ignore Ignore
}

// Ignore names files that Expand leaves out wherever a walk meets them, so that the
// bookkeeping of the program running it (state, backup, lock and plan files) is never
// uploaded, even from inside an uploaded tree. Files left out are not errors and not
// warnings; an entry that names only such files matches no files.
type Ignore struct {
	// Paths are files left out by path: absolute, or relative to the working directory.
	// Symlinks in their directories are resolved, so any spelling of a path matches,
	// and so does a symlink in the tree that leads to one of them.
	Paths []string
	// Names are patterns (as in path.Match, with ** too) matched against the name of
	// every file and directory met, such as "*.state.json*". A directory that matches is
	// not walked.
	Names []string
}

// Target names the Frame.io project to sync into, after ${VAR} expansion.
// Account and Workspace are optional (empty when omitted).
type Target struct {
	Account, Workspace, Project          string
	AccountPos, WorkspacePos, ProjectPos Pos
	Pos                                  Pos // the target mapping itself
}

// OnChange says what apply does when a tracked local file's content changes.
type OnChange string

// The values of on_change.
const (
	// OnChangeVersion uploads the new file and stacks it on the old one.
	OnChangeVersion OnChange = "version"
	// OnChangeReplace uploads the new file and deletes the old one.
	OnChangeReplace OnChange = "replace"
	// OnChangeKeep uploads the new file beside the old one.
	OnChangeKeep OnChange = "keep"
	// OnChangeError refuses to update a delivered file whose content changed (camera
	// originals): plan fails naming it. An explicit plan --replace still uploads it again, as
	// version does.
	OnChangeError OnChange = "error"
)

// MHLAuto is the mhl value that finds the histories itself: at or above the entry's source,
// and nested below it (one per card).
const MHLAuto = "auto"

// Upload is one entry of the uploads list. Exactly one of Local and Remote
// is set.
type Upload struct {
	// Index is the entry's place in the list: uploads[Index].
	Index int
	// Pos is the position of the list item (its first key).
	Pos Pos
	// Local is the source path as written (after ${VAR} expansion): a file,
	// a directory or a glob, slash-separated, relative to Manifest.Dir.
	Local string
	// Remote is the source URL as written (after ${VAR} expansion).
	Remote string
	// To is the destination folder: absolute, NFC-normalised, without a
	// trailing slash ("/" is the project root).
	To string
	// Name is the file name of a remote entry: as written, or the last
	// segment of the URL path when the manifest leaves it out. Always empty
	// for local entries.
	Name string
	// Exclude holds patterns matched against paths relative to the entry's
	// base (the directory, or the glob's fixed prefix).
	Exclude  []string
	OnChange OnChange
	// AllowOutside lets a local source, or a symlink under it, point
	// outside Manifest.Dir.
	AllowOutside bool
	// StatRule is how the entry's files are trusted unchanged without being read
	// (stat_cache: full, the default, or size_mtime).
	StatRule source.StatRule
	// StableFor holds back a file whose mtime or ctime (any write, a size change included)
	// is more recent than this (stable_for): a plan leaves it waiting. 0 waits for nothing.
	StableFor time.Duration
	// Priority orders the uploads of apply: files of a higher priority start before those of
	// a lower one (priority, default 0); apply --order-by orders files of equal priority.
	Priority int
	// MHL names the ASC MHL hash history the entry's files are checked against: "" (none),
	// MHLAuto, or a folder holding an ascmhl history, as written (relative to Manifest.Dir).
	MHL string

	// Positions of the values, for messages. A zero Pos means the key is
	// absent.
	LocalPos, RemotePos, ToPos, NamePos, OnChangePos, StableForPos, MHLPos Pos
	ExcludePos                                                             []Pos
}

// IsRemote reports whether u uploads from a URL rather than from disk.
func (u *Upload) IsRemote() bool { return u.Remote != "" }

// Field returns the user-facing name of one of u's settings, such as
// "uploads[2].to", for messages.
func (u *Upload) Field(key string) string {
	if key == "" {
		return fmt.Sprintf("uploads[%d]", u.Index)
	}
	return fmt.Sprintf("uploads[%d].%s", u.Index, key)
}

// Option changes how Load and Parse read a manifest.
type Option func(*parser)

// WithVarCheck has check decide, before each ${NAME} is expanded, whether it may be: check gets
// the variable's name and value and returns nil to allow it, or an error saying why not, which
// is reported at the value's position. The value itself is never shown. The CLI refuses
// credentials this way; this package knows nothing about them.
func WithVarCheck(check func(name, value string) error) Option {
	return func(p *parser) { p.checkVar = check }
}

// WithPartial makes a Parse (or Load) that finds problems still set *out to a manifest of
// what parsed. A
// caller that reports every problem at once (fiosync validate) expands it too, rather than
// making the user fix the manifest in rounds; its uploads with problems are left empty
// (neither local nor remote), and expanding it skips them. *out stays nil when the file is no YAML
// mapping at all. Plan and apply never use a partial manifest.
func WithPartial(out **Manifest) Option {
	return func(p *parser) { p.partial = out }
}

// Load reads, parses and validates the manifest at path, expanding ${VAR}
// from the process environment. Problems with the content come back together
// as an ErrorList; a file that cannot be read is an ordinary error.
func Load(path string, opts ...Option) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %q: %w", path, err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("read manifest %q: larger than %s; is it really a manifest?", path, display.Bytes(maxSize))
	}
	m, err := Parse(path, data, os.LookupEnv, opts...)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.EvalSymlinks(m.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve manifest directory: %w", err)
	}
	m.Dir = dir
	return m, nil
}

// Parse parses and validates a manifest held in memory. path is used in
// messages and to set Manifest.Dir (made absolute, symlinks not resolved);
// lookupEnv resolves ${VAR} (pass os.LookupEnv, or a map lookup in tests).
// Parse never touches the file system beyond making Dir absolute.
func Parse(path string, data []byte, lookupEnv func(string) (string, bool), opts ...Option) (*Manifest, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("locate manifest directory: %w", err)
	}
	p := &parser{file: path, data: data, lookupEnv: lookupEnv}
	for _, o := range opts {
		o(p)
	}
	m := p.parse()
	if len(p.errs) > 0 {
		p.errs.sort()
		if p.partial != nil && m != nil {
			m.Path, m.Dir = path, dir
			for _, i := range p.broken {
				// Neither local nor remote: Expand skips it.
				m.Uploads[i] = Upload{Index: m.Uploads[i].Index, Pos: m.Uploads[i].Pos}
			}
			*p.partial = m
		}
		return nil, p.errs
	}
	m.Path = path
	m.Dir = dir
	return m, nil
}

// RemoteURL returns the URL, as written, of the remote entry that produces addr, and
// whether there is one. Plans record a remote source without its query string (it may
// carry a signature), so apply takes the URL itself from here.
func (m *Manifest) RemoteURL(addr string) (string, bool) {
	for i := range m.Uploads {
		if u := &m.Uploads[i]; u.IsRemote() && address(u.To, u.Name) == addr {
			return u.Remote, true
		}
	}
	return "", false
}
