package receipt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
)

// FormatVersion is the version of the receipt's JSON form.
const FormatVersion = "1"

// Receipt is a delivery receipt.
type Receipt struct {
	FormatVersion string    `json:"format_version"`
	GeneratedAt   time.Time `json:"generated_at"`
	State         StateRef  `json:"state"`
	Target        Target    `json:"target"`
	Files         []File    `json:"files"`
	Summary       Summary   `json:"summary"`
	// Checksum is the BLAKE3 of the canonical content (see the package documentation).
	Checksum string `json:"checksum"`
}

// StateRef names the state the receipt was made from.
type StateRef struct {
	Lineage string `json:"lineage"`
	Serial  uint64 `json:"serial"`
}

// Target is the Frame.io project of the delivery.
type Target struct {
	AccountID   string `json:"account_id"`
	WorkspaceID string `json:"workspace_id"`
	ProjectID   string `json:"project_id"`
	Project     string `json:"project,omitempty"`
}

// File is one delivered address.
type File struct {
	Address string `json:"address"`
	// Kind is "local" or "remote"; Source is the path relative to the manifest, or the URL
	// without its query string.
	Kind   string `json:"kind"`
	Source string `json:"source"`
	// Size and BLAKE3 are the content delivered: the source's for a local file, what verify
	// downloaded for a remote one ("" when never verified).
	Size           int64  `json:"size"`
	BLAKE3         string `json:"blake3"`
	FileID         string `json:"file_id"`
	VersionStackID string `json:"version_stack_id,omitempty"`
	ViewURL        string `json:"view_url"`
	UploadedAt     string `json:"uploaded_at"`
	// VerifiedAt is when verify last found the file as expected, "" when it did not (never
	// ran, or its last run found a mismatch).
	VerifiedAt string `json:"verified_at"`
}

// Summary counts the files.
type Summary struct {
	Files    int   `json:"files"`
	Bytes    int64 `json:"bytes"`
	Verified int   `json:"verified"`
}

// Build makes the receipt of st's complete entries, asking Frame.io for each file's view_url
// (one listing per folder, and a GET for a file the listing does not show, such as one in a
// version stack). A file Frame.io does not have is an error: a receipt lists what is there.
func Build(ctx context.Context, client *frameio.Client, st *state.State, now time.Time) (*Receipt, error) {
	r := &Receipt{
		FormatVersion: FormatVersion,
		GeneratedAt:   now.UTC().Truncate(time.Second),
		State:         StateRef{Lineage: st.Lineage, Serial: st.Serial},
		Target: Target{AccountID: st.Target.AccountID, WorkspaceID: st.Target.WorkspaceID,
			ProjectID: st.Target.ProjectID, Project: st.Target.Project},
		Files: []File{},
	}
	views, err := viewURLs(ctx, client, st)
	if err != nil {
		return nil, err
	}
	for _, a := range st.Addresses() {
		e := st.Entries[a]
		if e.Status != state.StatusComplete || e.FileID == "" {
			continue
		}
		f := File{Address: a, Kind: string(e.Source.Kind), FileID: e.FileID, VersionStackID: e.VersionStackID,
			ViewURL: views[e.FileID], UploadedAt: stamp(e.UploadedAt)}
		f.Source = e.Source.Path
		if e.Source.Kind == source.Remote {
			f.Source = e.Source.URL
		}
		if hash, size, ok := e.Expected(); ok {
			f.BLAKE3, f.Size = hash.String(), size
		}
		if e.Verified() {
			f.VerifiedAt = stamp(e.VerifiedAt)
			r.Summary.Verified++
		}
		r.Files = append(r.Files, f)
		r.Summary.Bytes += f.Size
	}
	r.Summary.Files = len(r.Files)
	return r, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// viewURLs returns the view_url of every complete entry's file, by file id.
func viewURLs(ctx context.Context, client *frameio.Client, st *state.State) (map[string]string, error) {
	want := map[string]string{} // file id -> address
	parents := map[string]bool{}
	for a, e := range st.Entries {
		if e.Status == state.StatusComplete && e.FileID != "" {
			want[e.FileID] = a
			if e.ParentID != "" {
				parents[e.ParentID] = true
			}
		}
	}
	views := map[string]string{}
	for parent := range parents {
		for f, err := range client.Files(ctx, st.Target.AccountID, parent) {
			if frameio.IsNotFound(err) {
				break // the folder is gone; its files are looked up one by one below
			}
			if err != nil {
				return nil, fmt.Errorf("receipt: list folder %s: %w", parent, err)
			}
			if want[f.ID] != "" {
				views[f.ID] = f.ViewURL
			}
		}
	}
	for id, addr := range want {
		if _, ok := views[id]; ok {
			continue
		}
		f, err := client.File(ctx, st.Target.AccountID, id)
		if frameio.IsNotFound(err) {
			return nil, fmt.Errorf("receipt: %s: Frame.io has no file %s any more (deleted since it was delivered?): %w", addr, id, ErrMissing)
		}
		if err != nil {
			return nil, fmt.Errorf("receipt: %s: file %s: %w", addr, id, err)
		}
		views[id] = f.ViewURL
	}
	return views, nil
}

// ErrMissing means a file the state records as delivered is not in Frame.io: a receipt
// lists only what is there.
var ErrMissing = errors.New("a delivered file is missing")

// checksumRE finds the checksum member as Encode writes it.
var checksumRE = regexp.MustCompile(`"checksum": "(blake3:[0-9a-f]{64})?"\n}\n$`)

// Encode returns the JSON form of r with its checksum filled in (r.Checksum is set too).
func Encode(r *Receipt) ([]byte, error) {
	r.Checksum = ""
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode receipt: %w", err)
	}
	body = append(body, '\n')
	if !checksumRE.Match(body) {
		return nil, errors.New("encode receipt: the checksum is not the last member")
	}
	sum := source.Digest(blake3.Sum256(body))
	r.Checksum = sum.String()
	return bytes.Replace(body, []byte(`"checksum": ""`), []byte(`"checksum": "`+r.Checksum+`"`), 1), nil
}

// ErrChecksum means a receipt's bytes do not hash to the checksum it carries: it was edited
// or damaged after fiosync wrote it.
var ErrChecksum = errors.New("the receipt's checksum does not match its content (edited or damaged)")

// Decode parses a receipt's JSON form and checks its checksum (ErrChecksum when it does
// not match).
func Decode(data []byte) (*Receipt, error) {
	m := checksumRE.FindSubmatchIndex(data)
	if m == nil || m[2] < 0 {
		return nil, fmt.Errorf("read receipt: no checksum as its last member: %w", ErrChecksum)
	}
	claimed := string(data[m[2]:m[3]])
	canonical := slices.Concat(data[:m[2]], data[m[3]:])
	if got := source.Digest(blake3.Sum256(canonical)).String(); got != claimed {
		return nil, fmt.Errorf("read receipt: it says %s, its content hashes to %s: %w", claimed, got, ErrChecksum)
	}
	var r Receipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read receipt: %w", err)
	}
	if r.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read receipt: format version %q, this fiosync reads %q", r.FormatVersion, FormatVersion)
	}
	return &r, nil
}
