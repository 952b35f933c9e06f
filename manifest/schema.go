package manifest

import _ "embed"

//go:embed fiosync.schema.json
var schema []byte

// SchemaURL is the schema's $id, where editors fetch it: the starter manifest names it in its
// yaml-language-server comment.
const SchemaURL = "https://raw.githubusercontent.com/fiosync/fiosync/main/manifest/fiosync.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the manifest, for editors and for
// `fiosync schema`. It holds what a schema can: every key, type and enum, and patterns for
// the rules Parse checks on a value as written (absolute "to" without empty, "." or ".."
// segments; http(s) URLs; well-formed ${NAME}), each of which also accepts a ${NAME} where a
// variable could make the value right. What needs the environment or the disk (unset
// variables, paths that lead outside, duplicate addresses, glob syntax) only Parse and Expand
// check; schema_test.go lists those cases.
func Schema() []byte {
	return append([]byte(nil), schema...)
}
