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
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/partjournal"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state/store"
)

type applyCmd struct {
	APIFlags
	manifestFlag
	stateFlags
	selectFlags
	moveFlags

	AutoApprove     bool          `name:"auto-approve" help:"Apply without asking for confirmation."`
	Parallel        int           `default:"4" help:"Files uploaded at once."`
	JSON            bool          `name:"json" help:"Stream one JSON object per event (start, file_done, file_failed, summary) instead of text."`
	MaxDelete       int           `name:"max-delete" default:"20" help:"Fail when the plan would delete more files than this (-1: no limit)."`
	Adopt           bool          `help:"Record files already in Frame.io (same name and size in the destination folder) instead of uploading them again; see plan --adopt."`
	AllowDuplicates bool          `name:"allow-duplicates" help:"Upload a new address even when its Frame.io folder already holds an untracked file of that name (a second copy beside it)."`
	Receipt         string        `name:"receipt" placeholder:"FILE" help:"After a successful apply, write the delivery receipt to FILE (markdown for a .md name, else JSON); see fiosync receipt."`
	Lease           time.Duration `name:"lease" default:"30s" help:"With a PostgreSQL state, how long this runner's claim on a file lasts unless renewed (it renews every third of it); another runner takes over the files of one that died after this long."`
	PlanFile        string        `arg:"" optional:"" name:"PLANFILE" help:"A plan saved by 'fiosync plan --out': apply exactly it, or nothing if it is stale."`

	BwLimit     string        `name:"bwlimit" placeholder:"RATE|TIMETABLE" help:"Limit the upload rate of all parts together: a rate such as 20M (MiB/s; K, G too; a bare number is KiB/s), or a timetable such as '08:00,10M 19:00,off' (local time)."`
	MaxTransfer string        `name:"max-transfer" placeholder:"SIZE" help:"Start no file that would take the bytes sent past SIZE (such as 500G); the rest is left for the next apply, which exits 3."`
	MaxDuration time.Duration `name:"max-duration" placeholder:"D" help:"Start no file once the apply has run for D (such as 85m); files in flight finish; exits 3 when work is left."`
	OrderBy     string        `name:"order-by" placeholder:"KEY[,asc|desc]" help:"Upload order within a manifest priority: size, name or mtime, ascending unless ,desc."`

	limits transferLimits // parsed from the flags above by Validate
}

// transferLimits are the parsed --bwlimit, --max-transfer and --order-by.
type transferLimits struct {
	bw          apply.Timetable
	maxTransfer int64
	order       apply.OrderBy
}

// parseLimits reads the transfer flags.
func (c *applyCmd) parseLimits() error {
	var err error
	if c.BwLimit != "" {
		if c.limits.bw, err = apply.ParseTimetable(c.BwLimit); err != nil {
			return fmt.Errorf("--bwlimit: %w", err)
		}
	}
	if c.MaxTransfer != "" {
		if c.limits.maxTransfer, err = apply.ParseSize(c.MaxTransfer); err != nil {
			return fmt.Errorf("--max-transfer: %w", err)
		}
		if c.limits.maxTransfer == 0 {
			return errors.New("--max-transfer 0 would send nothing; leave it out for no limit")
		}
	}
	if c.MaxDuration < 0 {
		return fmt.Errorf("--max-duration must not be negative, got %s", c.MaxDuration)
	}
	if c.OrderBy != "" {
		if c.limits.order, err = apply.ParseOrderBy(c.OrderBy); err != nil {
			return fmt.Errorf("--order-by: %w", err)
		}
	}
	return nil
}

