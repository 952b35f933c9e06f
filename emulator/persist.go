package emulator

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// snapshotName is the metadata file kept in DataDir next to the part bytes.
const snapshotName = "emulator.json"

const snapshotVersion = 1

// snapshot is the metadata of a store as written to DataDir. It carries no token and no
// signing secret: after a restart the emulator has a new token, and part URLs issued before it
// are refused with 403 (the client's "expired URL" path: delete the file and create it again).
type snapshot struct {
	Version       int          `json:"version"`
	UserID        string       `json:"user_id"`
	AccountID     string       `json:"account_id"`
	AccountName   string       `json:"account_name"`
	AccountAt     time.Time    `json:"account_created_at"`
	Seq           uint64       `json:"seq"`
	Seed          Seed         `json:"seed"`
	Workspaces    []*workspace `json:"workspaces"`
	Projects      []*project   `json:"projects"`
	Nodes         []snapNode   `json:"nodes"`
	FilesCreated  int64        `json:"files_created"`
	FilesDeleted  int64        `json:"files_deleted"`
	FilesMoved    int64        `json:"files_moved,omitempty"`
	BytesReceived int64        `json:"bytes_received"`
}

type snapNode struct {
	Node    *node    `json:"node"`
	Members []string `json:"members,omitempty"` // stacks: file ids, oldest first
}

// saveSnapshot writes the store's metadata to DataDir atomically. The store is copied to JSON
// under the lock and written after releasing it.
func (e *Emulator) saveSnapshot() error {
	e.mu.Lock()
	s := snapshot{
		Version:       snapshotVersion,
		UserID:        e.st.userID,
		AccountID:     e.st.accountID,
		AccountName:   e.st.accountName,
		AccountAt:     e.st.accountCreatedAt,
		Seq:           e.st.seq,
		Seed:          e.seed,
		Workspaces:    e.st.wsOrder,
		FilesCreated:  e.st.filesCreated,
		FilesDeleted:  e.st.filesDeleted,
		FilesMoved:    e.st.filesMoved,
		BytesReceived: e.st.bytesReceived,
	}
	s.Seed.Token, s.Seed.IMSClientSecret = "", ""
	for _, p := range e.st.projects {
		s.Projects = append(s.Projects, p)
	}
	for _, n := range e.st.nodes {
		if n.deleted {
			continue
		}
		sn := snapNode{Node: n}
		for _, m := range n.members {
			sn.Members = append(sn.Members, m.ID)
		}
		s.Nodes = append(s.Nodes, sn)
	}
	slices.SortFunc(s.Projects, func(a, b *project) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortFunc(s.Nodes, func(a, b snapNode) int { return cmp.Compare(a.Node.Seq, b.Node.Seq) })
	data, err := json.MarshalIndent(s, "", "  ")
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}

	if err := writePrivate(filepath.Join(e.dataDir, snapshotName), data); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// writePrivate writes data to path, readable by its owner only: into a temporary file beside
// it, synced, then renamed over it, so a reader (the next emulator start) sees the old file
// or the new one, whole. The snapshot and the kept token go through it.
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loadSnapshot restores the store from DataDir; it reports false when there is no snapshot.
func (e *Emulator) loadSnapshot() (bool, error) {
	path := filepath.Join(e.dataDir, snapshotName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read snapshot: %w", err)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return false, fmt.Errorf("read snapshot %q: %w", path, err)
	}
	if s.Version != snapshotVersion {
		return false, fmt.Errorf("read snapshot %q: version %d, want %d", path, s.Version, snapshotVersion)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.st
	st.userID, st.accountID, st.accountName, st.seq = s.UserID, s.AccountID, s.AccountName, s.Seq
	st.accountCreatedAt = s.AccountAt
	st.filesCreated, st.filesDeleted, st.bytesReceived = s.FilesCreated, s.FilesDeleted, s.BytesReceived
	st.filesMoved = s.FilesMoved
	e.seed = s.Seed
	e.seed.IMSPublicClientID, e.seed.IMSClientID, e.seed.IMSClientSecret = PublicClientID, ServerClientID, ServerClientSecret
	for _, ws := range s.Workspaces {
		if ws == nil {
			continue
		}
		st.workspaces[ws.ID] = ws
		st.wsOrder = append(st.wsOrder, ws)
	}
	for _, p := range s.Projects { // sorted by Seq when saved
		ws := st.workspaces[p.WorkspaceID]
		if p == nil || ws == nil {
			return false, fmt.Errorf("read snapshot %q: project without a workspace", path)
		}
		st.projects[p.ID] = p
		ws.projects = append(ws.projects, p)
	}
	for _, sn := range s.Nodes {
		n := sn.Node
		if n == nil {
			return false, fmt.Errorf("read snapshot %q: empty node", path)
		}
		if n.Kind == kindFile && len(n.Received) != len(n.Parts) && !n.Remote {
			return false, fmt.Errorf("read snapshot %q: file %s has inconsistent parts", path, n.ID)
		}
		st.nodes[n.ID] = n
	}
	for _, sn := range s.Nodes { // in Seq order, so children come out in creation order
		n := sn.Node
		if parent := st.nodes[n.ParentID]; parent != nil && parent.Kind == kindFolder {
			parent.children = append(parent.children, n)
		}
		for _, id := range sn.Members {
			if m := st.nodes[id]; m != nil {
				n.members = append(n.members, m)
			}
		}
	}
	return true, nil
}
