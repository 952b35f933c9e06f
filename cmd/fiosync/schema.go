package main

import (
	"github.com/fiosync/fiosync/manifest"
)

type schemaCmd struct{}

func (c *schemaCmd) Help() string {
	return `Prints the JSON Schema (draft 2020-12) of fiosync.yaml, for editors and linters. The manifest
that 'fiosync init' writes names the published copy in its first line,
"# yaml-language-server: $schema=` + manifest.SchemaURL + `",
which VS Code's YAML extension and other editors on the YAML language server use to complete
and check the file. To pin this fiosync's own schema, save it beside the manifest
('fiosync schema > fiosync.schema.json') and point the comment at that file instead.
'fiosync validate' checks what no schema can: variables, paths on disk, duplicate addresses.`
}

func (c *schemaCmd) Run(io *stdio) error {
	_, err := io.Out.Write(manifest.Schema())
	return err
}
