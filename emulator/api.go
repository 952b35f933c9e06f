package emulator

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// routes registers every endpoint. The route patterns double as the stats keys, so they are
// spelled exactly as in frameio-v4.md.
func (e *Emulator) routes() {
	m := e.mux
	for _, rt := range []struct {
		pattern string
		class   limitClass
		h       func(http.ResponseWriter, *http.Request) *apiError
	}{
		{"GET /v4/me", classListing, e.handleMe},
		{"GET /v4/accounts", classListing, e.handleAccounts},
		{"GET /v4/accounts/{a}/workspaces", classListing, e.handleWorkspaces},
		{"GET /v4/accounts/{a}/workspaces/{w}/projects", classListing, e.handleProjects},
		{"GET /v4/accounts/{a}/projects/{p}", classListing, e.handleProject},
		{"GET /v4/accounts/{a}/folders/{f}", classFiles, e.handleShowFolder},
		{"GET /v4/accounts/{a}/folders/{f}/children", classListing, e.handleChildren},
		{"GET /v4/accounts/{a}/folders/{f}/folders", classFiles, e.handleFolders},
		{"GET /v4/accounts/{a}/folders/{f}/files", classFiles, e.handleFiles},
		{"POST /v4/accounts/{a}/folders/{f}/folders", classFolder, e.handleCreateFolder},
		{"POST /v4/accounts/{a}/folders/{f}/files/local_upload", classFiles, e.handleLocalUpload},
		{"POST /v4/accounts/{a}/folders/{f}/files/remote_upload", classFiles, e.handleRemoteUpload},
		{"GET /v4/accounts/{a}/files/{id}", classFiles, e.handleShowFile},
		{"GET /v4/accounts/{a}/files/{id}/status", classFiles, e.handleStatus},
		{"DELETE /v4/accounts/{a}/files/{id}", classListing, e.handleDeleteFile},
		{"PATCH /v4/accounts/{a}/files/{id}", classListing, e.handleUpdateFile},
		{"PATCH /v4/accounts/{a}/files/{id}/move", classListing, e.handleMoveFile},
		{"PATCH /v4/accounts/{a}/files/move", classBulk, e.handleBulkMove},
		{"PATCH /v4/accounts/{a}/version_stacks/{id}/move", classStack, e.handleMoveStack},
		{"GET /v4/accounts/{a}/folders/{f}/version_stacks", classFiles, e.handleFolderStacks},
		{"POST /v4/accounts/{a}/folders/{f}/version_stacks", classStack, e.handleVersionStack},
		{"GET /v4/accounts/{a}/version_stacks/{id}", classFiles, e.handleShowStack},
		{"GET /v4/accounts/{a}/version_stacks/{id}/children", classListing, e.handleStackChildren},
	} {
		m.Handle(rt.pattern, e.api(rt.pattern, rt.class, rt.h))
	}
	m.HandleFunc("PUT /_parts/{id}/{n}", e.handlePart)
	m.HandleFunc("GET /_files/{id}/original", e.handleOriginal)
	m.HandleFunc("GET /_emulator/files/{id}", e.handleTestFile)
	m.HandleFunc("GET /_emulator/stats", e.handleTestStats)
	m.HandleFunc("POST /_emulator/files/{id}/corrupt", e.handleTestCorrupt)
	m.HandleFunc("GET /_emulator/downloads", e.handleTestDownloads)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errStatus(http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path))
	})
}

// checkAccount answers 404 unless the path's account is the emulator's. Callers hold e.mu.
func (e *Emulator) checkAccount(r *http.Request) *apiError {
	if a := r.PathValue("a"); a != e.st.accountID {
		return errNotFound("account", a)
	}
	return nil
}

func (e *Emulator) handleMe(w http.ResponseWriter, _ *http.Request) *apiError {
	e.mu.Lock()
	me := meJSON{ID: e.st.userID, Name: "Emulator User", Email: "emulator@fiosync.invalid"} // no avatar: null
	e.mu.Unlock()
	writeData(w, http.StatusOK, me)
	return nil
}

