// Package escape renders untrusted text (file names, addresses, ids and messages that come
// from a manifest, a file system, a state file or Frame.io) for one sink at a time, so that
// what a name contains can never pass for fiosync's own output.
//
// Text is for terminal lines and logs: a control character (newline, tab, ESC, DEL, C1), a
// format character (the bidi controls U+202A–U+202E and U+2066–U+2069, U+200E, U+200F,
// U+061C, zero-width characters and the rest of Unicode's Cf), a line or paragraph separator,
// any other character that does not print, and a byte that is not UTF-8 are written as
// visible escapes: \n, \t, \x1b, \u202e, \xff. A backslash is doubled, so an escape in the
// output always stands for one character of the input, and a name that is plain printable
// text comes back unchanged. A rendered name is therefore one line, and it cannot move the
// cursor, retitle the terminal, reorder what follows it, or start a line of its own.
//
// Markdown is for a cell of a markdown table (the pull request summary of a plan): Text's
// escapes, inside a code span whose fence no backtick in the text can close, with the pipes
// that would end the cell escaped. Inside a code span markdown and HTML are not interpreted,
// so a name cannot inject links, images, emphasis or tags either.
//
// JSON needs nothing from here: encoding/json escapes control characters, and the consumers
// of JSON output decode it.
package escape
