package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

type importCmd struct {
	APIFlags
	manifestFlag
	stateFlags

	Force   bool   `help:"Record the file even when its size differs from the local source's (the next plan then sees the address as unchanged; use with care)."`
	Address string `arg:"" help:"The address the manifest produces, e.g. /2026-11-26/A-Cam/A001.mov."`
	FileID  string `arg:"" name:"FILE_ID" help:"The id of the Frame.io file to record for it."`
}

func (c *importCmd) Help() string {
	return `Records a file that is already in Frame.io as the delivery of one address, so that plan no
longer uploads it. The file must be an uploaded file (not a folder, not an upload in progress)
of the target project and, for a local source, of the local file's size (--force skips that
check). The local file is read once to record its hash. An address the state already tracks
is refused: 'fiosync state rm ADDRESS' first. To adopt many files by name and size at once,
use 'fiosync plan --adopt --out PLANFILE' and apply the plan.`
}

func (c *importCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	s, err := openSession(ctx, &c.manifestFlag, &c.stateFlags, "import", "", nil, io.Err)
	if err != nil {
		return err
	}
	defer s.close()
	s.resumeCollector() // no plan to make

	i := slices.IndexFunc(s.files, func(d manifest.Desired) bool { return d.Address == c.Address })
	if i < 0 {
		return unknownAddress(c.Address, s.files)
	}
	d := s.files[i]

	client, err := g.client(ctx)
	if err != nil {
		return err
	}
	t, err := plan.ResolveTarget(ctx, client, s.m.Target)
	if err != nil {
		return err
	}
	st := s.stateFor(t)
	if err := plan.CheckTarget(st.Target, t); err != nil {
		return err
	}
	f, err := client.File(ctx, t.AccountID, c.FileID)
	switch {
	case frameio.IsNotFound(err):
		return fmt.Errorf("no file %s in Frame.io (account %s)", c.FileID, t.AccountID)
	case err != nil:
		return fmt.Errorf("look up file %s: %w", c.FileID, err)
	}
	if err := c.check(f, d, t, io); err != nil {
		return err
	}
	rf := plan.RemoteFile{ID: f.ID, Name: f.Name, ParentID: f.ParentID, Size: f.FileSize, Status: f.Status, CreatedAt: f.CreatedAt, ViewURL: f.ViewURL}
	p, err := plan.Import(d, rf, s.st, t, plan.ImportOptions{AnySize: c.Force})
	if errors.Is(err, plan.ErrSizeMismatch) {
		return fmt.Errorf("%w; pass --force to record it anyway", err)
	}
	if err != nil {
		return err
	}
	// The one adopt goes through apply, as a saved plan --adopt would: the local file is
	// read once to record its hash, and the entry is saved through the state's Writer.
	w := store.NewWriter(s.backend, st)
	res, err := apply.Run(ctx, p, apply.Options{Client: client, State: w, Manifest: s.m})
	if err != nil {
		return err
	}
	e := w.Snapshot().Entries[d.Address]
	if e == nil || res.Adopted != 1 {
		return fmt.Errorf("import %s: the file was not recorded", d.Address)
	}
	// The address, the source and the id and name Frame.io answered are all untrusted text.
	src := escape.Text(e.Source.URL)
	if d.Source.Kind == source.Local {
		src = fmt.Sprintf("%s (%s, %s)", escape.Text(e.Source.Path), display.Bytes(e.Source.Size), e.Source.Hash)
	}
	fmt.Fprintf(io.Out, "Imported %s: Frame.io file %s (%q, %s) from %s.\n", escape.Text(d.Address), escape.Text(f.ID), f.Name, display.Bytes(f.FileSize), src)
	fmt.Fprintf(io.Out, "Recorded in %s; the next plan sees the address as delivered.\n", s.backend)
	return nil
}

// check refuses a Frame.io file that cannot be the delivery of d for what only a full file
// record tells (its type and project; plan.Import holds the rules of every adopt), and warns
// about a difference that may be intended.
func (c *importCmd) check(f *frameio.File, d manifest.Desired, t state.Target, io *stdio) error {
	switch {
	case f.Type != "" && f.Type != frameio.TypeFile:
		return fmt.Errorf("%s is a %s, not a file; import records files only", f.ID, strings.ReplaceAll(f.Type, "_", " "))
	case f.ProjectID != "" && f.ProjectID != t.ProjectID:
		return fmt.Errorf("file %s belongs to project %s, but the manifest targets project %q (id %s)", f.ID, f.ProjectID, t.Project, t.ProjectID)
	}
	if d.Source.Kind == source.Local && d.Source.Size != f.FileSize && c.Force {
		fmt.Fprintf(io.Err, "warning: %s has %s and Frame.io file %s has %s; recording it anyway (--force)\n",
			escape.Text(d.Source.Path), display.Bytes(d.Source.Size), escape.Text(f.ID), display.Bytes(f.FileSize))
	}
	if f.Name != d.Name {
		fmt.Fprintf(io.Err, "warning: Frame.io file %s is named %q, not %q; recording it for %s anyway\n", escape.Text(f.ID), f.Name, d.Name, escape.Text(d.Address))
	}
	if d.Source.Kind == source.Remote {
		fmt.Fprintf(io.Err, "warning: %s comes from a URL; fiosync cannot compare its content with Frame.io file %s\n", escape.Text(d.Address), escape.Text(f.ID))
	}
	return nil
}

// maxNear bounds the addresses an unknown-address error suggests.
const maxNear = 5

// unknownAddress explains that addr is not produced by the manifest, naming the addresses
// that share its file name or its folder, which is where a typo usually hides.
func unknownAddress(addr string, files []manifest.Desired) error {
	var near []string
	name, folder := path.Base(addr), path.Dir(addr)
	for _, d := range files {
		if d.Name == name || d.Folder == folder || strings.EqualFold(d.Address, addr) {
			near = append(near, d.Address)
		}
	}
	msg := fmt.Sprintf("the manifest produces no address %q", addr)
	switch {
	case len(near) > maxNear:
		msg += fmt.Sprintf("; near it: %s and %d more", strings.Join(near[:maxNear], ", "), len(near)-maxNear)
	case len(near) > 0:
		msg += "; near it: " + strings.Join(near, ", ")
	case len(files) > 0:
		msg += fmt.Sprintf("; addresses are destination paths such as %s ('fiosync plan' lists them)", files[0].Address)
	default:
		msg += "; it produces no files at all"
	}
	return errors.New(msg)
}
