package partjournal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fiosync/fiosync/source"
)

// Margin is how long before its URLs expire a journal stops being resumable: parts still to
// send must have time to arrive.
const Margin = 10 * time.Minute

// Upload describes one local upload in flight.
type Upload struct {
	// FileID is the Frame.io file the parts belong to.
	FileID string `json:"file_id"`
	// MediaType is the Content-Type the parts are PUT with.
	MediaType string `json:"media_type"`
	// Source is the identity of the local file when the upload started: resuming is only
	// right while the file's stat has not moved.
	Source source.Identity `json:"source"`
	// Parts are the presigned part URLs and sizes, in order.
	Parts []Part `json:"parts"`
	// Expires is when the first of the part URLs expires.
	Expires time.Time `json:"expires"`
}

// Part is one presigned part URL.
type Part struct {
	URL  string `json:"url"`
	Size int64  `json:"size"`
}

// Size returns the bytes the parts cover.
func (u *Upload) Size() int64 {
	var n int64
	for _, p := range u.Parts {
		n += p.Size
	}
	return n
}

// Usable reports whether the upload can be resumed now, at now, for the local file whose
// current identity is cur: the same file by the stat cache's rule (source.Unchanged), of the
// size the parts cover, with URLs valid for at least Margin more.
func (u *Upload) Usable(now time.Time, cur source.Identity) bool {
	return u != nil && source.Unchanged(u.Source, cur) && u.Size() == cur.Size && now.Add(Margin).Before(u.Expires)
}

// ExpiresAt returns when a presigned URL expires, from its X-Amz-Date and X-Amz-Expires
// (AWS Signature Version 4), and false when it does not say.
func ExpiresAt(u string) (time.Time, bool) {
	parsed, err := url.Parse(u)
	if err != nil {
		return time.Time{}, false
	}
	q := parsed.Query()
	date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return date.Add(time.Duration(secs) * time.Second), true
}

// Journal is a directory of upload journals.
type Journal struct {
	dir string
}

// Open returns the journal kept in dir; nothing is created until an upload starts.
func Open(dir string) *Journal { return &Journal{dir: dir} }

// DefaultDir returns $XDG_STATE_HOME/fiosync/parts, or ~/.local/state/fiosync/parts.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "fiosync", "parts"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate the part journal: %w", err)
	}
	return filepath.Join(home, ".local", "state", "fiosync", "parts"), nil
}

func (j *Journal) path(fileID string) (string, error) {
	if fileID == "" || filepath.Base(fileID) != fileID || fileID[0] == '.' {
		return "", fmt.Errorf("part journal: invalid file id %q", fileID)
	}
	return filepath.Join(j.dir, fileID+".parts"), nil
}

// Start writes the journal of u, replacing any earlier one of the same file, and returns the
// log that records its parts as they are accepted.
func (j *Journal) Start(u Upload) (*Log, error) {
	p, err := j.path(u.FileID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create part journal: %w", err)
	}
	head, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("write part journal: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write part journal: %w", err)
	}
	if _, err := f.Write(append(head, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("write part journal: %w", err)
	}
	return &Log{f: f}, nil
}

// Resume opens the journal of fileID to record more parts, after Load said what it holds.
func (j *Journal) Resume(fileID string) (*Log, error) {
	p, err := j.path(fileID)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open part journal: %w", err)
	}
	return &Log{f: f}, nil
}

// Load returns the upload journaled for fileID and which of its parts were accepted. It
// returns an error matching fs.ErrNotExist when there is none, and ignores a last line cut
// short by a crash.
func (j *Journal) Load(fileID string) (*Upload, []bool, error) {
	p, err := j.path(fileID)
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("read part journal: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	if !sc.Scan() {
		return nil, nil, fmt.Errorf("read part journal %s: empty: %w", fileID, fs.ErrNotExist)
	}
	var u Upload
	if err := json.Unmarshal(sc.Bytes(), &u); err != nil || u.FileID != fileID {
		return nil, nil, fmt.Errorf("read part journal %s: damaged: %w", fileID, fs.ErrNotExist)
	}
	done := make([]bool, len(u.Parts))
	complete := bytes.HasSuffix(data, []byte("\n"))
	for sc.Scan() {
		line := sc.Text()
		i, err := strconv.Atoi(line)
		if err != nil || i < 0 || i >= len(done) {
			continue // a line cut short, or not ours
		}
		done[i] = true
	}
	if !complete && len(data) > 0 {
		// The last index may be cut short ("1" of "12"): do not trust it.
		last := bytes.LastIndexByte(data, '\n')
		if i, err := strconv.Atoi(string(data[last+1:])); err == nil && i >= 0 && i < len(done) {
			done[i] = false
		}
	}
	return &u, done, nil
}

// Empty reports whether the journal holds no upload, so nothing can resume from it: a plan
// over 100,000 tracked files then looks none of them up. A directory that cannot be read is
// not empty, so that each upload's Load meets the error.
func (j *Journal) Empty() bool {
	f, err := os.Open(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return len(names) == 0 && err == io.EOF
}

// Remove deletes the journal of fileID; a missing one is fine.
func (j *Journal) Remove(fileID string) error {
	p, err := j.path(fileID)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove part journal: %w", err)
	}
	return nil
}

// Log records the parts of one upload as Frame.io accepts them. It is safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// Done records that part i was accepted. A failure to record is kept for Close and otherwise
// ignored: the part is then only sent again on a resume.
func (l *Log) Done(i int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.WriteString(strconv.Itoa(i) + "\n"); err != nil && l.err == nil {
		l.err = err
	}
}

// Close closes the log and returns the first error it met.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.f.Close()
	if l.err != nil {
		return fmt.Errorf("write part journal: %w", l.err)
	}
	return err
}
