// Package store keeps a state safe: the Backend seam, the local File backend
// with its lock, and the Writer that apply's workers share.
//
// Backend is the persistence seam: Load, Save (compare-and-swap on lineage
// and serial), Lock and ForceUnlock. File is the local implementation.
// File.Save writes a temporary file in the same directory, syncs it, keeps
// the current file as "<state>.backup" (a hard link, or a copy where links
// are not available), renames the temporary file into place and syncs the
// directory: at every instant the state path holds either the whole old
// state or the whole new one, and a writer killed at any point leaves a
// loadable state. A file that fails to load is never overwritten; the error
// names it and points at the backup.
//
// File.Lock takes flock(2) on "<state>.lock" for the length of a plan or
// apply and writes the holder's LockInfo into it. The kernel releases a flock
// when its process ends, however it ends, so kill -9 or a cancelled CI job
// never leaves a stuck lock. A second fiosync waits up to its lock timeout
// and then fails with *LockedError, which names the holder. ForceUnlock
// (`fiosync state unlock`) exists for file systems where flock does not
// work. Locks are advisory: Save does not check them.
//
// File is also an Appender: during apply, each batch of changes is one checksummed record
// appended to "<state>.journal" and synced, in time that does not grow with the state; Save
// writes the whole state as above and then removes the journal (compaction). Load replays
// a journal a crash left behind: a torn record at its end was never synced and is ignored,
// damage before its end or records of another state give *JournalError, and nothing is
// dropped silently. The next Lock compacts such a journal, so every locked run starts from
// one state file (the layout is in journal.go).
//
// Claimer (claim.go) is the capability of a backend on which several applies work on one
// state at once (state/pgstate): Join takes the lock shared and returns a Runner, whose claims
// with leases say which runner works on which address or folder, and whose appends are fenced
// by the others' claims. File is no Claimer: one apply at a time, under its lock.
//
// Apply finishes files on many goroutines and records each as it finishes.
// Writer is the one writer they share: Update changes the state under a
// mutex and returns once the change is durable, coalescing saves that
// arrive while another is on disk.
package store
