package frameio

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Route templates, as frameio-v4.md and the emulator's stats name them. Each names a rate-limit
// class together with the method.
const (
	routeMe           = "/v4/me"
	routeAccounts     = "/v4/accounts"
	routeWorkspaces   = "/v4/accounts/{a}/workspaces"
	routeProjects     = "/v4/accounts/{a}/workspaces/{w}/projects"
	routeProject      = "/v4/accounts/{a}/projects/{p}"
	routeChildren     = "/v4/accounts/{a}/folders/{f}/children"
	routeFolders      = "/v4/accounts/{a}/folders/{f}/folders"
	routeFiles        = "/v4/accounts/{a}/folders/{f}/files"
	routeLocalUpload  = "/v4/accounts/{a}/folders/{f}/files/local_upload"
	routeRemoteUpload = "/v4/accounts/{a}/folders/{f}/files/remote_upload"
	routeFile         = "/v4/accounts/{a}/files/{id}"
	routeFileStatus   = "/v4/accounts/{a}/files/{id}/status"
	routeVersionStack = "/v4/accounts/{a}/folders/{f}/version_stacks"
	routeMoveFile     = "/v4/accounts/{a}/files/{id}/move"
	routeMoveFiles    = "/v4/accounts/{a}/files/move"
	routeMoveStack    = "/v4/accounts/{a}/version_stacks/{id}/move"
)

// MaxMoveFiles is how many file ids one bulk move may carry.
const MaxMoveFiles = 100

// Page sizes of asset lists (a folder's children, files and folders). The spec allows up to
// 500 (AssetRequestPageSize), so a walk of a large tree costs as few rate-limited calls as
// possible; a server that refuses 500 with 400 or 422 gets fallbackPageSize, the limit of the
// spec's other lists, for the rest of the Client's life.
const (
	assetPageSize    = 500
	fallbackPageSize = 100
)

// expand fills a route template's {x} placeholders with path-escaped ids, in order.
func expand(route string, ids ...string) string {
	var b strings.Builder
	rest := route
	for _, id := range ids {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(id))
		rest = rest[j+1:]
	}
	b.WriteString(rest)
	return b.String()
}

// checkIDs rejects empty ids before a request is made: an empty path segment would address a
// different endpoint.
func checkIDs(what string, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("%s: empty id", what)
		}
	}
	return nil
}

// one is the envelope of a single resource.
type one[T any] struct {
	Data T `json:"data"`
}

