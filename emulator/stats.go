package emulator

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
)

// routePart is the stats key of part uploads, which go to "S3" rather than the API.
const routePart = "PUT part"

// statusReset is the stats key of part PUTs whose connection the emulator cut on purpose.
const statusReset = "reset"

// FileInfo is what GET /_emulator/files/{id} answers: the stored content of one file, for
// tests to compare with the source.
type FileInfo struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ParentID      string `json:"parent_id"`
	Size          int64  `json:"size"`
	BLAKE3        string `json:"blake3"` // lower-case hex; empty until every byte arrived
	Status        string `json:"status"`
	PartsReceived int    `json:"parts_received"`
}

// Stats is what GET /_emulator/stats answers. Requests counts answers by route template (as in
// frameio-v4.md, or "PUT part") and status code ("reset" for cut connections).
type Stats struct {
	FilesCreated  int64                       `json:"files_created"`
	FilesDeleted  int64                       `json:"files_deleted"`
	FilesMoved    int64                       `json:"files_moved"` // files moved (a stack's move counts its versions)
	BytesReceived int64                       `json:"bytes_received"`
	Requests      map[string]map[string]int64 `json:"requests"`
}

type statsBook struct {
	mu       sync.Mutex
	requests map[string]map[string]int64
}

func (s *statsBook) record(route string, status int) {
	if status == 0 {
		return
	}
	s.recordKey(route, strconv.Itoa(status))
}

func (s *statsBook) recordKey(route, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.requests[route]
	if m == nil {
		m = make(map[string]int64)
		s.requests[route] = m
	}
	m[status]++
}

// FileInfo returns what the emulator stored for a file (deleted files included, with status
// "deleted"), and false for an unknown id.
func (e *Emulator) FileInfo(id string) (FileInfo, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.st.nodes[id]
	if n == nil || n.Kind != kindFile {
		return FileInfo{}, false
	}
	info := FileInfo{
		ID:            n.ID,
		Name:          n.Name,
		ParentID:      n.ParentID,
		Size:          n.Size,
		BLAKE3:        n.BLAKE3,
		Status:        n.Status,
		PartsReceived: n.receivedCount(),
	}
	if n.deleted {
		info.Status = "deleted"
	}
	return info, true
}

// Stats returns the counters since the emulator started.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	st := Stats{
		FilesCreated:  e.st.filesCreated,
		FilesDeleted:  e.st.filesDeleted,
		FilesMoved:    e.st.filesMoved,
		BytesReceived: e.st.bytesReceived,
	}
	e.mu.Unlock()
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	st.Requests = make(map[string]map[string]int64, len(e.stats.requests))
	for route, m := range e.stats.requests {
		st.Requests[route] = maps.Clone(m)
	}
	return st
}

func (e *Emulator) handleTestFile(w http.ResponseWriter, r *http.Request) {
	info, ok := e.FileInfo(r.PathValue("id"))
	if !ok {
		writeError(w, errNotFound("file", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (e *Emulator) handleTestStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, e.Stats())
}
