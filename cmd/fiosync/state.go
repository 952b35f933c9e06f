package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/statefile"
	"github.com/fiosync/fiosync/state/store"
)

type stateCmd struct {
	List   stateListCmd   `cmd:"" help:"List the addresses the state tracks."`
	Show   stateShowCmd   `cmd:"" help:"Show what the state records for one address."`
	Rm     stateRmCmd     `cmd:"" help:"Forget an address without touching Frame.io."`
	Unlock stateUnlockCmd `cmd:"" help:"Remove the state lock left by a process that is gone."`
	Push   statePushCmd   `cmd:"" help:"Upload a state file into the configured state (e.g. PostgreSQL)."`
	Pull   statePullCmd   `cmd:"" help:"Print the configured state in the state file format."`
}

// stateLocation names a state without needing a valid manifest: only the manifest's
// directory matters, so the state stays inspectable while the manifest is broken.
type stateLocation struct {
	manifestFlag
	stateFlags
}

// load opens the state and reads it. The caller closes the backend with closeBackend.
func (l *stateLocation) load(ctx context.Context) (store.Backend, *state.State, error) {
	b, err := l.backend(l.File)
	if err != nil {
		return nil, nil, err
	}
	st, err := loadState(ctx, b)
	if err != nil {
		closeBackend(b)
		return nil, nil, err
	}
	return b, st, nil
}

// loadLocked opens the state, takes its lock for operation op and reads it, for the commands
// that change it. release unlocks it and closes the backend.
func (l *stateLocation) loadLocked(ctx context.Context, op string) (b store.Backend, st *state.State, release func(), err error) {
	b, err = l.backend(l.File)
	if err != nil {
		return nil, nil, nil, err
	}
	unlock, err := b.Lock(ctx, store.LockInfo{Operation: op}, l.LockTimeout)
	if err != nil {
		closeBackend(b)
		return nil, nil, nil, err
	}
	release = func() {
		unlock.Unlock()
		closeBackend(b)
	}
	if st, err = loadState(ctx, b); err != nil {
		release()
		return nil, nil, nil, err
	}
	return b, st, release, nil
}

// loadState reads b's state; that there is none yet is an error saying when there will be.
func loadState(ctx context.Context, b store.Backend) (*state.State, error) {
	st, err := b.Load(ctx)
	if errors.Is(err, store.ErrNoState) {
		return nil, fmt.Errorf("no state at %s yet: it is written by the first fiosync apply", b)
	}
	return st, err
}

type stateListCmd struct {
	stateLocation
}

func (c *stateListCmd) Run(ctx context.Context, io *stdio) error {
	b, st, err := c.load(ctx)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	if err := writeStateList(io.Out, st); err != nil {
		return err
	}
	if c, ok := b.(store.Claimer); ok {
		claims, err := c.Claims(ctx)
		if err != nil {
			return err
		}
		return writeClaims(io.Out, claims)
	}
	return nil
}

type stateShowCmd struct {
	stateLocation
	JSON    bool   `name:"json" help:"Print the entry as JSON."`
	Address string `arg:"" help:"The address, e.g. /Dailies/day01/A-Cam/A001C001.mov."`
}

func (c *stateShowCmd) Run(ctx context.Context, io *stdio) error {
	b, st, err := c.load(ctx)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	if !c.JSON {
		return noEntryHint(describeEntry(io.Out, st, c.Address), c.Address)
	}
	data, err := statefile.EntryJSON(st, c.Address)
	if err != nil {
		return noEntryHint(err, c.Address)
	}
	_, err = io.Out.Write(append(data, '\n'))
	return err
}

func noEntryHint(err error, address string) error {
	if errors.Is(err, state.ErrNoEntry) {
		return fmt.Errorf("the state has no entry %q; 'fiosync state list' shows the addresses it has", address)
	}
	return err
}

type stateRmCmd struct {
	stateLocation
	Address []string `arg:"" help:"The addresses to forget."`
}

func (c *stateRmCmd) Help() string {
	return "Removes addresses from the state only: the files stay in Frame.io, and the next plan\nsees those addresses as new (or, with --adopt, adopts the files already there)."
}

func (c *stateRmCmd) Run(ctx context.Context, io *stdio) error {
	b, st, release, err := c.loadLocked(ctx, "state rm")
	if err != nil {
		return err
	}
	defer release()
	for _, a := range c.Address {
		if !st.Remove(a) {
			return noEntryHint(fmt.Errorf("remove %q: %w", a, state.ErrNoEntry), a)
		}
	}
	if err := b.Save(ctx, st); err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "Removed %d address(es) from %s; the files remain in Frame.io.\n", len(c.Address), b)
	return nil
}

type stateUnlockCmd struct {
	stateLocation
}

func (c *stateUnlockCmd) Help() string {
	return "fiosync holds an operating-system lock that vanishes with its process, so this is only\nneeded on file systems where such locks do not work. Make sure no fiosync is running first."
}

func (c *stateUnlockCmd) Run(ctx context.Context, io *stdio) error {
	b, err := c.backend(c.File)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	if err := b.ForceUnlock(ctx); err != nil {
		return fmt.Errorf("unlock %s: %w", b, err)
	}
	fmt.Fprintf(io.Out, "Unlocked %s.\n", b)
	return nil
}