func (c *applyCmd) Help() string {
	return `Uploads what the plan says: creates missing folders, uploads new and changed files (local
files in parts, remote URLs fetched by Frame.io), moves files whose content sits at a new
address (prune: true or --moves; not with --no-moves), and, with prune: true, deletes dropped
ones.
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
	if err := c.parseLimits(); err != nil {
		return err
	}
	if c.Receipt != "" {
		if err := held.refuse("--receipt", c.Receipt); err != nil {
			return err
		}
	}
	if !c.selection().IsZero() && c.PlanFile != "" {
		return errors.New("--target, --exclude and --replace decide how a plan is made; a saved plan already remembers its targeting (make it with plan --target --out)")
	}
	if c.PlanFile != "" && (c.Moves || c.NoMoves || c.MoveMinSize != plan.DefaultMoveMinSize) {
		return errors.New("--moves, --no-moves and --move-min-size decide how a plan is made; a saved plan already remembers its moves (make it with plan --out)")
	}
	if err := c.moveFlags.check(); err != nil {
		return err
	}
	return c.selectFlags.check()
}

func (c *applyCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	if c.JSON {
		g.jsonOut = io.Out // an error ends the event stream as an event too
	}
	s, err := openSession(ctx, &c.manifestFlag, &c.stateFlags, "apply", c.PlanFile, &store.JoinOptions{Lease: c.Lease}, io.Err)
	if err != nil {
		return err
	}
	defer s.close()
	if err := c.deliver(ctx, io, g, s); err != nil {
		return err
	}
	if c.Receipt == "" {
		return nil
	}
	if err := writeReceipt(ctx, g, s.backend, receiptFormat(c.Receipt), c.Receipt, io.Out); err != nil {
		return fmt.Errorf("apply succeeded; writing the receipt failed: %w", err)
	}
	if !c.JSON {
		fmt.Fprintf(io.Out, "Receipt written to %s.\n", escape.Text(c.Receipt))
	}
	return nil
}

// deliver plans (or checks the saved plan) and applies it.
func (c *applyCmd) deliver(ctx context.Context, io *stdio, g *Globals, s *session) error {
	var (
		p   *plan.Plan
		err error
	)
	if c.PlanFile != "" {
		if p, err = plan.ReadFile(c.PlanFile); err != nil {
			return err
		}
		if err := plan.CheckStale(p, s.st, s.files); err != nil {
			return err
		}
		// A plan file is input from whoever could write it: derive what the manifest and the
		// locked state allow now, and apply the saved plan only if it asks for nothing else.
		fresh, err := s.plan(ctx, g, planOptions{refresh: p.Refreshed, maxDelete: plan.NoDeleteLimit, parallel: c.Parallel, adopt: p.Summary().Adopt > 0, sel: p.Select,
			moves: func(bool) plan.Moves { return p.Moves }}, io.Err)
		if err != nil {
			return err
		}
		if err := plan.Verify(p, fresh); err != nil {
			return err
		}
		p.UseFolders(fresh)
	} else {
		p, err = s.plan(ctx, g, planOptions{refresh: true, maxDelete: c.MaxDelete, parallel: c.Parallel, adopt: c.Adopt, sel: c.selection(), moves: c.movesOf}, io.Err)
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
		BwLimit:         c.limits.bw,
		MaxTransfer:     c.limits.maxTransfer,
		MaxDuration:     c.MaxDuration,
		OrderBy:         c.limits.order,
		MHL:             s.mhl,
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
	sum := p.Summary()
	uploads := sum.Create + sum.Update + sum.Finish // what apply starts as a file (file_start)
	view := newApplyView(io, c.JSON, client.CreateRate, uploads)
	opts.Observer = view
	res, err := apply.Run(ctx, p, opts)
	view.finish(res, err)
	if !c.JSON {
		writeViewURLs(io.Out, res)
	}
	if errors.Is(err, apply.ErrLimit) {
		return &codedError{code: exitLimit, err: err}
	}
	return err
}

// maxViewURLs bounds the Frame.io links apply's summary lists; `fiosync state show ADDRESS`
// has every file's.
const maxViewURLs = 10

// writeViewURLs lists where the delivered files can be seen in Frame.io (their view_url),
// at most maxViewURLs of them.
func writeViewURLs(w io.Writer, res *apply.Result) {
	if res == nil {
		return
	}
	var rows []apply.FileResult
	for _, f := range res.Files {
		if f.ViewURL != "" && (f.Outcome == apply.Done || f.Outcome == apply.Adopted) && f.Action != plan.Delete {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "View in Frame.io:")
	for i, f := range rows {
		if i == maxViewURLs {
			fmt.Fprintf(w, "  ... and %s more ('fiosync state show ADDRESS' prints each one's view url)\n", display.Count(len(rows)-i, "file", "files"))
			break
		}
		fmt.Fprintf(w, "  %s  %s\n", escape.Text(f.Address), escape.Text(f.ViewURL))
	}
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
	fmt.Fprintf(io.Out, "\nDo you want to perform these actions on %s?\nOnly 'yes' will be accepted: ", plan.DescribeTarget(p.Target))
	answer, _ := bufio.NewReader(io.In).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return errors.New("apply cancelled; nothing was changed")
	}
	return nil
}
