// Package apply executes a plan against Frame.io: it creates the missing folders, uploads local
// and remote files, applies each update's on_change, prunes deleted addresses, and records every
// step in the state as it happens.
//
// # Guarantees
//
// Apply is built so that no interruption, at any instant, can lose or duplicate a delivery:
//
//   - The state learns a remote file id before any byte is sent for it. Right after
//     local_upload (or remote_upload) answers, the entry is saved as pending with the file id
//     and the source's stat. A kill -9 after that leaves a pending entry, which the next plan
//     turns into a "resume interrupted upload" change.
//   - A pending entry is reconciled, never blindly redone: if Frame.io says the file is complete,
//     its size matches and the local file's stat equals the one recorded, the file is adopted
//     without uploading (the local file is hashed to record its digest); otherwise the
//     placeholder is deleted (404 is fine) and the file is uploaded again.
//   - A create that failed in an ambiguous way (a 5xx or a lost response: the server may or may
//     not have created the file) is followed by a listing of the folder; a file with the same
//     name and size, created during this run and unknown to the state, is deleted before the
//     create is retried.
//   - A file is marked complete only after Frame.io confirms it: /status says upload_complete
//     and the file's file_size equals the local size. The BLAKE3 recorded is that of the bytes
//     actually sent; a source whose stat changed during the upload fails instead.
//   - Deletes (prune) run only after every upload succeeded.
//
// # Adoption
//
// An adopt change (plan --adopt) names a file already in Frame.io for an address the state
// does not track. Apply uploads nothing for it: it reads a local source once to record its
// BLAKE3 and stat, as an upload would have, and saves the entry as complete with the file's id
// and parent; a remote source is recorded by its URL. It reports a file_done event with the
// note "adopted". AdoptEntry builds that entry, for `fiosync import` too.
//
// # Data path
//
// Each local file is read from disk exactly once. Part i is read into a pooled buffer, PUT from
// that buffer (retries resend it), and then handed, in order, to the file's BLAKE3 hasher by a
// conc stream callback, so parts upload in parallel while hashing stays sequential. Buffer
// memory is bounded by Options.PartBudget across all files: the goroutine that submits a file's
// parts acquires budget for each part, in order, before submitting it, and the budget is
// released only after the part has been hashed. A part larger than the whole budget still runs,
// alone.
//
// # ASC MHL
//
// A file that an ASC MHL history covers (Options.MHL, from plan.CheckMHL) is hashed in the
// same read, in a format the history recorded, beside BLAKE3 on each part. Frame.io completes
// a file when its last part arrives, so the last part still to send is held back and PUT
// only once the hash matched: a file whose bytes differ from what the DIT hashed never
// completes, its placeholder is deleted, and the change fails with *MHLMismatchError naming
// both hashes. An adopt of a complete interrupted upload is checked the same way.
//
// # Concurrency
//
// Options.Parallel files are in flight at once (a conc pool); each file runs its parts on its
// own stream. Creates are not paced here: the frameio client paces every request class from
// the rate-limit headers, shared by all goroutines, so parallel files queue behind the client's
// limiter instead of storming the API with 429s.
//
// # Interruption
//
// When the context is cancelled, no new file starts, in-flight requests are aborted, every
// state change made so far is already durable (state updates use a context that is not
// cancelled), and Run returns an error wrapping context.Canceled.
//
// # Several runners
//
// With Options.Claims (a store.Runner of a PostgreSQL state) the run is one of several
// fiosync processes applying the same manifest to one state. It claims each address, and each
// folder it must create, before working on it; a change another runner holds waits for the
// next round, and each round first settles, in one read, what the others finished (Outcome
// Elsewhere). Holding a claim, the run reads the address's entry as stored now: a pending
// upload that a dead runner left is recovered like an interrupted apply's, and an entry that
// matches neither the plan nor its outcome fails the change as stale. A move claims both its
// addresses (From and Address): a move another runner made is Elsewhere, and one a runner
// wrote ahead and did not settle (it died between the write-ahead and the end) is finished
// as after a crash, looking at the file first, so it is moved once. Moves another runner
// holds are tried again after the uploads. Events then name the runner (Event.Runner).
//
// # Events
//
// Run reports progress to an Observer as Events (start, folder, file_start, progress,
// file_done, file_elsewhere, file_failed, delete, summary) that render as JSON lines as they
// are. Observers are called from many goroutines and must be cheap.
package apply
