package frameio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/frameio"
)

func TestMeAccountsWorkspacesProjects(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()

	me, err := e.client.Me(ctx)
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if me.ID == "" || me.Email == "" {
		t.Errorf("Me = %+v, want an id and an email", me)
	}

	var accounts []string
	for a, err := range e.client.Accounts(ctx) {
		if err != nil {
			t.Fatalf("Accounts: %v", err)
		}
		accounts = append(accounts, a.ID)
	}
	if diff := cmp.Diff([]string{e.seed.AccountID}, accounts); diff != "" {
		t.Errorf("Accounts (-want +got):\n%s", diff)
	}

	second := e.emu.AddWorkspace("Second")
	var workspaces []string
	for w, err := range e.client.Workspaces(ctx, e.seed.AccountID) {
		if err != nil {
			t.Fatalf("Workspaces: %v", err)
		}
		workspaces = append(workspaces, w.ID)
	}
	if diff := cmp.Diff([]string{e.seed.WorkspaceID, second}, workspaces); diff != "" {
		t.Errorf("Workspaces (-want +got):\n%s", diff)
	}

	type proj struct{ ID, Name, RootFolderID, WorkspaceID string }
	var projects []proj
	for p, err := range e.client.Projects(ctx, e.seed.AccountID, e.seed.WorkspaceID) {
		if err != nil {
			t.Fatalf("Projects: %v", err)
		}
		projects = append(projects, proj{p.ID, p.Name, p.RootFolderID, p.WorkspaceID})
	}
	want := []proj{{e.seed.ProjectID, e.seed.Project, e.seed.RootFolderID, e.seed.WorkspaceID}}
	if diff := cmp.Diff(want, projects); diff != "" {
		t.Errorf("Projects (-want +got):\n%s", diff)
	}

	p, err := e.client.Project(ctx, e.seed.AccountID, e.seed.ProjectID)
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	if diff := cmp.Diff(want[0], proj{p.ID, p.Name, p.RootFolderID, p.WorkspaceID}); diff != "" {
		t.Errorf("Project (-want +got):\n%s", diff)
	}
	if p.CreatedAt.IsZero() {
		t.Errorf("Project.CreatedAt is zero, want the creation time")
	}
}

