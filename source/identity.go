package source

import (
	"fmt"
	"io/fs"
	"time"
)

// Kind says where a file's content comes from. The manifest, the state and the plan all use
// it, and every output writes it as is.
type Kind string

// The kinds of source.
const (
	// Local content is read from a file on disk.
	Local Kind = "local"
	// Remote content is fetched by Frame.io from a URL.
	Remote Kind = "remote"
)

// Identity is what fiosync knows of a file's content without keeping the content.
//
// A local identity records the file's path (slash-separated, relative to the manifest's
// directory), its BLAKE3 once the file was read, and the stat fields (size, mtime, inode,
// ctime) that let a later run trust that hash without reading the file again (Unchanged).
// A remote identity records the URL without its query string and the BLAKE3 of the whole
// URL, so a changed signed URL is noticed without being stored.
//
// The state records one per entry, the manifest's expansion carries one per desired file
// (the walk's stat, no hash yet), and a plan's change carries the one it was made from.
type Identity struct {
	Kind Kind `json:"kind"`

	Path    string    `json:"path,omitempty"`
	Size    int64     `json:"size,omitzero"`
	ModTime time.Time `json:"mtime,omitzero"`
	Inode   uint64    `json:"inode,omitzero"`
	Ctime   time.Time `json:"ctime,omitzero"`
	Hash    Digest    `json:"hash,omitzero"`

	URL     string `json:"url,omitempty"`
	URLHash Digest `json:"url_hash,omitzero"`
}

// OfFile returns the identity of the local file rel (slash-separated, relative to the
// manifest's directory) from its stat fi, without a hash.
func OfFile(rel string, fi fs.FileInfo) Identity {
	id := Identity{
		Kind:    Local,
		Path:    rel,
		Size:    fi.Size(),
		ModTime: fi.ModTime().UTC(),
	}
	if ino, ctime, ok := statIDs(fi); ok {
		id.Inode = ino
		id.Ctime = ctime.UTC()
	}
	return id
}

// OfURL returns the identity of a remote source: the URL without its query string and the
// BLAKE3 of the whole URL.
func OfURL(u string) Identity {
	return Identity{Kind: Remote, URL: StripQuery(u), URLHash: HashURL(u)}
}

// Unchanged reports whether now, a fresh stat of a local file, shows the file unchanged
// since was was recorded: same size, mtime, inode and ctime (Full.Unchanged).
func Unchanged(was, now Identity) bool { return Full.Unchanged(was, now) }

// StatRule says which stat fields the stat cache compares.
type StatRule uint8

// The stat rules.
const (
	// Full compares size, mtime, inode and ctime. The ctime and inode catch what size and
	// mtime miss: a file rewritten and given its old mtime back (touch -r, cp -p), or
	// replaced by a copy with preserved times.
	Full StatRule = iota
	// SizeMtime compares size and mtime only, for file systems whose inode or ctime change
	// without the content (SMB and some NFS shares renumber inodes; backups touch ctime). The
	// price: a file rewritten in place with its old size and mtime put back is not noticed.
	SizeMtime
)

// Unchanged reports whether now, a fresh stat of a local file, shows the file unchanged since
// was was recorded, comparing the fields r names. This is the stat cache, and the one place
// fiosync decides that a file is unchanged without reading it; every other place that needs
// the answer calls it. When it holds, a hash recorded in was describes the file now.
func (r StatRule) Unchanged(was, now Identity) bool {
	if was.Kind != Local || now.Kind != Local || was.Size != now.Size || !was.ModTime.Equal(now.ModTime) {
		return false
	}
	return r == SizeMtime || was.Inode == now.Inode && was.Ctime.Equal(now.Ctime)
}

// DescribeChange says, for messages, what differs between two stats of one local file that
// Unchanged tells apart.
func DescribeChange(was, now Identity) string {
	const layout = "2006-01-02 15:04:05.999999999Z07:00"
	switch {
	case was.Path != now.Path:
		return fmt.Sprintf("source %q -> %q", was.Path, now.Path)
	case was.Size != now.Size:
		return fmt.Sprintf("size %d -> %d", was.Size, now.Size)
	case !was.ModTime.Equal(now.ModTime):
		return fmt.Sprintf("modified %s -> %s", was.ModTime.Format(layout), now.ModTime.Format(layout))
	case was.Inode != now.Inode:
		return "replaced by another file (inode changed)"
	default:
		return "metadata changed (ctime)"
	}
}

// SameContent reports whether a and b describe the same content: for remote sources the same
// whole URL, for local ones the same size and BLAKE3. A local identity without a hash proves
// nothing, so it is never the same content as another.
func SameContent(a, b Identity) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == Remote {
		return a.URLHash == b.URLHash
	}
	return a.Size == b.Size && !a.Hash.IsZero() && a.Hash == b.Hash
}
