// Package receipt makes and checks delivery receipts: for every address of a state, what was
// delivered (size, BLAKE3, Frame.io file id, version stack, view_url), when it was uploaded and
// last verified, where it came from, into which project, and the state's lineage and serial.
//
// # The checked form
//
// JSON is the checked form. Its last member is "checksum": "blake3:<64 hex digits>", the
// BLAKE3-256 of the canonical content: the receipt's bytes exactly as written, with that
// member's value replaced by the empty string (`"checksum": ""`). So a receipt can be checked
// without fiosync:
//
//	sed 's/"checksum": "blake3:[0-9a-f]*"/"checksum": ""/' receipt.json | b3sum
//
// (no string value can contain that text: a quote inside a JSON string is escaped). Any
// edited byte, whitespace included, makes the checksum fail. The checksum detects accidental
// damage only: whoever edits a receipt can compute a new one. The proof is `fiosync verify
// --receipt`, which checks the receipt's files against Frame.io itself. Markdown is for
// reading (a pull request comment); it carries the JSON form's checksum at its end.
package receipt
