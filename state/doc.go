// Package state records what fiosync delivered to Frame.io, keeps that
// record safe on disk, and identifies file content.
//
// # The record
//
// A State is plain data: the target project, the folder ids fiosync created
// by path, and one Entry per address (the destination path of a file). An
// entry says where its content came from (Source), which Frame.io file holds
// it, and whether the upload finished (StatusPending, StatusComplete). The
// planner compares the manifest with the state to tell new, changed and
// unchanged files apart; a person reading the file can audit a delivery.
//
// Two numbers guard the record's history, as in Terraform's state. Lineage is
// random and fixed when a state is created: a state file copied from another
// project has another lineage and cannot replace this one by accident.
// Serial counts saves: a Backend saves only over the serial the state was
// loaded at (compare-and-swap), so a process that missed a save fails with
// ErrStale instead of undoing it. A saved plan records both, so that apply can
// refuse a plan made against a state that has since moved on.
//
// # The file format
//
// Encode writes indented JSON with a fixed field order, sorted map keys, UTC
// times and a trailing newline, so successive states diff cleanly in git. The
// last field, "checksum", is the BLAKE3 of the canonical (compact) encoding of
// everything else; Decode refuses a file whose checksum does not match, that
// does not parse, or that has fields it does not know (it was edited, damaged
// or written by something else). "version" is the format version: older ones
// are upgraded on load, one step per version (see upgrade), and newer ones are
// refused with a message saying to upgrade fiosync. The file holds no tokens
// and no presigned URLs: remote sources keep their URL without the query and
// a BLAKE3 of the whole URL.
//
// # Persistence and locking
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
// Apply finishes files on many goroutines and records each as it finishes.
// Writer is the one writer they share: Update changes the state under a
// mutex and returns once the change is durable, coalescing saves that
// arrive while another is on disk.
//
// # Content identity
//
// Local content is identified by BLAKE3-256 (Digest, written "blake3:<hex>").
// HashFile and HashReader stream through one pooled buffer and never hold a
// file in memory; Hasher lets apply hash a file in order while its parts
// upload. Identify hashes many files in parallel, one goroutine per file,
// bounded by a pool. It first consults the stat cache: an entry records the
// size, mtime, inode and ctime of the file it hashed, and when all four are
// unchanged (Source.Matches) the recorded hash is trusted without reading
// the file. The ctime and inode catch what size and mtime miss: a file
// rewritten and given its old mtime back, or replaced by a copy with
// preserved times.
package state
