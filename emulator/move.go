package emulator

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
)

// The move and rename endpoints, as the V4 API reference (developer.frame.io/platform/
// api-reference: files/move, files/bulk-move, version-stacks/move, files/update) gives them:
//
//	PATCH /v4/accounts/{a}/files/{id}/move            {"data":{"parent_id"}}        200 File        100/min
//	PATCH /v4/accounts/{a}/files/move                 {"data":{"file_ids","parent_id"}} 200 [File] 60/min
//	PATCH /v4/accounts/{a}/version_stacks/{id}/move   {"data":{"parent_id"}}        200 VersionStack 10/min
//	PATCH /v4/accounts/{a}/files/{id}                 {"data":{"name"}}             200 File        100/min
//
// A move keeps the node: its id, its versions (a stack moves with its members) and, on
// Frame.io, its comments. Where the reference is silent the emulator decides: the destination
// must be a folder of the same project (a different project is 422 on parent_id); files.move
// may also name a version stack as parent_id (the reference's "to a folder or version_stack"),
// which adds the file as the stack's newest version; files.move of a stacked file to a folder
// takes it out of its stack; the bulk move checks every id before it moves any (all or
// nothing); moving a folder into itself cannot happen, as only files and stacks move.

type moveBody struct {
	ParentID *string  `json:"parent_id"`
	FileIDs  []string `json:"file_ids"`
}

// moveTarget looks up the destination named by parent_id for node n's project. Callers hold
// e.mu.
func (e *Emulator) moveTarget(parentID *string, projectID string, allowStack bool) (*node, *apiError) {
	if parentID == nil || *parentID == "" {
		return nil, errPointer(http.StatusUnprocessableEntity, "/data/parent_id", "parent_id is required")
	}
	p := e.st.nodes[*parentID]
	if p == nil || (p.Kind != kindFolder && !(allowStack && p.Kind == kindStack)) {
		return nil, errPointer(http.StatusNotFound, "/data/parent_id", "folder "+*parentID+" not found")
	}
	if p.ProjectID != projectID {
		return nil, errPointer(http.StatusUnprocessableEntity, "/data/parent_id", "folder "+*parentID+" is in another project")
	}
	return p, nil
}

// place puts node n under folder or stack p, keeping children in creation order so `after`
// cursors stay stable. Callers hold e.mu.
func (e *Emulator) place(n, p *node) {
	if n.ParentID == p.ID {
		return
	}
	e.st.detach(n)
	n.ParentID = p.ID
	n.UpdatedAt = e.now()
	if p.Kind == kindStack {
		p.members = append(p.members, n)
		p.Name = p.head().Name
		p.UpdatedAt = n.UpdatedAt
		return
	}
	i, _ := slices.BinarySearchFunc(p.children, n.Seq, func(c *node, seq uint64) int { return cmp.Compare(c.Seq, seq) })
	p.children = slices.Insert(p.children, i, n)
}

func (e *Emulator) handleMoveFile(w http.ResponseWriter, r *http.Request) *apiError {
	return e.moveOne(w, r, e.fileFor, true)
}

func (e *Emulator) handleMoveStack(w http.ResponseWriter, r *http.Request) *apiError {
	return e.moveOne(w, r, e.stackFor, false)
}

// moveOne answers files.move and version_stacks.move: lookup finds the path's file or stack,
// which moves into the body's parent_id (a version stack too when intoStack).
func (e *Emulator) moveOne(w http.ResponseWriter, r *http.Request, lookup func(*http.Request) (*node, *apiError), intoStack bool) *apiError {
	var body moveBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	out, err := func() (any, *apiError) {
		e.mu.Lock()
		defer e.mu.Unlock()
		n, err := lookup(r)
		if err != nil {
			return nil, err
		}
		p, err := e.moveTarget(body.ParentID, n.ProjectID, intoStack)
		if err != nil {
			return nil, err
		}
		e.place(n, p)
		if n.Kind == kindStack {
			e.st.filesMoved += int64(len(n.members))
		} else {
			e.st.filesMoved++
		}
		return e.render(r, n), nil
	}()
	if err != nil {
		return err
	}
	writeData(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) handleBulkMove(w http.ResponseWriter, r *http.Request) *apiError {
	var body moveBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if len(body.FileIDs) < 1 || len(body.FileIDs) > maxBulkMove {
		return errPointer(http.StatusUnprocessableEntity, "/data/file_ids", "file_ids must name 1 to 100 files")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.checkAccount(r); err != nil {
		return err
	}
	files := make([]*node, 0, len(body.FileIDs))
	for i, id := range body.FileIDs {
		ptr := "/data/file_ids/" + strconv.Itoa(i)
		n := e.st.file(id)
		if n == nil {
			return errPointer(http.StatusNotFound, ptr, "file "+id+" not found")
		}
		if slices.Contains(files, n) {
			return errPointer(http.StatusUnprocessableEntity, ptr, "file "+id+" is listed twice")
		}
		files = append(files, n)
	}
	var p *node
	for _, n := range files {
		var err *apiError
		if p, err = e.moveTarget(body.ParentID, n.ProjectID, false); err != nil {
			return err
		}
	}
	out := make([]fileJSON, 0, len(files))
	for _, n := range files {
		e.place(n, p)
		e.st.filesMoved++
		out = append(out, e.renderFile(r, n))
	}
	writeData(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) handleUpdateFile(w http.ResponseWriter, r *http.Request) *apiError {
	var body nameBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if err := checkName(body.Name); err != nil {
		return err
	}
	e.mu.Lock()
	n, err := e.fileFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	n.Name = *body.Name
	n.UpdatedAt = e.now()
	if p := e.st.nodes[n.ParentID]; p != nil && p.Kind == kindStack {
		p.Name = p.head().Name
	}
	out := e.renderFile(r, n)
	e.mu.Unlock()
	writeData(w, http.StatusOK, out)
	return nil
}