// page is the envelope of one page of a list.
type page[T any] struct {
	Data  []T `json:"data"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

// get fetches one resource of type T.
func get[T any](ctx context.Context, cl *Client, route, path string) (*T, error) {
	var env one[T]
	if err := cl.do(ctx, call{method: http.MethodGet, route: route, path: path, out: &env}); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// patch sends body with PATCH and decodes the answer into out. A PATCH that sets a parent or a
// name is idempotent, so it is retried like a read.
func patch(ctx context.Context, cl *Client, route, path string, body, out any) error {
	return cl.do(ctx, call{method: http.MethodPatch, route: route, path: path, body: body, out: out})
}

// create posts body and returns the created resource.
func create[T any](ctx context.Context, cl *Client, route, path string, body any) (*T, error) {
	var env one[T]
	if err := cl.do(ctx, call{method: http.MethodPost, route: route, path: path, body: body, out: &env}); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// list walks a paginated list, following links.next until it is null. It stops when the
// consumer stops, and yields an error at most once, as its last value.
func list[T any](ctx context.Context, cl *Client, route, path string, argErr error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if argErr != nil {
			yield(zero, argErr)
			return
		}
		seen := map[string]bool{}
		for next := path; next != ""; {
			if seen[next] {
				yield(zero, fmt.Errorf("GET %s: pagination loops: links.next repeats a page", pathOnly(next)))
				return
			}
			seen[next] = true
			var p page[T]
			if err := cl.do(ctx, call{method: http.MethodGet, route: route, path: next, out: &p}); err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			next = ""
			if p.Links.Next != nil && *p.Links.Next != "" {
				n, err := cl.sameOriginPath(*p.Links.Next)
				if err != nil {
					yield(zero, fmt.Errorf("GET %s: %w", pathOnly(path), err))
					return
				}
				next = n
			}
		}
	}
}

// assetList walks the asset list at base (a path without query) with the client's asset page
// size plus query. When the first request of a list with page size 500 is refused with 400 or
// 422, the client falls back to 100, remembers it, and starts the list again.
func assetList[T any](ctx context.Context, cl *Client, route, base string, query url.Values, argErr error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			size := cl.assetPageSize.Load()
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("page_size", strconv.Itoa(int(size)))
			yielded, retry := false, false
			for item, err := range list[T](ctx, cl, route, base+"?"+q.Encode(), argErr) {
				if err != nil && !yielded && size > fallbackPageSize && refusesPageSize(err) {
					cl.assetPageSize.CompareAndSwap(size, fallbackPageSize)
					cl.log.DebugContext(ctx, "frameio: page_size refused; asset lists use the fallback from now on",
						"path", base, "page_size", size, "fallback", fallbackPageSize)
					retry = true
					break
				}
				yielded = true
				if !yield(item, err) {
					return
				}
			}
			if !retry {
				return
			}
		}
	}
}

// refusesPageSize reports whether err is the answer of a server that does not take the asked
// page size: 400 or 422.
func refusesPageSize(err error) bool {
	code := StatusCode(err)
	return code == http.StatusBadRequest || code == http.StatusUnprocessableEntity
}

// sameOriginPath turns a links.next value into a request path. It is documented as a relative
// path; an absolute URL is accepted only on the client's own origin, so the bearer token never
// follows a link elsewhere.
func (cl *Client) sameOriginPath(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("parse links.next %q: %w", Redact(link), errors.Unwrap(err))
	}
	if u.Scheme != "" || u.Host != "" {
		if u.Scheme != cl.base.Scheme || u.Host != cl.base.Host {
			return "", fmt.Errorf("links.next %q leaves the API origin", Redact(link))
		}
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("links.next %q is not an absolute path", Redact(link))
	}
	return u.RequestURI(), nil
}

// Me returns the user behind the token.
func (cl *Client) Me(ctx context.Context) (*User, error) {
	return get[User](ctx, cl, routeMe, routeMe)
}

// Accounts lists the accounts the user belongs to.
func (cl *Client) Accounts(ctx context.Context) iter.Seq2[Account, error] {
	return list[Account](ctx, cl, routeAccounts, routeAccounts, nil)
}

// Workspaces lists the workspaces of an account.
func (cl *Client) Workspaces(ctx context.Context, accountID string) iter.Seq2[Workspace, error] {
	return list[Workspace](ctx, cl, routeWorkspaces, expand(routeWorkspaces, accountID),
		checkIDs("list workspaces", accountID))
}

// Projects lists the projects of a workspace.
func (cl *Client) Projects(ctx context.Context, accountID, workspaceID string) iter.Seq2[Project, error] {
	return list[Project](ctx, cl, routeProjects, expand(routeProjects, accountID, workspaceID),
		checkIDs("list projects", accountID, workspaceID))
}

// Project returns one project, including its root folder id.
func (cl *Client) Project(ctx context.Context, accountID, projectID string) (*Project, error) {
	if err := checkIDs("show project", accountID, projectID); err != nil {
		return nil, err
	}
	return get[Project](ctx, cl, routeProject, expand(routeProject, accountID, projectID))
}

// Children lists a folder's files, folders and version stacks. It is limited to 100 calls a
// minute; to walk big trees prefer Folders and Files (5 a second each).
func (cl *Client) Children(ctx context.Context, accountID, folderID string, opts ListOptions) iter.Seq2[File, error] {
	err := checkIDs("list children", accountID, folderID)
	if err == nil && (opts.PageSize < 0 || opts.PageSize > assetPageSize) {
		err = fmt.Errorf("list children: page size %d: want 1 to %d", opts.PageSize, assetPageSize)
	}
	q := url.Values{}
	if len(opts.Types) > 0 {
		q.Set("type", strings.Join(opts.Types, ","))
	}
	path := expand(routeChildren, accountID, folderID)
	if opts.PageSize == 0 {
		return assetList[File](ctx, cl, routeChildren, path, q, err)
	}
	q.Set("page_size", strconv.Itoa(opts.PageSize))
	return list[File](ctx, cl, routeChildren, path+"?"+q.Encode(), err)
}

// Folders lists a folder's subfolders, 500 per request (100 once a server refused 500).
func (cl *Client) Folders(ctx context.Context, accountID, folderID string) iter.Seq2[File, error] {
	return assetList[File](ctx, cl, routeFolders, expand(routeFolders, accountID, folderID), nil,
		checkIDs("list folders", accountID, folderID))
}

// Files lists the files directly inside a folder, 500 per request (100 once a server refused
// 500).
func (cl *Client) Files(ctx context.Context, accountID, folderID string) iter.Seq2[File, error] {
	return assetList[File](ctx, cl, routeFiles, expand(routeFiles, accountID, folderID), nil,
		checkIDs("list files", accountID, folderID))
}

// CreateFolder creates a folder named name inside parentID. Frame.io allows two folders of
// the same name, so the caller checks for an existing one first. A create is retried only
// when it provably did not reach the server, or was rate limited.
func (cl *Client) CreateFolder(ctx context.Context, accountID, parentID, name string) (*File, error) {
	if err := checkIDs("create folder", accountID, parentID); err != nil {
		return nil, err
	}
	body := struct {
		Name string `json:"name"`
	}{name}
	return create[File](ctx, cl, routeFolders, expand(routeFolders, accountID, parentID), body)
}

// CreateLocalUpload creates a placeholder file of size bytes in folderID and returns it with
// its UploadURLs, the parts to PUT with UploadPart. Frame.io decides the media type (from the
// name) and the part split. A size below 1 is refused before any call, with ErrEmptyFile: the
// spec's minimum is 1 byte.
func (cl *Client) CreateLocalUpload(ctx context.Context, accountID, folderID, name string, size int64) (*File, error) {
	if err := checkIDs("create local upload", accountID, folderID); err != nil {
		return nil, err
	}
	if size < 1 {
		return nil, fmt.Errorf("create local upload %q: size %d: %w", name, size, ErrEmptyFile)
	}
	body := struct {
		Name     string `json:"name"`
		FileSize int64  `json:"file_size"`
	}{name, size}
	return create[File](ctx, cl, routeLocalUpload, expand(routeLocalUpload, accountID, folderID), body)
}

// CreateRemoteUpload asks Frame.io to fetch sourceURL into a new file in folderID. The answer
// comes before the fetch finishes; poll FileStatus to learn when it has.
func (cl *Client) CreateRemoteUpload(ctx context.Context, accountID, folderID, name, sourceURL string) (*File, error) {
	if err := checkIDs("create remote upload", accountID, folderID); err != nil {
		return nil, err
	}
	body := struct {
		Name      string `json:"name"`
		SourceURL string `json:"source_url"`
	}{name, sourceURL}
	return create[File](ctx, cl, routeRemoteUpload, expand(routeRemoteUpload, accountID, folderID), body)
}

// File returns one file, folder or version stack.
func (cl *Client) File(ctx context.Context, accountID, fileID string) (*File, error) {
	if err := checkIDs("show file", accountID, fileID); err != nil {
		return nil, err
	}
	return get[File](ctx, cl, routeFile, expand(routeFile, accountID, fileID))
}

// FileStatus returns a file's upload status.
func (cl *Client) FileStatus(ctx context.Context, accountID, fileID string) (*UploadStatus, error) {
	if err := checkIDs("show upload status", accountID, fileID); err != nil {
		return nil, err
	}
	return get[UploadStatus](ctx, cl, routeFileStatus, expand(routeFileStatus, accountID, fileID))
}

// DeleteFile deletes a file (or folder or version stack).
//
// DELETE is retried like a read. When an attempt may have reached the server (its answer was
// lost, or it got a 5xx) and a later attempt gets 404, the earlier one most likely deleted the
// file, so DeleteFile reports success: the caller's goal, the file being gone, holds either
// way. A 404 on the first attempt is still an error, so a wrong id does not pass silently.
func (cl *Client) DeleteFile(ctx context.Context, accountID, fileID string) error {
	if err := checkIDs("delete file", accountID, fileID); err != nil {
		return err
	}
	return cl.do(ctx, call{method: http.MethodDelete, route: routeFile, path: expand(routeFile, accountID, fileID), goneOK: true})
}

// CreateVersionStack stacks files in folderID into a version stack, in the order given (the
// documented use is {old, new}). It is limited to 10 calls a minute.
func (cl *Client) CreateVersionStack(ctx context.Context, accountID, folderID string, fileIDs []string) (*File, error) {
	if err := checkIDs("create version stack", accountID, folderID); err != nil {
		return nil, err
	}
	if err := checkIDs("create version stack", fileIDs...); err != nil {
		return nil, err
	}
	body := struct {
		FileIDs []string `json:"file_ids"`
	}{fileIDs}
	return create[File](ctx, cl, routeVersionStack, expand(routeVersionStack, accountID, folderID), body)
}

// parentBody is the body of the move endpoints.
type parentBody struct {
	ParentID string `json:"parent_id"`
}

// MoveFile moves a file into folder (or version stack) parentID, keeping its id, comments and
// versions. It is limited to 100 calls a minute.
func (cl *Client) MoveFile(ctx context.Context, accountID, fileID, parentID string) (*File, error) {
	return cl.moveTo(ctx, "move file", routeMoveFile, accountID, fileID, parentID)
}

// moveTo sends one move of id (a file or a version stack) into parentID.
func (cl *Client) moveTo(ctx context.Context, what, route, accountID, id, parentID string) (*File, error) {
	if err := checkIDs(what, accountID, id, parentID); err != nil {
		return nil, err
	}
	var env one[File]
	if err := patch(ctx, cl, route, expand(route, accountID, id), parentBody{parentID}, &env); err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// MoveFiles moves 1 to MaxMoveFiles files into folder parentID in one call and returns them as
// moved. It is limited to 60 calls a minute.
func (cl *Client) MoveFiles(ctx context.Context, accountID, parentID string, fileIDs []string) ([]File, error) {
	if err := checkIDs("move files", accountID, parentID); err != nil {
		return nil, err
	}
	if len(fileIDs) == 0 || len(fileIDs) > MaxMoveFiles {
		return nil, fmt.Errorf("move files: %d ids, want 1 to %d", len(fileIDs), MaxMoveFiles)
	}
	if err := checkIDs("move files", fileIDs...); err != nil {
		return nil, err
	}
	body := struct {
		FileIDs  []string `json:"file_ids"`
		ParentID string   `json:"parent_id"`
	}{fileIDs, parentID}
	var env one[[]File]
	if err := patch(ctx, cl, routeMoveFiles, expand(routeMoveFiles, accountID), body, &env); err != nil {
		return nil, err
	}
	return env.Data, nil
}

// MoveVersionStack moves a version stack, with every version in it, into folder parentID. It
// is limited to 10 calls a minute.
func (cl *Client) MoveVersionStack(ctx context.Context, accountID, stackID, parentID string) (*File, error) {
	return cl.moveTo(ctx, "move version stack", routeMoveStack, accountID, stackID, parentID)
}

// RenameFile gives a file a new name (files.update), keeping its id. It is limited to 100
// calls a minute.
func (cl *Client) RenameFile(ctx context.Context, accountID, fileID, name string) (*File, error) {
	if err := checkIDs("rename file", accountID, fileID); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errors.New("rename file: empty name")
	}
	body := struct {
		Name string `json:"name"`
	}{name}
	var env one[File]
	if err := patch(ctx, cl, routeFile, expand(routeFile, accountID, fileID), body, &env); err != nil {
		return nil, err
	}
	return &env.Data, nil
}
