package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// The emulator's own wire types. They follow frameio-v4.md and are deliberately not shared
// with the frameio client.

// assetJSON holds the fields every node shares (the spec's AssetCommon).
type assetJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	ParentID  *string   `json:"parent_id"`
	ProjectID string    `json:"project_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ViewURL   string    `json:"view_url"`
}

// fileJSON is a file (the spec's File and FileWithIncludes; FileWithUploadUrls with
// UploadURLs).
type fileJSON struct {
	assetJSON
	FileSize   int64          `json:"file_size"`
	MediaType  string         `json:"media_type"`
	Status     string         `json:"status"`
	MediaLinks map[string]any `json:"media_links,omitempty"` // only when asked for with include
	UploadURLs *[]uploadURL   `json:"upload_urls,omitempty"`
}

// originalLinkJSON is the spec's OriginalMediaLink: presigned URLs of the original bytes, null
// until the file is complete.
type originalLinkJSON struct {
	DownloadURL *string `json:"download_url"`
	InlineURL   *string `json:"inline_url"`
}

// mediaLinkJSON is the spec's MediaLinkCommon (efficient, high_quality), always null here.
type mediaLinkJSON struct {
	DownloadURL *string `json:"download_url"`
}

// renditionLinkJSON is the spec's RenditionMediaLink (thumbnails, proxies), always null here.
type renditionLinkJSON struct {
	DownloadURL *string `json:"download_url"`
	URL         *string `json:"url"`
}

// folderJSON is a folder (the spec's Folder and FolderWithIncludes). The emulator has no
// covers, so cover_file_id is always null.
type folderJSON struct {
	assetJSON
	CoverFileID *string `json:"cover_file_id"`
}

type uploadURL struct {
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

type statusJSON struct {
	ID                string     `json:"id"`
	FileType          string     `json:"filetype"`
	UploadComplete    bool       `json:"upload_complete"`
	UploadFailed      bool       `json:"upload_failed"`
	UploadedAt        *time.Time `json:"uploaded_at"`
	UploadCompletedAt *time.Time `json:"upload_completed_at"`
}

// stackJSON is a version stack (the spec's VersionStack and VersionStackWithIncludes): the
// common fields and its newest version, and none of a file's own fields.
type stackJSON struct {
	assetJSON
	HeadVersion *fileJSON `json:"head_version"`
}

// meJSON is the spec's Profile.
type meJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
	AvatarURL *string `json:"avatar_url"`
}

// accountJSON is the spec's Account. The emulator's account has no storage limit (null).
type accountJSON struct {
	ID           string    `json:"id"`
	DisplayName  string    `json:"display_name"`
	Roles        []string  `json:"roles"`
	StorageLimit *int64    `json:"storage_limit"`
	StorageUsage int64     `json:"storage_usage"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// workspaceJSON is the spec's Workspace.
type workspaceJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// projectJSON is the spec's ProjectWithIncludes; storage is the bytes of its files.
type projectJSON struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Description  *string   `json:"description"`
	RootFolderID string    `json:"root_folder_id"`
	WorkspaceID  string    `json:"workspace_id"`
	Status       string    `json:"status"`
	Storage      int64     `json:"storage"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	ViewURL      string    `json:"view_url"`
}

// remoteJSON is the remote_upload answer: the file plus a link to its status.
type remoteJSON struct {
	Data  fileJSON `json:"data"`
	Links struct {
		Status string `json:"status"`
	} `json:"links"`
}

// listLinksJSON keeps links.next present even when it is null.
type listLinksJSON struct {
	Next *string `json:"next"`
}

type pageJSON struct {
	Data       any           `json:"data"`
	Links      listLinksJSON `json:"links"`
	TotalCount *int          `json:"total_count"`
}

type errorsJSON struct {
	Errors []errorJSON `json:"errors"`
}

type errorJSON struct {
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Source *sourceJSON `json:"source,omitempty"`
}

// sourceJSON says what an error is about. The spec's error schemas define only pointer, so a
// query parameter is named there too, by its bare name ("page_size"), which no body pointer
// (they all start with "/data") can be confused with.
type sourceJSON struct {
	Pointer string `json:"pointer,omitempty"`
}

// apiError is a problem answered with the error envelope.
type apiError struct {
	status int
	detail string
	source *sourceJSON
}

func (e *apiError) Error() string { return e.detail }

func errStatus(status int, detail string) *apiError { return &apiError{status: status, detail: detail} }

func errPointer(status int, pointer, detail string) *apiError {
	return &apiError{status: status, detail: detail, source: &sourceJSON{Pointer: pointer}}
}

// errParameter is a 400 about a query parameter.
func errParameter(parameter, detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, detail: detail, source: &sourceJSON{Pointer: parameter}}
}

func errNotFound(what, id string) *apiError {
	return errStatus(http.StatusNotFound, what+" "+id+" not found")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeData answers v in the `{"data": ...}` envelope of a single resource.
func writeData(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, map[string]any{"data": v})
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, errorsJSON{Errors: []errorJSON{{
		Title:  http.StatusText(e.status),
		Detail: e.detail,
		Source: e.source,
	}}})
}

// maxBody bounds request bodies; the API's bodies are tiny.
const maxBody = 1 << 20

// decodeData reads a `{"data": {...}}` body into v. A missing envelope or malformed JSON is a
// 400; a field of the wrong JSON type is a 422 pointing at it.
func decodeData(r *http.Request, v any) *apiError {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errStatus(http.StatusBadRequest, "read request body: "+err.Error())
	}
	if len(body) > maxBody {
		return errStatus(http.StatusRequestEntityTooLarge, "request body is larger than 1 MiB")
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return errStatus(http.StatusBadRequest, "request body is not valid JSON")
	}
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return errPointer(http.StatusBadRequest, "/data", "request body must be wrapped in a data object")
	}
	if data[0] != '{' {
		return errPointer(http.StatusBadRequest, "/data", "data must be an object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errPointer(http.StatusUnprocessableEntity, "/data/"+strings.ReplaceAll(te.Field, ".", "/"),
				te.Field+" must be a JSON "+jsonKind(te.Type.Kind()))
		}
		return errStatus(http.StatusBadRequest, "request body is not valid JSON")
	}
	return nil
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return "number"
	}
}
