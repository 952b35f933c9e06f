package apply

import (
	"time"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state/store"
)

// The values of Event.Type.
const (
	// EventStart opens a run: Files and Total give the number of changes and bytes planned.
	EventStart = "start"
	// EventFolder reports a folder created (or adopted) at Address, with its FileID.
	EventFolder = "folder"
	// EventFileStart reports that the upload of Address begins; Total is its size (0 for a
	// remote source, whose size Frame.io learns).
	EventFileStart = "file_start"
	// EventProgress reports Bytes of Total sent for Address. It comes after each part.
	EventProgress = "progress"
	// EventFileDone reports Address delivered as FileID.
	EventFileDone = "file_done"
	// EventFileFailed reports that Address failed; Error says why.
	EventFileFailed = "file_failed"
	// EventFileSkipped reports that Address was stopped by an interruption (the state
	// records how far it got and the next run resumes it), or, with a Note, not started
	// because a limit was reached (Error names it: "max-transfer reached").
	EventFileSkipped = "file_skipped"
	// EventFileElsewhere reports that another runner of a cooperative apply applied Address
	// (apply.Options.Claims); FileID is what it recorded.
	EventFileElsewhere = "file_elsewhere"
	// EventDelete reports a file deleted from Frame.io (prune, or the old file of a replace).
	EventDelete = "delete"
	// EventSummary closes a run with the counts and the bytes sent.
	EventSummary = "summary"
)

// Event is one thing that happened during Run. It marshals to one JSON object; fields that do
// not apply to an event type are omitted.
type Event struct {
	Type    string      `json:"type"`
	Time    time.Time   `json:"time"`
	Address string      `json:"address,omitempty"`
	Action  plan.Action `json:"action,omitempty"`
	Kind    source.Kind `json:"kind,omitempty"`
	FileID  string      `json:"file_id,omitempty"`
	// ViewURL is the Frame.io page of the file delivered (file_done), when the API gave one.
	ViewURL string `json:"view_url,omitempty"`
	// Bytes is the bytes sent so far (progress), the file's size (file_done), or the run's
	// bytes sent (summary).
	Bytes int64 `json:"bytes,omitempty"`
	// Total is the file's size (file_start, progress) or the planned bytes (start, summary).
	Total int64 `json:"total,omitempty"`
	// Note qualifies a file_done: "adopted" when an interrupted upload turned out complete,
	// "version stacked", "replaced".
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
	// Runner names the runner that reports the event, in a cooperative apply
	// (apply.Options.Claims).
	Runner *store.RunnerID `json:"runner,omitempty"`

	// Counts, for start (Files) and summary.
	Files   int `json:"files,omitempty"`
	Done    int `json:"done,omitempty"`
	Failed  int `json:"failed,omitempty"`
	Skipped int `json:"skipped,omitempty"`
	Deleted int `json:"deleted,omitempty"`
	// Elapsed is the run's duration so far, in the summary.
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// Observer receives Events. Run calls Event from many goroutines at once, so an implementation
// must be safe for concurrent use and cheap: a slow observer slows the upload.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f(e).
func (f ObserverFunc) Event(e Event) { f(e) }
