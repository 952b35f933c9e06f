// Package verify checks what Frame.io holds against the state: for each selected address it
// downloads the delivered file's original bytes through media_links.original, hashes them
// with BLAKE3 as they stream in, and compares digest and size with what the state expects
// (state.Entry.Expected). It records each result in the state (state.Entry.VerifiedAt and the
// fields beside it) through the state's Writer, never changing which files are delivered.
//
// # Streaming and resuming
//
// A file is never held whole in memory. One no larger than Options.PartSize streams from a
// single ranged GET straight into the hasher. A larger one is fetched as ranged parts, up to
// Options.PartConcurrency of them at once into buffers of one part each, and the hasher takes
// the parts in file order; the buffers of all files together are bounded by Options.Budget, so
// memory does not grow with file size or count. A GET cut mid-way is resumed with a Range
// request from the byte it reached (the bytes already hashed are kept), and an expired
// download URL is replaced by a fresh one from the API once.
//
// # Remote entries
//
// fiosync never reads a remote source (Frame.io fetches the URL), so the state has no content
// hash for it. The first verify of a remote entry records the BLAKE3 and size it downloaded
// (OutcomeRecorded); later verifies compare with them.
//
// # More hashes from the same bytes
//
// Options.Tee returns a writer to feed with each file's bytes in file order, in the same pass
// as BLAKE3: `fiosync verify --mhl-out` hashes them for an ASC MHL transfer generation.
package verify