// TestTree builds a small tree and reads it back through every listing.
func TestTree(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID

	day1, err := e.client.CreateFolder(ctx, a, root, "Day 01")
	if err != nil {
		t.Fatalf("CreateFolder: %v", err)
	}
	if day1.Type != frameio.TypeFolder || day1.Name != "Day 01" || day1.ParentID != root || day1.ID == "" {
		t.Errorf("CreateFolder = %+v, want folder \"Day 01\" in the root", day1)
	}
	day2, err := e.client.CreateFolder(ctx, a, root, "Day 02")
	if err != nil {
		t.Fatalf("CreateFolder: %v", err)
	}
	var files []string
	for _, name := range []string{"A001.mov", "A002.mov", "notes.pdf"} {
		f, err := upload(ctx, e.client, e.seed, name, bytes.NewReader([]byte(name)), int64(len(name)), 2)
		if err != nil {
			t.Fatalf("upload %q: %v", name, err)
		}
		files = append(files, f.ID)
	}

	type node struct{ Name, Type string }
	collect := func(t *testing.T, seq func(func(frameio.File, error) bool)) []node {
		t.Helper()
		var got []node
		for f, err := range seq {
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			got = append(got, node{f.Name, f.Type})
		}
		return got
	}
	folders := []node{{"Day 01", "folder"}, {"Day 02", "folder"}}
	fileNodes := []node{{"A001.mov", "file"}, {"A002.mov", "file"}, {"notes.pdf", "file"}}
	tests := []struct {
		name string
		seq  func(func(frameio.File, error) bool)
		want []node
	}{
		{"children", e.client.Children(ctx, a, root, frameio.ListOptions{}), append(folders, fileNodes...)},
		{"children page size 1", e.client.Children(ctx, a, root, frameio.ListOptions{PageSize: 1}), append(folders, fileNodes...)},
		{"children files only", e.client.Children(ctx, a, root, frameio.ListOptions{PageSize: 2, Types: []string{frameio.TypeFile}}), fileNodes},
		{"children of empty folder", e.client.Children(ctx, a, day2.ID, frameio.ListOptions{}), nil},
		{"folders", e.client.Folders(ctx, a, root), folders},
		{"files", e.client.Files(ctx, a, root), fileNodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, collect(t, tt.seq)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("children page size 1 sends one request per item", func(t *testing.T) {
		before := requests(e, "GET /v4/accounts/{a}/folders/{f}/children", "200")
		collect(t, e.client.Children(ctx, a, root, frameio.ListOptions{PageSize: 1}))
		// Five items on five pages; the fifth page has links.next null.
		if got := requests(e, "GET /v4/accounts/{a}/folders/{f}/children", "200") - before; got != 5 {
			t.Errorf("children requests = %d, want 5", got)
		}
	})

	t.Run("version stack", func(t *testing.T) {
		vs, err := e.client.CreateVersionStack(ctx, a, root, files[:2])
		if err != nil {
			t.Fatalf("CreateVersionStack: %v", err)
		}
		if vs.Type != frameio.TypeVersionStack || vs.ID == "" {
			t.Errorf("CreateVersionStack = %+v, want a version stack", vs)
		}
		got := collect(t, e.client.Children(ctx, a, root, frameio.ListOptions{}))
		want := []node{{"Day 01", "folder"}, {"Day 02", "folder"}, {"notes.pdf", "file"}, {vs.Name, "version_stack"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("children after stacking (-want +got):\n%s", diff)
		}
	})
}

func TestFileStatusDelete(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a := e.seed.AccountID
	src := newGenReader(3<<20+5, 1)
	f, err := e.client.CreateLocalUpload(ctx, a, e.seed.RootFolderID, "clip.mov", src.size)
	if err != nil {
		t.Fatalf("CreateLocalUpload: %v", err)
	}
	if f.Status != frameio.StatusCreated || f.FileSize != src.size || f.MediaType == "" || len(f.UploadURLs) == 0 {
		t.Fatalf("CreateLocalUpload = %+v, want a created file with media type and part URLs", f)
	}

	st, err := e.client.FileStatus(ctx, a, f.ID)
	if err != nil {
		t.Fatalf("FileStatus: %v", err)
	}
	if diff := cmp.Diff(frameio.UploadStatus{ID: f.ID, FileType: f.MediaType}, *st); diff != "" {
		t.Errorf("FileStatus before parts (-want +got):\n%s", diff)
	}

	offs, err := frameio.PartOffsets(f.UploadURLs, src.size)
	if err != nil {
		t.Fatalf("PartOffsets: %v", err)
	}
	for i, p := range f.UploadURLs {
		if err := e.client.UploadPart(ctx, p, f.MediaType, io.NewSectionReader(src, offs[i], p.Size)); err != nil {
			t.Fatalf("UploadPart %d: %v", i, err)
		}
	}
	st, err = e.client.FileStatus(ctx, a, f.ID)
	if err != nil {
		t.Fatalf("FileStatus: %v", err)
	}
	if !st.UploadComplete || st.UploadFailed || st.UploadedAt.IsZero() {
		t.Errorf("FileStatus after parts = %+v, want complete with a time", st)
	}
	got, err := e.client.File(ctx, a, f.ID)
	if err != nil {
		t.Fatalf("File: %v", err)
	}
	if got.Status != frameio.StatusUploaded || got.Name != "clip.mov" || got.ParentID != e.seed.RootFolderID || got.ProjectID != e.seed.ProjectID {
		t.Errorf("File = %+v, want uploaded clip.mov in the root folder", got)
	}
	if info := fileInfo(t, e, f.ID); info.BLAKE3 != blake3Hex(t, src, src.size) {
		t.Errorf("stored BLAKE3 = %s, want the source's", info.BLAKE3)
	}

	if err := e.client.DeleteFile(ctx, a, f.ID); err != nil {
		t.Fatalf("DeleteFile: %v", err)
	}
	if _, err := e.client.File(ctx, a, f.ID); !frameio.IsNotFound(err) {
		t.Errorf("File after delete: err = %v, want 404", err)
	}
	if err := e.client.DeleteFile(ctx, a, f.ID); !frameio.IsNotFound(err) {
		t.Errorf("DeleteFile twice: err = %v, want 404 (a first attempt's 404 is an error)", err)
	}
}

// TestEmptyFile holds that an empty local upload is refused before any call, since Frame.io
// answers 422 to it, and that the emulator does answer 422 when asked anyway.
func TestEmptyFile(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	_, err := e.client.CreateLocalUpload(t.Context(), e.seed.AccountID, e.seed.RootFolderID, "empty.wav", 0)
	if !errors.Is(err, frameio.ErrEmptyFile) {
		t.Errorf("CreateLocalUpload(0 bytes) = %v, want ErrEmptyFile", err)
	}
	if got := e.emu.Stats().Requests["POST /v4/accounts/{a}/folders/{f}/files/local_upload"]; len(got) != 0 {
		t.Errorf("an empty upload reached the API: %v", got)
	}
	if _, err := frameio.PartOffsets(nil, 0); err != nil {
		t.Errorf("PartOffsets(no parts, 0): %v", err)
	}
}

func TestRemoteUpload(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	body := bytes.Repeat([]byte("reel "), 10000)
	served := make(chan struct{}, 1)
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "reel.mp4", time.Time{}, bytes.NewReader(body))
		if r.Method == http.MethodGet {
			select {
			case served <- struct{}{}:
			default:
			}
		}
	}))
	t.Cleanup(source.Close)

	f, err := e.client.CreateRemoteUpload(ctx, e.seed.AccountID, e.seed.RootFolderID, "reel.mp4", source.URL+"/reel.mp4?token=s3cr3t")
	if err != nil {
		t.Fatalf("CreateRemoteUpload: %v", err)
	}
	if f.Name != "reel.mp4" || f.Type != frameio.TypeFile || f.ID == "" {
		t.Errorf("CreateRemoteUpload = %+v, want file reel.mp4", f)
	}
	select {
	case <-served:
	case <-ctx.Done():
		t.Fatal("the emulator never fetched the source")
	}
	// The fetch is done; Frame.io's documented way to learn that is to poll the status.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := e.client.FileStatus(ctx, e.seed.AccountID, f.ID)
		if err != nil {
			t.Fatalf("FileStatus: %v", err)
		}
		if st.UploadComplete || st.UploadFailed {
			if st.UploadFailed {
				t.Fatalf("remote upload failed: %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote upload not complete after 10 s: %+v", st)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if info := fileInfo(t, e, f.ID); info.BLAKE3 != blake3Hex(t, bytes.NewReader(body), int64(len(body))) {
		t.Errorf("stored BLAKE3 = %s, want the source's", info.BLAKE3)
	}
}

// TestAPIErrors checks that error answers come back as *APIError with their parts.
func TestAPIErrors(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID
	tests := []struct {
		name    string
		call    func() error
		status  int
		method  string
		path    string
		pointer string
	}{
		{"show unknown file", func() error { _, err := e.client.File(ctx, a, "nope"); return err },
			404, "GET", "/v4/accounts/" + a + "/files/nope", ""},
		{"status unknown file", func() error { _, err := e.client.FileStatus(ctx, a, "nope"); return err },
			404, "GET", "/v4/accounts/" + a + "/files/nope/status", ""},
		{"delete unknown file", func() error { return e.client.DeleteFile(ctx, a, "nope") },
			404, "DELETE", "/v4/accounts/" + a + "/files/nope", ""},
		{"unknown project", func() error { _, err := e.client.Project(ctx, a, "nope"); return err },
			404, "GET", "/v4/accounts/" + a + "/projects/nope", ""},
		{"list unknown folder", func() error { return firstErr(e.client.Files(ctx, a, "nope")) },
			404, "GET", "/v4/accounts/" + a + "/folders/nope/files", ""},
		{"children of unknown folder", func() error { return firstErr(e.client.Children(ctx, a, "nope", frameio.ListOptions{PageSize: 5})) },
			404, "GET", "/v4/accounts/" + a + "/folders/nope/children", ""},
		{"folder without name", func() error { _, err := e.client.CreateFolder(ctx, a, root, ""); return err },
			422, "POST", "/v4/accounts/" + a + "/folders/" + root + "/folders", "/data/name"},
		{"folder in unknown parent", func() error { _, err := e.client.CreateFolder(ctx, a, "nope", "x"); return err },
			404, "POST", "/v4/accounts/" + a + "/folders/nope/folders", ""},
		{"upload with slash in name", func() error {
			_, err := e.client.CreateLocalUpload(ctx, a, root, "a/b.mov", 1)
			return err
		}, 422, "POST", "/v4/accounts/" + a + "/folders/" + root + "/files/local_upload", "/data/name"},
		{"version stack of one file", func() error {
			_, err := e.client.CreateVersionStack(ctx, a, root, []string{"x"})
			return err
		}, 422, "POST", "/v4/accounts/" + a + "/folders/" + root + "/version_stacks", "/data/file_ids"},
		{"version stack of unknown files", func() error {
			_, err := e.client.CreateVersionStack(ctx, a, root, []string{"x", "y"})
			return err
		}, 404, "POST", "/v4/accounts/" + a + "/folders/" + root + "/version_stacks", "/data/file_ids/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *frameio.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *frameio.APIError", err, err)
			}
			type shape struct {
				Status       int
				Method, Path string
				Pointer      string
				HasRequestID bool
				HasDetail    bool
			}
			got := shape{ae.StatusCode, ae.Method, ae.Path, "", ae.RequestID != "", false}
			if len(ae.Errors) > 0 {
				got.Pointer = ae.Errors[0].Source.Pointer
				got.HasDetail = ae.Errors[0].Detail != ""
			}
			want := shape{tt.status, tt.method, tt.path, tt.pointer, true, true}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			msg := err.Error()
			for _, part := range []string{tt.method, tt.path, fmt.Sprint(tt.status), ae.RequestID} {
				if !strings.Contains(msg, part) {
					t.Errorf("Error() = %q, want it to contain %q", msg, part)
				}
			}
			if tt.pointer != "" && !strings.Contains(msg, tt.pointer) {
				t.Errorf("Error() = %q, want the pointer %q", msg, tt.pointer)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "?") {
				t.Errorf("Error() = %q, want one line without a query", msg)
			}
		})
	}
}

