// Package partjournal keeps, on the machine that uploads, a journal of each local upload in
// flight: the file's presigned part URLs and which parts Frame.io accepted, so that an apply
// killed half way through a large file re-sends only the missing parts.
//
// Presigned URLs are credentials (whoever has one may write that part), so the journal lives
// apart from the state, which is meant for git and may sit in PostgreSQL: one file per upload
// under the user's state directory ($XDG_STATE_HOME/fiosync/parts, else
// ~/.local/state/fiosync/parts), the directory mode 0700 and each file 0600, never printed.
// A journal is machine-local: another machine, or one whose journal is gone, starts the file
// again from its first byte.
//
// A journal file is one JSON line describing the upload (Upload), then one line per part
// accepted, holding the part's index. Lines are appended as parts finish and a line cut short
// by a crash is ignored, so a journal is never worse than what Frame.io has: at worst a part
// is sent twice. Upload.Usable is the one rule that says whether a journal can still be
// resumed; plan and apply both ask it.
package partjournal
