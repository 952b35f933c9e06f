// Package statefile reads and writes the state file format.
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
// Decode goes through a decoder for exactly the documents Encode writes
// (strings as substrings of the file, no allocation per entry), and gives up on
// anything it is unsure of so that json/v2 decides, errors included: it never
// accepts what json/v2 refuses (FuzzDecodeFast holds the two equal). A new
// field of the state must be added to that decoder too, or every load falls
// back to json/v2 (TestTrickyStateHasEveryMember fails).
package statefile
