package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
)

// manifestFlag is the -f flag shared by the commands that read a manifest.
type manifestFlag struct {
	File string `short:"f" default:"fiosync.yaml" help:"Manifest file."`
}

// load parses and expands the manifest for validate, which reports every problem in one
// run: the entries that parsed cleanly are expanded even when others did not parse, and the
// files that expanded are checked for secrets even when other entries failed to expand.
// Problems are printed one per line as FILE:LINE:COL: message, warnings too, and come back
// as an exit-1 error that report does not print again.
func (f *manifestFlag) load(w io.Writer) (*manifest.Manifest, *manifest.Expansion, error) {
	var partial *manifest.Manifest
	var problems manifest.ErrorList
	m, err := loadManifest(f.File, manifest.WithPartial(&partial))
	if err != nil {
		if !errors.As(err, &problems) || partial == nil {
			return nil, nil, manifestError(w, err)
		}
		m = partial
	}
	m.Ignore = ignoredFiles(nil)
	exp, err := m.ExpandAll()
	var more manifest.ErrorList
	switch {
	case errors.As(err, &more):
		problems = append(problems, more...)
	case err != nil:
		return nil, nil, err
	}
	if exp != nil {
		if errors.As(refuseSecrets(m, exp.Files), &more) {
			problems = append(problems, more...)
		}
		for _, warn := range exp.Warnings {
			fmt.Fprintf(w, "warning: %v\n", warn)
		}
	}
	if len(problems) > 0 {
		problems.Sort()
		return nil, nil, manifestError(w, problems)
	}
	return m, exp, nil
}

// manifestError prints a manifest's error list one problem per line (the format editors and
// CI annotations understand) and turns it into a silent exit 1. Other errors pass through.
func manifestError(w io.Writer, err error) error {
	var list manifest.ErrorList
	if !errors.As(err, &list) {
		return err
	}
	for _, e := range list {
		fmt.Fprintln(w, e)
	}
	return &codedError{code: exitError, err: list, printed: true}
}

type validateCmd struct {
	manifestFlag
}

func (c *validateCmd) Help() string {
	return "Parses the manifest, expands its local sources and holds them to the ASC MHL histories entries name (mhl:), without touching Frame.io or the state.\nProblems are printed as FILE:LINE:COL: message; the exit code is 1 when there are any."
}

func (c *validateCmd) Run(io *stdio) error {
	m, exp, err := c.load(io.Err)
	if err != nil {
		return err
	}
	if empty := plan.EmptyFiles(exp.Files); len(empty) > 0 {
		fmt.Fprintf(io.Err, "warning: %s\n", plan.SkippedEmptyNote(empty))
	}
	// The ASC MHL histories entries name (mhl:), by size and mtime, as plan holds them.
	if _, err := plan.CheckMHL(m, exp.Files); err != nil {
		return err
	}
	fmt.Fprintln(io.Out, exp.Summary(m))
	return nil
}

type initCmd struct {
	manifestFlag
}

func (c *initCmd) Run(io *stdio) error {
	f, err := os.OpenFile(c.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; fiosync init never overwrites a manifest (remove it or pass -f with another name)", c.File)
	}
	if err != nil {
		return fmt.Errorf("create manifest: %w", err)
	}
	if _, err := f.Write(manifest.Starter()); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", c.File, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", c.File, err)
	}
	fmt.Fprintf(io.Out, "Wrote %s. Edit its target and uploads, then run: fiosync validate -f %s\n", c.File, c.File)
	return nil
}
