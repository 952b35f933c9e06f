package manifest

import _ "embed"

//go:embed starter.yaml
var starter []byte

// Starter returns the commented manifest that `fiosync init` writes. It
// parses cleanly; expanding it needs a "media" directory beside it, and
// without one Expand says so at the entry ("media" does not exist).
func Starter() []byte {
	return append([]byte(nil), starter...)
}
