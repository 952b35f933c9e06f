package state

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fiosync/fiosync/source"
)

// FormatVersion is the version of the state file format this package writes.
// Files with a lower version are upgraded on load; files with a higher one are
// refused. Version 2 added Manifest; version 3 the verify results of an Entry
// (VerifiedAt and the fields beside it), its ViewURL, the target's account and workspace
// names, and the move followup step (StepMove).
const FormatVersion = 3

// State is the record of what fiosync delivered to one Frame.io project. It
// is plain data: reading and writing it is the job of a Backend, and
// concurrent changes during apply go through a Writer.
type State struct {
	// Version is the format version, FormatVersion for a state in memory.
	Version int `json:"version"`
	// Serial counts successful saves. Backends use it to refuse a save from a
	// process that did not see the latest state.
	Serial uint64 `json:"serial"`
	// Lineage identifies this state's history. It is random, fixed when the
	// state is created, and never changes, so that a state file copied from
	// another project cannot silently replace this one.
	Lineage string `json:"lineage"`
	// Target is the Frame.io project the state describes.
	Target Target `json:"target"`
	// Manifest is the manifest that writes this state: its path relative to
	// the state's location (a state file's directory), slash-separated, such
	// as "day04.yaml" or "../deliveries/day04.yaml". Never absolute, so the
	// state stays valid when the tree is moved or checked out elsewhere.
	// Empty in states written before fiosync recorded it (format 1).
	Manifest string `json:"manifest,omitempty"`
	// Folders maps a folder path such as "/A/B" to the id of the folder
	// fiosync created or found there.
	Folders map[string]string `json:"folders"`
	// Entries maps an address (the destination path of a file) to what was
	// delivered there.
	Entries map[string]*Entry `json:"entries"`
}

// Target identifies the Frame.io project a state belongs to.
type Target struct {
	AccountID    string `json:"account_id"`
	WorkspaceID  string `json:"workspace_id"`
	ProjectID    string `json:"project_id"`
	RootFolderID string `json:"root_folder_id"`
	// Project is the project's name, kept for messages only.
	Project string `json:"project,omitempty"`
	// Account and Workspace are the account's display name and the workspace's name, kept
	// for messages only (plan output, apply's prompt). Empty in states written before
	// fiosync recorded them.
	Account   string `json:"account,omitempty"`
	Workspace string `json:"workspace,omitempty"`
}

// Entry records the file fiosync delivered at one address.
type Entry struct {
	// Source is where the content came from and its identity at the time.
	Source source.Identity `json:"source"`
	// FileID is the Frame.io file id of the delivered file.
	FileID string `json:"file_id"`
	// ParentID is the id of the folder the file was created in.
	ParentID string `json:"parent_id"`
	// ViewURL is the Frame.io page of the file, as the API returned it when the file was
	// created (what a producer clicks); empty for adopted and imported files and in states
	// written before fiosync recorded it.
	ViewURL string `json:"view_url,omitempty"`
	// VersionStackID is set when on_change=version stacked the file onto an
	// earlier upload.
	VersionStackID string `json:"version_stack_id,omitempty"`
	// Previous lists older file ids fiosync uploaded for this address and
	// left in Frame.io (on_change keep or version), oldest first.
	Previous []string `json:"previous,omitempty"`
	// Status is StatusPending from the moment the remote file exists until
	// every part is confirmed, then StatusComplete.
	Status Status `json:"status"`
	// Followup is the on_change step this entry still owes an earlier file of
	// its address: written ahead with the pending upload that replaces that
	// file, kept after the upload completes, and cleared once the step
	// succeeded. A complete entry with a Followup is not finished: the next
	// plan shows it and apply runs the step.
	Followup *Followup `json:"followup,omitempty"`
	// CreatedAt is when the remote file was created.
	CreatedAt time.Time `json:"created_at,omitzero"`
	// UploadedAt is when the upload completed; zero while pending.
	UploadedAt time.Time `json:"uploaded_at,omitzero"`

	// VerifiedAt is when `fiosync verify` last downloaded VerifiedFileID from Frame.io and
	// found VerifiedSize bytes hashing to VerifiedHash, the content the entry expects (see
	// Expected). A remote entry has no content hash of its own (Frame.io fetched the URL,
	// fiosync never read it): its first verify records what it downloaded, and later ones
	// compare with that. Zero until a verify matched.
	VerifiedAt     time.Time     `json:"verified_at,omitzero"`
	VerifiedFileID string        `json:"verified_file_id,omitempty"`
	VerifiedSize   int64         `json:"verified_size,omitzero"`
	VerifiedHash   source.Digest `json:"verified_hash,omitzero"`
	// VerifyFailedAt is when the last verify found the file missing from Frame.io or its
	// content different; zero when the last verify matched. The Verified fields keep what
	// an earlier verify confirmed, so a remote entry never takes damaged bytes as its
	// reference.
	VerifyFailedAt time.Time `json:"verify_failed_at,omitzero"`
}