func (e *Emulator) handleAccounts(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	items := []item{{seq: 0, v: accountJSON{ID: e.st.accountID, DisplayName: e.st.accountName, Roles: []string{"owner"},
		StorageUsage: e.st.storage(""), CreatedAt: e.st.accountCreatedAt, UpdatedAt: e.st.accountCreatedAt}}}
	e.mu.Unlock()
	return writePage(w, r, items, maxPageSize)
}

func (e *Emulator) handleWorkspaces(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	if err := e.checkAccount(r); err != nil {
		e.mu.Unlock()
		return err
	}
	items := make([]item, 0, len(e.st.wsOrder))
	for _, ws := range e.st.wsOrder {
		items = append(items, item{ws.Seq, workspaceJSON{ID: ws.ID, Name: ws.Name, AccountID: e.st.accountID,
			CreatedAt: ws.CreatedAt, UpdatedAt: ws.CreatedAt}})
	}
	e.mu.Unlock()
	return writePage(w, r, items, maxPageSize)
}

func (e *Emulator) handleProjects(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	if err := e.checkAccount(r); err != nil {
		e.mu.Unlock()
		return err
	}
	ws := e.st.workspaces[r.PathValue("w")]
	if ws == nil {
		e.mu.Unlock()
		return errNotFound("workspace", r.PathValue("w"))
	}
	items := make([]item, 0, len(ws.projects))
	for _, p := range ws.projects {
		items = append(items, item{p.Seq, e.projectJSON(r, p)})
	}
	e.mu.Unlock()
	return writePage(w, r, items, maxPageSize)
}

// projectJSON renders a project; storage counts the bytes of its files. Callers hold e.mu.
func (e *Emulator) projectJSON(r *http.Request, p *project) projectJSON {
	return projectJSON{ID: p.ID, Name: p.Name, RootFolderID: p.RootFolderID, WorkspaceID: p.WorkspaceID,
		Status: "active", Storage: e.st.storage(p.ID), CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt,
		ViewURL: "http://" + r.Host + "/project/" + p.ID}
}

func (e *Emulator) handleProject(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	if err := e.checkAccount(r); err != nil {
		e.mu.Unlock()
		return err
	}
	p := e.st.projects[r.PathValue("p")]
	if p == nil {
		e.mu.Unlock()
		return errNotFound("project", r.PathValue("p"))
	}
	out := e.projectJSON(r, p)
	e.mu.Unlock()
	writeData(w, http.StatusOK, out)
	return nil
}

// listFolder answers a folder listing with the children that keep returns true for.
func (e *Emulator) listFolder(w http.ResponseWriter, r *http.Request, keep func(*node) bool) *apiError {
	e.mu.Lock()
	f, err := e.folderFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	items := make([]item, 0, len(f.children))
	for _, c := range f.children {
		if keep(c) {
			items = append(items, item{c.Seq, e.render(r, c)})
		}
	}
	e.mu.Unlock()
	return writePage(w, r, items, e.opts.MaxAssetPageSize)
}

