package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state/store"
)

type applyCmd struct {
	manifestFlag
	stateFlags
	selectFlags

	AutoApprove     bool          `name:"auto-approve" help:"Apply without asking for confirmation."`
	Parallel        int           `default:"4" help:"Files uploaded at once."`
	JSON            bool          `name:"json" help:"Stream one JSON object per event (start, file_done, file_failed, summary) instead of text."`
	MaxDelete       int           `name:"max-delete" default:"20" help:"Fail when the plan would delete more files than this (-1: no limit)."`
	Adopt           bool          `help:"Record files already in Frame.io (same name and size in the destination folder) instead of uploading them again; see plan --adopt."`
	AllowDuplicates bool          `name:"allow-duplicates" help:"Upload a new address even when its Frame.io folder already holds an untracked file of that name (a second copy beside it)."`
	Lease           time.Duration `name:"lease" default:"30s" help:"With a PostgreSQL state, how long this runner's claim on a file lasts unless renewed (it renews every third of it); another runner takes over the files of one that died after this long."`
	PlanFile        string        `arg:"" optional:"" name:"PLANFILE" help:"A plan saved by 'fiosync plan --out': apply exactly it, or nothing if it is stale."`
}

func (c *applyCmd) Help() string {
	return `Uploads what the plan says: creates missing folders, uploads new and changed files (local
files in parts, remote URLs fetched by Frame.io), and, with prune: true, deletes dropped ones.
State is saved after every file, so an interrupted apply loses nothing: run it again to finish.
Without --auto-approve or a PLANFILE it shows the plan and asks for 'yes' on a terminal.`
}

func (c *applyCmd) Validate() error {
	if c.Lease < 3*time.Millisecond {
		return fmt.Errorf("--lease must be a positive duration such as 30s, got %s", c.Lease)
	}
	if c.Parallel < 1 {
		return fmt.Errorf("--parallel must be at least 1, got %d", c.Parallel)
	}
	if c.Adopt && c.PlanFile != "" {
		return errors.New("--adopt decides how a plan is made; a saved plan already says what it adopts (make it with plan --adopt --out)")
	}
	if !c.selection().IsZero() && c.PlanFile != "" {
		return errors.New("--target and --exclude decide how a plan is made; a saved plan already remembers its targeting (make it with plan --target --out)")
	}
	return c.selectFlags.check()
}

func (c *applyCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	s, err := openSession(ctx, &c.manifestFlag, &c.stateFlags, "apply", c.PlanFile, &store.JoinOptions{Lease: c.Lease}, io.Err)
	if err != nil {
		return err
	}
	defer s.close()

	var p *plan.Plan
	if c.PlanFile != "" {
		if p, err = plan.ReadFile(c.PlanFile); err != nil {
			return err
		}
		if err := plan.CheckStale(p, s.st, s.files); err != nil {
			return err
		}
		// A plan file is input from whoever could write it: derive what the manifest and the
		// locked state allow now, and apply the saved plan only if it asks for nothing else.
		fresh, err := s.plan(ctx, g, planOptions{refresh: p.Refreshed, maxDelete: plan.NoDeleteLimit, parallel: c.Parallel, adopt: p.Summary().Adopt > 0, sel: p.Select}, io.Err)
		if err != nil {
			return err
		}
		if err := plan.Verify(p, fresh); err != nil {
			return err
		}
	} else {
		p, err = s.plan(ctx, g, planOptions{refresh: true, maxDelete: c.MaxDelete, parallel: c.Parallel, adopt: c.Adopt, sel: c.selection()}, io.Err)
		if err != nil {
			return err
		}
	}
	if p.Empty() && len(p.Restat) == 0 {
		if !c.JSON {
			fmt.Fprintf(io.Out, "No changes. %s up to date.\n", display.Count(p.Unchanged, "file", "files"))
		}
		return nil
	}
	if p.Target.ProjectID == "" {
		return errors.New("the plan does not know its Frame.io project (it was made with --refresh=false and there is no state yet); make it again without --refresh=false")
	}
	if !c.AutoApprove && c.PlanFile == "" && !p.Empty() {
		if err := c.confirm(io, g, p); err != nil {
			return err
		}
	}

	client, err := g.client(ctx)
	if err != nil {
		return err
	}
	saveTo := s.backend
	if s.runner != nil {
		saveTo = s.runner
	}
	opts := apply.Options{
		Parts:           partJournal(io.Err),
		Client:          client,
		State:           store.NewWriter(saveTo, s.stateFor(p.Target)),
		Claims:          s.runner,
		Manifest:        s.m,
		Parallel:        c.Parallel,
		AllowDuplicates: c.AllowDuplicates,
	}
	if p.Empty() {
		// Nothing to deliver, only the new stat of files read again: one save, no display.
		res, err := apply.Run(ctx, p, opts)
		if err == nil && !c.JSON {
			fmt.Fprintf(io.Out, "No changes. %s up to date; recorded the new stat of %s.\n",
				display.Count(p.Unchanged, "file", "files"), display.Count(res.Restated, "file", "files"))
		}
		return err
	}
	view := newApplyView(io, g, c.JSON)
	opts.Observer = view
	res, err := apply.Run(ctx, p, opts)
	view.finish(res)
	return err
}

// partJournal returns this machine's part journal, or nil (with a warning) when there is no
// place for it: uploads then go on, but an interrupted one starts again from its first byte.
func partJournal(errw io.Writer) *partjournal.Journal {
	dir, err := partjournal.DefaultDir()
	if err != nil {
		fmt.Fprintf(errw, "warning: %v; an interrupted upload will start again from its first byte\n", err)
		return nil
	}
	return partjournal.Open(dir)
}

// confirm shows the plan and asks for "yes". Without a terminal there is nobody to ask, so it
// refuses rather than guessing.
func (c *applyCmd) confirm(io *stdio, g *Globals, p *plan.Plan) error {
	if !isTerminal(io.In) {
		return errors.New("apply needs confirmation: run it on a terminal, pass --auto-approve, or apply a plan saved with 'fiosync plan --out PLANFILE'")
	}
	if err := plan.WriteText(io.Out, p, plan.Style{Color: g.color(io.Out)}); err != nil {
		return fmt.Errorf("print plan: %w", err)
	}
	fmt.Fprint(io.Out, "\nDo you want to perform these actions? Only 'yes' will be accepted: ")
	answer, _ := bufio.NewReader(io.In).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return errors.New("apply cancelled; nothing was changed")
	}
	return nil
}
