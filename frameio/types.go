package frameio

import "time"

// User is the person (or service identity) behind the bearer token, as GET /v4/me returns it.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	AvatarURL string    `json:"avatar_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Account is a Frame.io account the user belongs to.
type Account struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Workspace groups projects inside an account.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	AccountID string    `json:"account_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Project is a project inside a workspace; its files live under RootFolderID.
type Project struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	RootFolderID string    `json:"root_folder_id"`
	WorkspaceID  string    `json:"workspace_id"`
	Status       string    `json:"status"`
	ViewURL      string    `json:"view_url,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// The values of File.Type.
const (
	TypeFile         = "file"
	TypeFolder       = "folder"
	TypeVersionStack = "version_stack"
)

// The values of File.Status that fiosync cares about. Frame.io moves a file from created to
// uploaded once every part has arrived, and later to transcoded for media it can process.
const (
	StatusCreated    = "created"
	StatusUploaded   = "uploaded"
	StatusTranscoded = "transcoded"
)

// File is any node of a project's tree: a file, a folder or a version stack, told apart by
// Type. Fields that do not apply to a type are zero.
type File struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	ParentID  string    `json:"parent_id"`
	ProjectID string    `json:"project_id"`
	FileSize  int64     `json:"file_size"`
	MediaType string    `json:"media_type"`
	Status    string    `json:"status"`
	ViewURL   string    `json:"view_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// MediaLinks is filled only in the answer to FileWithMediaLinks.
	MediaLinks *MediaLinks `json:"media_links,omitempty"`

	// UploadURLs is filled only in the answer to CreateLocalUpload: one presigned URL per
	// part, in order. Each URL carries a signature in its query string: treat it as a secret
	// and pass it through Redact before showing it anywhere.
	UploadURLs []UploadURL `json:"upload_urls,omitempty"`
}

// MediaLinks are the presigned URLs of a file's media. fiosync asks only for the original.
type MediaLinks struct {
	Original *OriginalMediaLink `json:"original,omitempty"`
}

// OriginalMediaLink holds presigned GET URLs of a file's original bytes: DownloadURL answers
// as an attachment, InlineURL for display. Both are empty until the upload is complete, expire,
// and carry a signature in the query string: pass them through Redact before showing them.
type OriginalMediaLink struct {
	DownloadURL string `json:"download_url"`
	InlineURL   string `json:"inline_url"`
}

// UploadURL is one part of a local upload: PUT Size bytes to URL.
type UploadURL struct {
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

// UploadStatus is the answer of GET .../files/{id}/status.
type UploadStatus struct {
	ID                string    `json:"id"`
	FileType          string    `json:"filetype"`
	UploadComplete    bool      `json:"upload_complete"`
	UploadFailed      bool      `json:"upload_failed"`
	UploadedAt        time.Time `json:"uploaded_at"`
	UploadCompletedAt time.Time `json:"upload_completed_at"`
}

// ListOptions narrows Children.
type ListOptions struct {
	// PageSize is the number of items per request, 1 to 500; 0 means the client's asset page
	// size (500, or 100 once a server refused 500).
	PageSize int
	// Types keeps only nodes of these types (TypeFile, TypeFolder, TypeVersionStack); empty
	// means all.
	Types []string
}
