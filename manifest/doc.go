// Package manifest parses and validates fiosync.yaml, the file in which
// users describe what to upload to Frame.io, and expands it into the sorted
// list of files the planner compares with state.
//
// # Two steps: Parse, then Expand
//
// Parse (and Load, which reads the file and uses the process environment)
// needs no file system. It decodes the YAML into yaml.Node trees and walks
// them itself, because yaml.v3's typed decoding cannot report unknown keys
// with a column, and Node.Decode ignores KnownFields altogether. Walking
// the nodes gives every problem a line and column and our own wording, and
// lets Parse report all of them at once as an ErrorList sorted by
// position:
//
//	fiosync.yaml:12:7: uploads[2].to: must be an absolute folder path such as "/Dailies/Day 01"
//
// Expand walks the disk. A local entry is a file (it lands directly in
// "to"), a directory (walked recursively, its structure mirrored under
// "to") or a glob with doublestar syntax including "**" (the structure below
// the glob's fixed prefix is mirrored; a directory that matches the glob is
// taken whole). A remote entry is one file named by its URL. Expand returns
// the desired files sorted byte-wise by address, which makes the order the
// same on every run and every operating system.
//
// # Rules worth knowing
//
//   - "version: 1" is required. Unknown keys are errors, with a guess at
//     the intended key for near misses ("exlude": did you mean "exclude"?).
//   - "to" is an absolute folder path without empty, "." or ".." segments.
//     A trailing slash is tolerated and dropped: "/Reels/" is "/Reels".
//   - ${NAME} expands an environment variable in any string value; an unset
//     variable is an error at the value. "$${" is a literal "${"; any other
//     "$" is kept as written.
//     WithVarCheck lets the caller refuse variables (the CLI refuses
//     credentials by name and by value); a refusal is an error at the value
//     that never shows the value.
//   - Local paths are slash-separated and relative to the manifest's
//     directory. An absolute path, a path through "..", or a symlink
//     (anywhere in the walk) leading out of the directory is refused unless
//     the entry sets allow_outside: true. Escaped glob characters ("\*")
//     are understood in globs only; a path without glob characters is used
//     exactly as written.
//   - Exclude patterns use the same doublestar syntax and are matched
//     against the whole path below the entry's base (the directory, the
//     glob's fixed prefix, or for a single file its name), so
//     "**/.DS_Store" excludes the file at any depth and "*.tmp" only at the
//     top. An excluded directory is not walked.
//   - Names are NFC-normalised in addresses (macOS may store NFD), while
//     Path and Source.Path keep the bytes on disk so the file can be opened.
//   - Sockets, devices and FIFOs are skipped with a warning. A missing
//     source, a source that matches no files, an unreadable file, a broken
//     symlink and a symlink loop are errors. So are two entries (or two
//     files of one entry) producing one address.
//   - The manifest itself never takes part in an expansion, nor do the files
//     Manifest.Ignore names by path or by name: the CLI passes fiosync's own
//     (every "*.state.json*", this run's state, backup, lock and plan file),
//     so this package knows nothing of the state's file names.
//
// # Hostile input
//
// The manifest lives in git and is sometimes written by scripts, so Parse
// treats it as untrusted: no input makes it panic (FuzzLoad checks this).
// Aliases are resolved by our walk with a budget, so alias cycles, which
// yaml.v3 accepts, and "billion laughs" documents end in an error rather
// than a hang. A second YAML document, tabs in indentation, an empty file
// and a non-mapping top level each get a plain message. yaml.v3 syntax
// errors carry a line at best; Parse turns them into FILE:LINE:COL form,
// finding the column where it can (the offending tab, the unknown alias).
// Messages never quote a remote URL, whose query string may be a presigned
// credential.
package manifest
