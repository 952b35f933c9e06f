// Package mhl reads and writes ASC Media Hash List (ASC MHL v2.0) histories: the ascmhl/
// folder a DIT writes beside a camera card, holding one manifest ("generation") per operation
// and ascmhl_chain.xml, which records the C4 of every generation so a changed history shows.
//
// Reading: Load(root) loads root/ascmhl. It refuses a history whose chain is missing, whose
// generations do not match the C4s the chain records, or that holds a generation the chain does
// not list (TamperedError), and any path that is absolute or leaves the root (an error naming
// the file, line and element). History.Lookup gives what the history says of a file, by its
// path relative to the root: the earliest original or verified hash in each format (failed
// hashes never vouch for content), and the size and modification date recorded with them.
// A nested history (a subfolder with its own ascmhl/) is loaded from its own root; Nearest
// finds the history that covers a file. Sizes are bounded: a hostile history costs bounded
// memory.
//
// Hashing: NewHasher(formats...) is an io.Writer computing any of c4, md5, sha1, xxh128, xxh3
// and xxh64 in one pass; Sum(format) gives the text ASC MHL writes (lower-case hex, big-endian
// for the xxHash family, high half first for xxh128; C4 is base58 of SHA-512, per SMPTE ST
// 2114).
//
// Writing: WriteTransfer(dir, Transfer) appends a generation with process "transfer" to
// dir/ascmhl (created when missing) and adds it to the chain:
//
//	w, err := mhl.WriteTransfer(outDir, mhl.Transfer{
//		Creator: mhl.Creator{Tool: "fiosync", ToolVersion: version},
//		Time:    start, // names the file: NNNN_<dir name>_<UTC date>_<UTC time>Z.mhl
//		Files: []mhl.FileHashes{{
//			Path: "Clips/A001.mov", Size: n, ModTime: mtime,
//			Hashes: map[mhl.Format]string{mhl.XXH128: h.Sum(mhl.XXH128)},
//		}},
//	})
//
// The history already in dir is checked first (a tampered one is refused) and never
// rewritten: the new generation is numbered after the last and created exclusively, and the
// chain is replaced atomically. Each hash's action (original, verified, failed) is decided
// against that history; Written.Failed lists the files that did not match. The output is
// valid against the ASC MHL XSDs (testdata/, checked with xmllint in the tests).
package mhl
