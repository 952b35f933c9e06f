// Package source says where a file's content comes from and identifies it.
//
// Kind tells local files from remote URLs; the manifest, the state and the plan share it.
// An Identity is what fiosync knows of one file's content: for a local file its path
// relative to the manifest, its stat (size, mtime, inode, ctime) and, once read, its
// BLAKE3-256 (Digest, written "blake3:<hex>"); for a remote source the URL without its
// query and the BLAKE3 of the whole URL, so a signed URL is never stored.
//
// # The unchanged-file rule
//
// Unchanged is the one function that decides whether a local file is unchanged since an
// identity was recorded, without reading it: the stat cache. Identify applies it to the
// files of a plan and hashes only those it cannot vouch for; apply applies it to check
// that a file did not change between plan and upload, or while it was being sent. Other
// places that need the answer call it rather than comparing fields themselves.
//
// # Hashing
//
// HashFile and HashReader stream through one pooled buffer and never hold a file in memory;
// Hasher lets apply hash a file in order while its parts upload. Identify hashes many files
// in parallel, one goroutine per file, bounded by a pool.
package source
