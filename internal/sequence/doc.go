// Package sequence recognises image sequences in file names and writes them compactly, the
// one way every fiosync output writes them: `shot010.[1001-3000].exr`.
//
// A sequence is a run of names in one folder that differ only in a zero-padded frame
// number: the last run of digits in the name, of the same width in every member. Gaps split
// the frame list into ranges (`shot010.[1001-1500,1502-3000].exr`), so one line still says
// exactly which frames there are. The package knows nothing of plans or folders: callers
// decide what may share a line (same folder, same action) and pass the names.
package sequence
