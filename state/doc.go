// Package state is the record of what fiosync delivered to Frame.io: the
// document model, plain data with no I/O. Its encoding is state/statefile, its
// persistence (backends, locks, the Writer apply shares) is state/store and
// state/pgstate, and the identity of file content is package source.
//
// # The record
//
// A State is plain data: the target project, the folder ids fiosync created
// by path, and one Entry per address (the destination path of a file). An
// entry says where its content came from (Source), which Frame.io file holds
// it, and whether the upload finished (StatusPending, StatusComplete). The
// planner compares the manifest with the state to tell new, changed and
// unchanged files apart; a person reading the file can audit a delivery.
//
// Two numbers guard the record's history, as in Terraform's state. Lineage is
// random and fixed when a state is created: a state file copied from another
// project has another lineage and cannot replace this one by accident.
// Serial counts saves: a Backend saves only over the serial the state was
// loaded at (compare-and-swap), so a process that missed a save fails with
// ErrStale instead of undoing it. A saved plan records both, so that apply can
// refuse a plan made against a state that has since moved on.
//
// Subpackages, on the model of Terraform's states, statefile and statemgr:
//   - state/statefile: the file format (Encode, Decode, a checksum of the
//     content, format upgrades, a fast decoder for the documents Encode writes).
//   - state/store: Backend, the persistence seam; File, the local backend with
//     its flock(2) lock; Writer, the single writer apply's workers share.
//   - state/pgstate: the PostgreSQL backend.
//   - state/statetest and state/store/storetest: fixtures, and the conformance
//     suite every backend runs.
package state