func (e *Emulator) handleShowFolder(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	f, err := e.folderFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	out := e.render(r, f)
	e.mu.Unlock()
	writeData(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) handleChildren(w http.ResponseWriter, r *http.Request) *apiError {
	kinds := map[string]bool{kindFile: true, kindFolder: true, kindStack: true}
	if t := r.URL.Query().Get("type"); t != "" {
		kinds = map[string]bool{}
		for k := range strings.SplitSeq(t, ",") {
			k = strings.TrimSpace(k)
			if k != kindFile && k != kindFolder && k != kindStack {
				return errParameter("type", "type must list file, folder or version_stack, not "+strconv.Quote(k))
			}
			kinds[k] = true
		}
	}
	return e.listFolder(w, r, func(n *node) bool { return kinds[n.Kind] })
}

func (e *Emulator) handleFolders(w http.ResponseWriter, r *http.Request) *apiError {
	return e.listFolder(w, r, func(n *node) bool { return n.Kind == kindFolder })
}

func (e *Emulator) handleFiles(w http.ResponseWriter, r *http.Request) *apiError {
	return e.listFolder(w, r, func(n *node) bool { return n.Kind == kindFile })
}

func (e *Emulator) handleFolderStacks(w http.ResponseWriter, r *http.Request) *apiError {
	return e.listFolder(w, r, func(n *node) bool { return n.Kind == kindStack })
}

// stackFor looks up the path's version stack. Callers hold e.mu.
func (e *Emulator) stackFor(r *http.Request) (*node, *apiError) {
	if err := e.checkAccount(r); err != nil {
		return nil, err
	}
	n := e.st.nodes[r.PathValue("id")]
	if n == nil || n.Kind != kindStack {
		return nil, errNotFound("version stack", r.PathValue("id"))
	}
	return n, nil
}

func (e *Emulator) handleShowStack(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	n, err := e.stackFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	out := e.render(r, n)
	e.mu.Unlock()
	writeData(w, http.StatusOK, out)
	return nil
}

// handleStackChildren lists a stack's versions in creation order, like every listing.
func (e *Emulator) handleStackChildren(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	n, err := e.stackFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	members := slices.SortedFunc(slices.Values(n.members), func(a, b *node) int { return cmp.Compare(a.Seq, b.Seq) })
	items := make([]item, 0, len(members))
	for _, m := range members {
		items = append(items, item{m.Seq, e.renderFile(r, m)})
	}
	e.mu.Unlock()
	return writePage(w, r, items, maxPageSize)
}

// render turns a node into its API resource: a fileJSON, a folderJSON or a stackJSON.
func (e *Emulator) render(r *http.Request, n *node) any {
	switch n.Kind {
	case kindFolder:
		return folderJSON{assetJSON: e.asset(r, n)}
	case kindStack:
		out := stackJSON{assetJSON: e.asset(r, n)}
		if h := n.head(); h != nil {
			f := e.renderFile(r, h)
			out.HeadVersion = &f
		}
		return out
	}
	return e.renderFile(r, n)
}

// renderFile renders file n. The spec's file statuses are created, uploaded and transcoded: a
// failed upload stays created, and only /status says upload_failed.
func (e *Emulator) renderFile(r *http.Request, n *node) fileJSON {
	status := n.Status
	if status == statusFailed {
		status = statusCreated
	}
	return fileJSON{assetJSON: e.asset(r, n), FileSize: n.Size, MediaType: n.MediaType, Status: status}
}

// asset renders the fields every node has. view_url points at the request's origin.
func (e *Emulator) asset(r *http.Request, n *node) assetJSON {
	out := assetJSON{
		ID:        n.ID,
		Name:      n.Name,
		Type:      n.Kind,
		ProjectID: n.ProjectID,
		CreatedAt: n.CreatedAt,
		UpdatedAt: n.UpdatedAt,
		ViewURL:   "http://" + r.Host + "/view/" + n.ID,
	}
	if n.ParentID != "" {
		// A copy: the answer is encoded after the store's lock is let go, while a version
		// stack may move n.
		parent := n.ParentID
		out.ParentID = &parent
	}
	return out
}

type nameBody struct {
	Name     *string `json:"name"`
	FileSize *int64  `json:"file_size"`
	Source   *string `json:"source_url"`
}

func checkName(name *string) *apiError {
	if name == nil || strings.TrimSpace(*name) == "" {
		return errPointer(http.StatusUnprocessableEntity, "/data/name", "name must not be empty")
	}
	if strings.ContainsAny(*name, "/\x00") {
		return errPointer(http.StatusUnprocessableEntity, "/data/name", "name must not contain a slash")
	}
	return nil
}

func (e *Emulator) handleCreateFolder(w http.ResponseWriter, r *http.Request) *apiError {
	var body nameBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if err := checkName(body.Name); err != nil {
		return err
	}
	e.mu.Lock()
	parent, err := e.folderFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	n := e.st.addChild(parent, kindFolder, *body.Name, e.now())
	out := e.render(r, n)
	e.mu.Unlock()
	writeData(w, http.StatusCreated, out)
	return nil
}

func (e *Emulator) handleLocalUpload(w http.ResponseWriter, r *http.Request) *apiError {
	var body nameBody
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if err := checkName(body.Name); err != nil {
		return err
	}
	switch {
	case body.FileSize == nil:
		return errPointer(http.StatusUnprocessableEntity, "/data/file_size", "file_size is required")
	case *body.FileSize < 1:
		// The spec's minimum: Frame.io does not take empty files.
		return errPointer(http.StatusUnprocessableEntity, "/data/file_size", "file_size must be at least 1")
	case *body.FileSize > maxLocalSize:
		return errPointer(http.StatusUnprocessableEntity, "/data/file_size", "file_size must be at most 5 TB")
	}
	now := e.now()
	e.mu.Lock()
	parent, err := e.folderFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	n := e.st.addChild(parent, kindFile, *body.Name, now)
	n.Size = *body.FileSize
	n.MediaType = mediaType(n.Name)
	n.Status = statusCreated
	n.Parts = splitParts(n.Size, e.opts.PartSize)
	n.Received = make([]bool, len(n.Parts))
	e.st.filesCreated++
	out := e.renderFile(r, n)
	urls := make([]uploadURL, len(n.Parts))
	for i, size := range n.Parts {
		urls[i] = uploadURL{Size: size, URL: e.signPart(r.Host, n.ID, i, n.MediaType, now)}
	}
	e.mu.Unlock()
	out.UploadURLs = &urls
	writeData(w, http.StatusCreated, out)
	return nil
}

// folderFor looks up the path's folder for listings, creation and stacking. Callers hold e.mu.
func (e *Emulator) folderFor(r *http.Request) (*node, *apiError) {
	if err := e.checkAccount(r); err != nil {
		return nil, err
	}
	f := e.st.folder(r.PathValue("f"))
	if f == nil {
		return nil, errNotFound("folder", r.PathValue("f"))
	}
	return f, nil
}

// fileFor looks up the path's file for show, status and delete. Callers hold e.mu.
func (e *Emulator) fileFor(r *http.Request) (*node, *apiError) {
	if err := e.checkAccount(r); err != nil {
		return nil, err
	}
	n := e.st.file(r.PathValue("id"))
	if n == nil {
		return nil, errNotFound("file", r.PathValue("id"))
	}
	return n, nil
}

// showFile answers the path's file as view renders it under e.mu.
func (e *Emulator) showFile(w http.ResponseWriter, r *http.Request, view func(*node) any) *apiError {
	e.mu.Lock()
	n, err := e.fileFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	out := view(n)
	e.mu.Unlock()
	writeData(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) handleShowFile(w http.ResponseWriter, r *http.Request) *apiError {
	links, err := parseIncludes(r)
	if err != nil {
		return err
	}
	return e.showFile(w, r, func(n *node) any {
		out := e.renderFile(r, n)
		if links != nil {
			out.MediaLinks = e.mediaLinks(r, n, links)
		}
		return out
	})
}

func (e *Emulator) handleStatus(w http.ResponseWriter, r *http.Request) *apiError {
	return e.showFile(w, r, func(n *node) any { return statusOf(n) })
}

// statusOf is the upload status of file n.
func statusOf(n *node) statusJSON {
	out := statusJSON{
		ID:             n.ID,
		FileType:       n.MediaType,
		UploadComplete: n.Status == statusUploaded,
		UploadFailed:   n.Status == statusFailed,
	}
	if !n.UploadedAt.IsZero() {
		t := n.UploadedAt
		out.UploadedAt = &t
	}
	if !n.CompletedAt.IsZero() {
		t := n.CompletedAt
		out.UploadCompletedAt = &t
	}
	return out
}

func (e *Emulator) handleDeleteFile(w http.ResponseWriter, r *http.Request) *apiError {
	e.mu.Lock()
	n, err := e.fileFor(r)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	e.st.detach(n)
	n.deleted = true
	e.st.filesDeleted++
	e.mu.Unlock()
	_ = removeAll(e.partDir(n.ID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (e *Emulator) handleVersionStack(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		FileIDs []string `json:"file_ids"`
	}
	if err := decodeData(r, &body); err != nil {
		return err
	}
	if len(body.FileIDs) < 2 {
		return errPointer(http.StatusUnprocessableEntity, "/data/file_ids", "file_ids must name at least two files")
	}
	out, err := e.stack(r, body.FileIDs)
	if err != nil {
		return err
	}
	writeData(w, http.StatusCreated, out)
	return nil
}

// stack stacks the files named by ids (oldest first) in the path's folder and returns the
// stack. The first id may name a stack, or a file already in one: the others join that stack.
func (e *Emulator) stack(r *http.Request, ids []string) (any, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	folder, err := e.folderFor(r)
	if err != nil {
		return nil, err
	}
	var stack *node
	files := make([]*node, 0, len(ids))
	for i, id := range ids {
		ptr := "/data/file_ids/" + strconv.Itoa(i)
		n := e.st.nodes[id]
		if n != nil && n.Kind == kindStack && i == 0 {
			stack = n
			continue
		}
		if n == nil || n.Kind != kindFile || n.deleted {
			return nil, errPointer(http.StatusNotFound, ptr, "file "+id+" not found")
		}
		if e.st.folderOf(n) != folder {
			return nil, errPointer(http.StatusUnprocessableEntity, ptr, "file "+id+" is not in folder "+folder.ID)
		}
		if slices.Contains(files, n) {
			return nil, errPointer(http.StatusUnprocessableEntity, ptr, "file "+id+" is listed twice")
		}
		if p := e.st.nodes[n.ParentID]; p != nil && p.Kind == kindStack {
			if i != 0 {
				return nil, errPointer(http.StatusConflict, ptr, "file "+id+" is already in a version stack")
			}
			stack = p
			continue
		}
		files = append(files, n)
	}
	if stack != nil && e.st.nodes[stack.ParentID] != folder {
		return nil, errPointer(http.StatusUnprocessableEntity, "/data/file_ids/0", "version stack is not in folder "+folder.ID)
	}
	now := e.now()
	if stack == nil {
		// A new stack is a new child of the folder: it lists after everything created before
		// it, which keeps `after` cursors stable.
		stack = &node{ID: newID(), Kind: kindStack, Name: files[0].Name, ParentID: folder.ID,
			ProjectID: folder.ProjectID, Seq: e.st.next(), CreatedAt: now}
		e.st.nodes[stack.ID] = stack
		folder.children = append(folder.children, stack)
	}
	for _, f := range files {
		e.st.detach(f)
		f.ParentID = stack.ID
		f.UpdatedAt = now
		stack.members = append(stack.members, f)
	}
	stack.Name = stack.head().Name
	stack.UpdatedAt = now
	return e.render(r, stack), nil
}

// item is one entry of a listing with its creation sequence, the key of the `after` cursor.
type item struct {
	seq uint64
	v   any
}

// Page sizes: the spec's RequestPageSize (accounts, workspaces, projects, version stack
// children) allows 1 to 100, its AssetRequestPageSize (a folder's children, files, folders and
// version stacks) 1 to 500; both default to 50.
const (
	defaultPageSize      = 50
	maxPageSize          = 100
	defaultAssetPageSize = 500
)

// writePage answers one page of items (in creation order) with links.next and total_count.
// page_size may be at most maxSize.
func writePage(w http.ResponseWriter, r *http.Request, items []item, maxSize int) *apiError {
	q := r.URL.Query()
	size := defaultPageSize
	if s := q.Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSize {
			return errParameter("page_size", "page_size must be a whole number from 1 to "+strconv.Itoa(maxSize))
		}
		size = n
	}
	start := 0
	if s := q.Get("after"); s != "" {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		after, err2 := strconv.ParseUint(strings.TrimPrefix(string(raw), "seq:"), 10, 64)
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "seq:") {
			return errParameter("after", "after is not a cursor this API issued")
		}
		start, _ = slices.BinarySearchFunc(items, after+1, func(it item, seq uint64) int {
			return cmp.Compare(it.seq, seq)
		})
	}
	end := min(start+size, len(items))
	page := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		page = append(page, it.v)
	}
	out := pageJSON{Data: page}
	if end < len(items) {
		q.Set("after", base64.RawURLEncoding.EncodeToString([]byte("seq:"+strconv.FormatUint(items[end-1].seq, 10))))
		next := (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
		out.Links.Next = &next
	}
	if q.Get("include_total_count") == "true" {
		total := len(items)
		out.TotalCount = &total
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
