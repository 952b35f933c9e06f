package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

// defaultStateName names a PostgreSQL state after the manifest's target and the manifest's
// path relative to the working directory (only its file name when it lies outside), e.g.
// "Acme/Sandbox:deliveries/fiosync.yaml": every checkout of a repository that runs fiosync
// from its root computes the same name, and two manifests there get two states.
func defaultStateName(manifestPath string) (string, error) {
	m, err := loadManifest(manifestPath)
	if err != nil {
		return "", fmt.Errorf("name the PostgreSQL state after the manifest (or pass --state-name): %w", err)
	}
	var target []string
	for _, p := range []string{m.Target.Account, m.Target.Workspace, m.Target.Project} {
		if p != "" {
			target = append(target, p)
		}
	}
	rel := filepath.Base(manifestPath)
	if abs, err := filepath.Abs(manifestPath); err == nil {
		if wd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(r) {
				rel = r
			}
		}
	}
	return strings.Join(target, "/") + ":" + filepath.ToSlash(rel), nil
}

// closeBackend releases what a backend keeps open between calls (a database connection).
func closeBackend(b store.Backend) {
	if c, ok := b.(io.Closer); ok {
		c.Close()
	}
}

// replacer is a backend that stores a state exactly as given, serial included, if it still
// holds old (pgstate.Backend). A pushed state then keeps its serial and pulls back byte for
// byte.
type replacer interface {
	Replace(ctx context.Context, old, s *state.State) error
}

type statePushCmd struct {
	stateLocation
	Force     bool   `help:"Replace a stored state of another lineage, or one that is ahead of FILE."`
	StateFile string `arg:"" name:"FILE" help:"The state file to upload, e.g. fiosync.state.json."`
}

func (c *statePushCmd) Help() string {
	return `Uploads a state file into the state that --state (or FIOSYNC_STATE) selects, typically
to move a local fiosync.state.json into PostgreSQL. FILE keeps its serial when the target
is empty or behind it. Refused without --force when the target holds a state of another
lineage (another history, perhaps another project) or one that is ahead of FILE or differs
from it at the same serial: pushing would undo saves.`
}

func (c *statePushCmd) Run(ctx context.Context, io *stdio) error {
	src, err := store.NewFile(c.StateFile).Load(ctx)
	if errors.Is(err, store.ErrNoState) {
		return fmt.Errorf("no state file %q to push", c.StateFile)
	}
	if err != nil {
		return err
	}
	b, err := c.backend(c.File)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	unlock, err := b.Lock(ctx, store.LockInfo{Operation: "state push"}, c.LockTimeout)
	if err != nil {
		return err
	}
	defer unlock.Unlock()

	cur, err := b.Load(ctx)
	switch {
	case errors.Is(err, store.ErrNoState):
		cur = nil
	case err != nil:
		return err
	}
	next, err := pushed(cur, src, c.Force)
	if err != nil {
		return fmt.Errorf("push %q to %s: %w", c.StateFile, b, err)
	}
	if next == nil {
		fmt.Fprintf(io.Out, "%s already holds this state (serial %d); nothing to push.\n", b, cur.Serial)
		return nil
	}
	if r, ok := b.(replacer); ok {
		err = r.Replace(ctx, cur, next)
	} else {
		err = saveAs(ctx, b, cur, next)
	}
	if err != nil {
		return fmt.Errorf("push %q: %w", c.StateFile, err)
	}
	fmt.Fprintf(io.Out, "Pushed %s to %s: serial %d, lineage %s.\n", c.StateFile, b, next.Serial, next.Lineage)
	return nil
}

// pushed decides what pushing src over cur (nil: nothing stored) stores: src itself when
// the target is empty or behind on the same lineage; with force, src numbered past cur; nil
// when cur already is src.
func pushed(cur, src *state.State, force bool) (*state.State, error) {
	if cur == nil {
		return src, nil
	}
	past := func() *state.State {
		next := src.Clone()
		next.Serial = max(src.Serial, cur.Serial+1)
		return next
	}
	if cur.Lineage != src.Lineage {
		if !force {
			return nil, fmt.Errorf("the target holds a state of lineage %s (serial %d), the file one of lineage %s: they are different histories, perhaps different projects (pass --force to replace it): %w",
				cur.Lineage, cur.Serial, src.Lineage, store.ErrLineage)
		}
		return past(), nil
	}
	switch {
	case cur.Serial < src.Serial:
		return src, nil
	case cur.Serial > src.Serial:
		if !force {
			return nil, fmt.Errorf("the target is at serial %d, ahead of the file's %d: pushing would undo %d saves (pull it first, or pass --force): %w",
				cur.Serial, src.Serial, cur.Serial-src.Serial, store.ErrStale)
		}
		return past(), nil
	}
	same, err := sameDocument(cur, src)
	if err != nil || same {
		return nil, err
	}
	if !force {
		return nil, fmt.Errorf("the target and the file are both at serial %d but differ: the histories diverged (pass --force to replace the target): %w", cur.Serial, store.ErrStale)
	}
	return past(), nil
}

func sameDocument(a, b *state.State) (bool, error) {
	da, err := statefile.Encode(a)
	if err != nil {
		return false, err
	}
	db, err := statefile.Encode(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(da, db), nil
}

// saveAs stores next through Save, for backends that renumber every save (a state file):
// the target's serial goes up by one, and next.Serial says where it landed.
func saveAs(ctx context.Context, b store.Backend, cur, next *state.State) error {
	if cur != nil && cur.Lineage != next.Lineage {
		return fmt.Errorf("%s cannot take a state of another lineage by push; move it away first", b)
	}
	next.Serial = 0
	if cur != nil {
		next.Serial = cur.Serial
	}
	return b.Save(ctx, next)
}

type statePullCmd struct {
	stateLocation
}

func (c *statePullCmd) Help() string {
	return `Prints the state that --state (or FIOSYNC_STATE) selects in the state file format, byte for
byte what a state file holds: 'fiosync state pull > fiosync.state.json' copies a state out
of PostgreSQL.`
}

func (c *statePullCmd) Run(ctx context.Context, io *stdio) error {
	b, st, err := c.load(ctx)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	data, err := statefile.Encode(st)
	if err != nil {
		return err
	}
	if _, err := io.Out.Write(data); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
