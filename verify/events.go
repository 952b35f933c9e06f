package verify

// The values of Event.Type.
const (
	// EventStart opens a run: Files addresses, Total the bytes the state expects of them.
	EventStart = "start"
	// EventFileStart reports that Address's download begins; Total is its size in Frame.io.
	EventFileStart = "file_start"
	// EventProgress reports Bytes of Total hashed for Address.
	EventProgress = "progress"
	// EventFileDone reports Address's Result.
	EventFileDone = "file_done"
)

// Event is one thing that happened during Run.
type Event struct {
	Type    string
	Address string
	Bytes   int64
	Total   int64
	Files   int
	Result  *Result
}

// Observer receives Events, from many goroutines at once: an implementation must be safe for
// concurrent use and cheap.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f(e).
func (f ObserverFunc) Event(e Event) { f(e) }
