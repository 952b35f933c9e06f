package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// The exit codes, documented in the README.
const (
	exitOK        = 0
	exitError     = 1
	exitChanges   = 2 // plan --detailed-exitcode: the plan has changes
	exitInterrupt = 130
)

// cli is the root of the command tree.
type cli struct {
	Globals

	VersionFlag kong.VersionFlag `name:"version" help:"Print the version and exit."`

	Init     initCmd     `cmd:"" help:"Write a commented starter fiosync.yaml."`
	Validate validateCmd `cmd:"" help:"Check the manifest offline."`
	Plan     planCmd     `cmd:"" help:"Show what apply would upload, update or delete."`
	Apply    applyCmd    `cmd:"" help:"Upload what the plan says, saving state after every file."`
	State    stateCmd    `cmd:"" help:"Inspect and edit the state."`
	Import   importCmd   `cmd:"" help:"Record an existing Frame.io file for an address."`
	Auth     authCmd     `cmd:"" help:"Log in to Adobe IMS, show or forget the credential."`
	Emulator emulatorCmd `cmd:"" help:"Serve the local Frame.io V4 emulator."`
	Schema   schemaCmd   `cmd:"" help:"Print the JSON Schema of fiosync.yaml, for editors."`
	Version  versionCmd  `cmd:"" help:"Print the version, commit and Go version."`
}

// Globals are the flags every command shares. Secrets (tokens, client secrets) are read from
// the environment only, never from flags, so they stay out of shell history and ps output.
type Globals struct {
	APIURL string `name:"api-url" env:"FRAMEIO_API_URL" default:"https://api.frame.io" help:"Frame.io API origin (${env})."`
	IMSURL string `name:"ims-url" env:"FRAMEIO_IMS_URL" default:"https://ims-na1.adobelogin.com" help:"Adobe IMS origin (${env})."`

	getenv func(string) string
}

// stdio is where a command reads and writes; tests replace it.
type stdio struct {
	In       io.Reader
	Out, Err io.Writer
	// raw is Out before run wrapped it in a scrubber, for the one line that exists to hand
	// out a token: the emulator's ready line.
	raw io.Writer
}

// isTerminal reports whether f is an interactive terminal, looking through a scrubber.
func isTerminal(f any) bool {
	if sw, ok := f.(*scrubWriter); ok {
		f = sw.file()
	}
	file, ok := f.(*os.File)
	return ok && file != nil && term.IsTerminal(int(file.Fd()))
}

// color reports whether output to w may use colour: a terminal, and NO_COLOR unset.
func (g *Globals) color(w io.Writer) bool {
	return g.getenv("NO_COLOR") == "" && isTerminal(w)
}

// exitRequest carries an exit code out of kong (help, version) through a panic that run
// recovers, so that nothing but main ever calls os.Exit.
type exitRequest int

// run parses args, runs the chosen command and returns the process exit code.
func run(ctx context.Context, args []string, io stdio) (code int) {
	var root cli
	root.getenv = os.Getenv
	// Everything fiosync prints goes through a scrubber of the credentials it holds,
	// whatever path a value came by.
	held.addEnviron(os.Environ())
	out, errw := held.writer(io.Out), held.writer(io.Err)
	defer errw.Flush()
	defer out.Flush()
	io = stdio{In: io.In, Out: out, Err: errw, raw: io.Out}
	parser, err := kong.New(&root,
		kong.Name("fiosync"),
		kong.Description("Sync the uploads described in a YAML manifest to Frame.io V4: plan shows what would change, apply does only that."),
		kong.Writers(io.Out, io.Err),
		kong.Exit(func(c int) { panic(exitRequest(c)) }),
		kong.Vars{"version": currentVersion().String()},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Bind(&io),
	)
	if err != nil {
		fmt.Fprintf(io.Err, "Error: internal error: %v\n", err)
		return exitError
	}
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(io.Err, "Error: %v\n", err)
		fmt.Fprintln(io.Err, "Run 'fiosync --help' for usage.")
		return exitError
	}
	return report(ctx, kctx.Run(&root.Globals), io.Err)
}

// remedy returns what to do about a domain error, in the CLI's words: the domain packages
// describe what went wrong, and only the CLI names its flags and commands.
func remedy(err error) string {
	var locked *store.LockedError
	var target *plan.TargetError
	var conflict *apply.ConflictError
	var lost *store.LostError
	var owner *state.ManifestError
	var unreachable *frameio.UnreachableError
	var badURL *frameio.BaseURLError
	var mhlErr *plan.MHLError
	var mhlMismatch *apply.MHLMismatchError
	switch {
	case errors.As(err, &mhlErr), errors.As(err, &mhlMismatch):
		return "\nthe files differ from what the DIT hashed on set: copy them again from the card (keeping their modification times), or remove mhl: from the entry to upload them unchecked"
	case errors.As(err, &unreachable):
		return fmt.Sprintf("\ncheck FRAMEIO_API_URL=%s (or --api-url): is the API, or fiosync emulator, running there?", unreachable.Origin)
	case errors.As(err, &badURL):
		return fmt.Sprintf("\ncheck FRAMEIO_API_URL=%s (or --api-url): want an origin such as https://api.frame.io or http://127.0.0.1:8080", badURL.URL)
	case errors.As(err, &owner):
		return manifestRemedy(owner)
	case errors.As(err, &lost):
		return fmt.Sprintf("\nrestore it from the backup, one save behind (then run fiosync plan): cp %q %q\nor, to start a new state on purpose, pass --state with another path", lost.Backup, lost.Path)
	case errors.As(err, &conflict):
		return "\nto record the files already there, run fiosync plan --adopt and apply that plan; to upload beside them, apply --allow-duplicates"
	case errors.As(err, &locked):
		return "; wait for it to finish or pass --lock-timeout to wait, " +
			"and if no fiosync is running (a file system without working locks), run `fiosync state unlock`"
	case errors.As(err, &target):
		return "; use a new state file (--state) or fix target in the manifest"
	}
	return ""
}

// codedError is an error that chooses the exit code; without an error nothing is printed.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *codedError) Unwrap() error { return e.err }

// report prints err for people and maps it to an exit code. It is the only place that
// decides how an error looks and what the process returns.
func report(ctx context.Context, err error, w io.Writer) int {
	if err == nil {
		return exitOK
	}
	var coded *codedError
	if errors.As(err, &coded) && coded.err == nil {
		return coded.code
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "fiosync: interrupted; work done so far is saved in the state. Run the same command again to continue.")
		return exitInterrupt
	}
	// An error may quote names from anywhere; each of its lines is escaped for the terminal.
	lines := strings.Split(err.Error()+remedy(err), "\n")
	for i, l := range lines {
		lines[i] = escape.Text(l)
	}
	fmt.Fprintf(w, "Error: %s\n", strings.Join(lines, "\n"))
	if coded != nil {
		return coded.code
	}
	return exitError
}
