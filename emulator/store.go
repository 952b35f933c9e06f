package emulator

import (
	"slices"
	"time"
)

// Node kinds, as the API spells them in the `type` field.
const (
	kindFolder = "folder"
	kindFile   = "file"
	kindStack  = "version_stack"
)

// File statuses, as the API spells them.
const (
	statusCreated  = "created"
	statusUploaded = "uploaded"
	statusFailed   = "upload_failed"
)

// store is the in-memory model: one account with workspaces, projects and a tree of folders,
// files and version stacks per project. Every method expects Emulator.mu to be held.
type store struct {
	userID           string
	accountID        string
	accountName      string
	accountCreatedAt time.Time
	seq              uint64 // creation order, shared by every kind so listings are stable

	workspaces map[string]*workspace
	wsOrder    []*workspace
	projects   map[string]*project
	nodes      map[string]*node

	filesCreated  int64
	filesDeleted  int64
	filesMoved    int64
	bytesReceived int64
}

type workspace struct {
	ID        string
	Name      string
	Seq       uint64
	CreatedAt time.Time
	projects  []*project
}

type project struct {
	ID           string
	Name         string
	WorkspaceID  string
	RootFolderID string
	Seq          uint64
	CreatedAt    time.Time
}

// node is a folder, a file or a version stack. Folders keep their children and stacks their
// members in order; files carry their upload progress.
type node struct {
	ID        string
	Kind      string
	Name      string
	ParentID  string // "" for a project's root folder; a stack's id for a stacked file
	ProjectID string
	Seq       uint64
	CreatedAt time.Time
	UpdatedAt time.Time

	children []*node // folders: direct children in creation order
	members  []*node // stacks: versions, oldest first

	// Files only.
	Size        int64
	MediaType   string
	Status      string
	Parts       []int64 // part sizes; nil for remote uploads
	Received    []bool
	Gen         uint64 // bumped on every stored part, so a stale hash is never recorded
	BLAKE3      string
	Remote      bool
	UploadedAt  time.Time // first byte stored
	CompletedAt time.Time
	deleted     bool
}

func (s *store) init() {
	s.workspaces = make(map[string]*workspace)
	s.projects = make(map[string]*project)
	s.nodes = make(map[string]*node)
}

func (s *store) next() uint64 {
	s.seq++
	return s.seq
}

func (s *store) addWorkspace(name string, now time.Time) *workspace {
	ws := &workspace{ID: newID(), Name: name, Seq: s.next(), CreatedAt: now}
	s.workspaces[ws.ID] = ws
	s.wsOrder = append(s.wsOrder, ws)
	return ws
}

func (s *store) addProject(ws *workspace, name string, now time.Time) *project {
	p := &project{ID: newID(), Name: name, WorkspaceID: ws.ID, Seq: s.next(), CreatedAt: now}
	root := &node{ID: newID(), Kind: kindFolder, Name: name, ProjectID: p.ID, Seq: s.next(),
		CreatedAt: now, UpdatedAt: now}
	p.RootFolderID = root.ID
	s.projects[p.ID] = p
	s.nodes[root.ID] = root
	ws.projects = append(ws.projects, p)
	return p
}

// storage sums the sizes of the live, fully stored files of a project, or of every project
// when projectID is "".
func (s *store) storage(projectID string) int64 {
	var sum int64
	for _, n := range s.nodes {
		if n.Kind == kindFile && !n.deleted && n.Status == statusUploaded && (projectID == "" || n.ProjectID == projectID) {
			sum += n.Size
		}
	}
	return sum
}

// folder returns the folder with id, or nil.
func (s *store) folder(id string) *node {
	if n := s.nodes[id]; n != nil && n.Kind == kindFolder {
		return n
	}
	return nil
}

// file returns the live file with id, or nil.
func (s *store) file(id string) *node {
	if n := s.nodes[id]; n != nil && n.Kind == kindFile && !n.deleted {
		return n
	}
	return nil
}

// addChild creates a node under parent; seq order keeps parent.children sorted.
func (s *store) addChild(parent *node, kind, name string, now time.Time) *node {
	n := &node{ID: newID(), Kind: kind, Name: name, ParentID: parent.ID,
		ProjectID: parent.ProjectID, Seq: s.next(), CreatedAt: now, UpdatedAt: now}
	s.nodes[n.ID] = n
	parent.children = append(parent.children, n)
	return n
}

// detach removes n from its parent's children or stack members. A stack left empty is removed
// from its folder too.
func (s *store) detach(n *node) {
	parent := s.nodes[n.ParentID]
	if parent == nil {
		return
	}
	switch parent.Kind {
	case kindFolder:
		parent.children = slices.DeleteFunc(parent.children, func(c *node) bool { return c == n })
	case kindStack:
		parent.members = slices.DeleteFunc(parent.members, func(c *node) bool { return c == n })
		if len(parent.members) == 0 {
			s.detach(parent)
			delete(s.nodes, parent.ID)
		}
	}
}

// folderOf returns the folder that lists n: its parent, or its stack's parent.
func (s *store) folderOf(n *node) *node {
	p := s.nodes[n.ParentID]
	if p != nil && p.Kind == kindStack {
		p = s.nodes[p.ParentID]
	}
	return p
}

// head returns the newest version of a stack.
func (n *node) head() *node {
	if len(n.members) == 0 {
		return nil
	}
	return n.members[len(n.members)-1]
}

// receivedCount counts the parts stored so far.
func (n *node) receivedCount() int {
	c := 0
	for _, ok := range n.Received {
		if ok {
			c++
		}
	}
	return c
}

// splitParts splits size evenly into ceil(size/partSize) parts (at most maxParts), the
// remainder going one byte each to the first parts, as in Frame.io's documented example.
func splitParts(size, partSize int64) []int64 {
	if size <= 0 {
		return []int64{}
	}
	n := min((size+partSize-1)/partSize, maxParts)
	base, rem := size/n, size%n
	parts := make([]int64, n)
	for i := range parts {
		parts[i] = base
		if int64(i) < rem {
			parts[i]++
		}
	}
	return parts
}
