// Command fiosync syncs the uploads described in a YAML manifest to Frame.io V4, the way
// Terraform syncs infrastructure: plan shows what would change, apply does only that.
//
// This package is a thin shell: it parses flags with kong, wires the Frame.io client and the
// state backend, renders output and maps errors to exit codes. The work happens in the
// manifest, state, frameio, plan and apply packages.
package main