// TestBadArguments checks what the client refuses before sending anything.
func TestBadArguments(t *testing.T) {
	e := newEnv(t, noLimits(), frameio.WithoutPacing())
	ctx := t.Context()
	a, root := e.seed.AccountID, e.seed.RootFolderID
	tests := []struct {
		name string
		call func() error
	}{
		{"empty account", func() error { _, err := e.client.File(ctx, "", "x"); return err }},
		{"empty folder", func() error { return firstErr(e.client.Files(ctx, a, "")) }},
		{"page size too big", func() error { return firstErr(e.client.Children(ctx, a, root, frameio.ListOptions{PageSize: 501})) }},
		{"negative size", func() error { _, err := e.client.CreateLocalUpload(ctx, a, root, "x.mov", -1); return err }},
		{"empty id in stack", func() error { _, err := e.client.CreateVersionStack(ctx, a, root, []string{"x", ""}); return err }},
		{"part without URL", func() error {
			return e.client.UploadPart(ctx, frameio.UploadURL{Size: 1}, "video/quicktime", bytes.NewReader([]byte{1}))
		}},
		{"part without media type", func() error {
			return e.client.UploadPart(ctx, frameio.UploadURL{Size: 1, URL: e.url + "/x"}, "", bytes.NewReader([]byte{1}))
		}},
	}
	before := e.emu.Stats()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil {
				t.Errorf("err = nil, want an argument error")
			}
		})
	}
	if diff := cmp.Diff(before.Requests, e.emu.Stats().Requests); diff != "" {
		t.Errorf("bad arguments reached the server (-before +after):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		hc      *http.Client
		wantErr bool
	}{
		{"origin", "https://api.frame.io", http.DefaultClient, false},
		{"origin with slash", "http://127.0.0.1:8080/", http.DefaultClient, false},
		{"nil client", "https://api.frame.io", nil, true},
		{"no scheme", "api.frame.io", http.DefaultClient, true},
		{"ftp", "ftp://api.frame.io", http.DefaultClient, true},
		{"path", "https://api.frame.io/v4", http.DefaultClient, true},
		{"query", "https://api.frame.io/?x=1", http.DefaultClient, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := frameio.New(tt.base, tt.hc)
			if (err != nil) != tt.wantErr {
				t.Errorf("New(%q) err = %v, want error %v", tt.base, err, tt.wantErr)
			}
		})
	}
}

// firstErr drains a listing and returns its error.
func firstErr(seq func(func(frameio.File, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// drain counts a listing's items and returns its error.
func drain[T any](seq func(func(T, error) bool)) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
