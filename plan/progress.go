package plan

// Step is how far a long, otherwise silent step of making a plan has got, for a display: a
// plan over thousands of files may hash for minutes, and a refresh of a large tree lists for
// many seconds.
type Step struct {
	// Name is StepHash or StepRefresh.
	Name string
	// Done counts the units done: files hashed (hash), or listings and lookups answered
	// by Frame.io (refresh). Total is the units in all, 0 when not known ahead (refresh).
	Done, Total int
	// Bytes and TotalBytes are the bytes hashed and to hash (hash only).
	Bytes, TotalBytes int64
}

// The names of Steps.
const (
	// StepHash reads local files whose content the state cannot vouch for.
	StepHash = "hash"
	// StepRefresh lists Frame.io's folders and files.
	StepRefresh = "refresh"
)

// StepFunc receives Steps. It is called from several goroutines, one call at a time; a slow
// one slows the step.
type StepFunc func(Step)