// Expected returns the content Frame.io should hold for e: the source's BLAKE3 and size for
// a local entry, what the first verify recorded for a remote one. ok is false when nothing
// is known yet (a remote entry never verified).
func (e *Entry) Expected() (hash source.Digest, size int64, ok bool) {
	if e.Source.Kind == source.Local && !e.Source.Hash.IsZero() {
		return e.Source.Hash, e.Source.Size, true
	}
	if e.FileID != "" && e.VerifiedFileID == e.FileID && !e.VerifiedHash.IsZero() {
		return e.VerifiedHash, e.VerifiedSize, true
	}
	return source.Digest{}, 0, false
}

// Verified reports whether the last verify of e's current file found it as expected.
func (e *Entry) Verified() bool {
	return e.FileID != "" && e.VerifiedFileID == e.FileID && !e.VerifiedAt.IsZero() && e.VerifyFailedAt.IsZero()
}

// Followup is an on_change step to run on an earlier file once its
// replacement is uploaded.
type Followup struct {
	// Step is StepStack, StepDelete or StepMove.
	Step Step `json:"step"`
	// FileID is the earlier file the step applies to.
	FileID string `json:"file_id"`
}

// Step names an on_change step.
type Step string

// The steps of a Followup.
const (
	// StepStack stacks the entry's file onto the earlier one (on_change: version).
	StepStack Step = "stack"
	// StepDelete deletes the earlier file (on_change: replace).
	StepDelete Step = "delete"
	// StepMove moves the entry's own file (FileID; its version stack when it has one) into
	// the entry's ParentID under the address's name. Written ahead by apply when it re-keys
	// an entry to the address its content moved to, before it calls Frame.io, so an
	// interrupted move is finished by the next apply.
	StepMove Step = "move"
)

// Status is the delivery status of an Entry.
type Status string

// The statuses of an Entry.
const (
	// StatusPending: the remote file was created but its parts are not all
	// confirmed. Apply resumes or replaces it.
	StatusPending Status = "pending"
	// StatusComplete: every part was confirmed.
	StatusComplete Status = "complete"
)

// New returns an empty state for target with a fresh lineage and serial 0.
func New(target Target) *State {
	return &State{
		Version: FormatVersion,
		Lineage: newLineage(),
		Target:  target,
		Folders: map[string]string{},
		Entries: map[string]*Entry{},
	}
}

// newLineage returns a random version 4 UUID.
func newLineage() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	c.Folders = maps.Clone(s.Folders)
	if c.Folders == nil {
		c.Folders = map[string]string{}
	}
	c.Entries = make(map[string]*Entry, len(s.Entries))
	for addr, e := range s.Entries {
		c.Entries[addr] = e.Clone()
	}
	return &c
}

// Clone returns a deep copy of e.
func (e *Entry) Clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Previous = slices.Clone(e.Previous)
	if e.Followup != nil {
		f := *e.Followup
		c.Followup = &f
	}
	return &c
}

// Addresses returns the addresses of all entries, sorted.
func (s *State) Addresses() []string {
	return slices.Sorted(maps.Keys(s.Entries))
}

// FileIDs returns the ids of every Frame.io file the state knows, at any
// address: each entry's file and the older versions it keeps.
func (s *State) FileIDs() map[string]bool {
	ids := map[string]bool{}
	for _, e := range s.Entries {
		if e.FileID != "" {
			ids[e.FileID] = true
		}
		for _, id := range e.Previous {
			ids[id] = true
		}
	}
	return ids
}

// Remove forgets the entry at address without touching Frame.io, as
// `fiosync state rm` does. It reports whether there was such an entry.
func (s *State) Remove(address string) bool {
	if _, ok := s.Entries[address]; !ok {
		return false
	}
	delete(s.Entries, address)
	return true
}
