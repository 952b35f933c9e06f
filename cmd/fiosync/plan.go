package main

import (
	"context"
	"fmt"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state/store"
)

type planCmd struct {
	APIFlags
	manifestFlag
	stateFlags
	selectFlags
	moveFlags

	Out              string `placeholder:"PLANFILE" help:"Save the plan to this file for 'fiosync apply PLANFILE'."`
	JSON             bool   `name:"json" help:"Print the plan as one JSON object."`
	Format           string `enum:"text,markdown" default:"text" help:"Output format: text or markdown (a compact summary for pull requests)."`
	DetailedExitcode bool   `name:"detailed-exitcode" help:"Exit 0 when there are no changes, 2 when there are, 1 on errors."`
	Refresh          bool   `default:"true" negatable:"" help:"Look at Frame.io to find what changed there (--refresh=false trusts the state)."`
	MaxDelete        int    `name:"max-delete" default:"20" help:"Fail when the plan would delete more files than this (-1: no limit)."`
	Adopt            bool   `help:"Match untracked addresses to files already in their Frame.io folder (same name, uploaded, and for local files the same size) and plan to adopt them instead of uploading."`
	Parallel         int    `default:"4" help:"Files hashed at once."`
}

func (c *planCmd) Help() string {
	return `Compares the manifest with the state and, unless --refresh=false, with Frame.io, and prints
what apply would upload, update or delete. It changes nothing. With --out the plan is saved so
that 'fiosync apply PLANFILE' does exactly that or nothing. With --adopt, an address the state
does not track whose file is already in its Frame.io folder is planned as "adopt": applying the
saved plan records that file without uploading it. With prune: true (or --moves), a tracked
file whose content now sits at a new address is planned as a move ("> /old -> /new  move"):
apply moves it in Frame.io, keeping its id, comments and versions, instead of uploading it.`
}

func (c *planCmd) Validate() error {
	if c.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1, got %d", c.Parallel)
	}
	if c.JSON && c.Format != "text" {
		return fmt.Errorf("--json and --format %s print different things; choose one", c.Format)
	}
	if err := held.refuse("--out", c.Out); err != nil {
		return err
	}
	if err := c.selectFlags.check(); err != nil {
		return err
	}
	if err := c.moveFlags.check(); err != nil {
		return err
	}
	if c.Adopt && !c.Refresh {
		return fmt.Errorf("--adopt looks for the files already in Frame.io, which --refresh=false forbids; choose one")
	}
	return nil
}

func (c *planCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	if c.JSON {
		g.jsonOut = io.Out // an error is printed as a JSON object too
	}
	s, err := openSession(ctx, &c.manifestFlag, &c.stateFlags, "plan", c.Out, &store.JoinOptions{}, io.Err)
	if err != nil {
		return err
	}
	defer s.close()
	p, err := s.plan(ctx, g, planOptions{refresh: c.Refresh, maxDelete: c.MaxDelete, parallel: c.Parallel, adopt: c.Adopt, sel: c.selection(), moves: c.movesOf}, io.Err)
	if err != nil {
		return err
	}
	switch {
	case c.JSON:
		err = plan.WriteJSON(io.Out, p)
	case c.Format == "markdown":
		err = plan.WriteMarkdown(io.Out, p)
	default:
		var claimed map[string]string
		if claimed, err = s.claimed(ctx); err != nil {
			return err
		}
		err = plan.WriteText(io.Out, p, plan.Style{Color: g.color(io.Out), Claimed: claimed})
	}
	if err != nil {
		return fmt.Errorf("print plan: %w", err)
	}
	if c.Out != "" {
		if err := plan.WriteFile(c.Out, p); err != nil {
			return err
		}
		fmt.Fprintf(io.Err, "Saved the plan to %s. Apply exactly it with: fiosync apply %s\n", c.Out, c.Out)
	}
	if c.DetailedExitcode && !p.Empty() {
		return &codedError{code: exitChanges}
	}
	return nil
}
