package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// The exit codes, documented in the README.
const (
	exitOK        = 0
	exitError     = 1
	exitChanges   = 2 // plan --detailed-exitcode: the plan has changes
	exitLimit     = 3 // apply stopped at --max-transfer or --max-duration with work left
	exitInterrupt = 130
)

// cli is the root of the command tree.
type cli struct {
	Globals

	VersionFlag kong.VersionFlag `name:"version" help:"Print the version and exit."`
	Verbose     bool             `short:"v" help:"Log every API call, part PUT and download to stderr: method, path, status, attempt, time; never tokens, headers or URL queries."`
	LogFile     string           `name:"log-file" type:"path" placeholder:"FILE" help:"Append that log to FILE (created with mode 0600) instead of stderr."`

	Init     initCmd     `cmd:"" help:"Write a commented starter fiosync.yaml."`
	Validate validateCmd `cmd:"" help:"Check the manifest offline."`
	Plan     planCmd     `cmd:"" help:"Show what apply would upload, update or delete."`
	Apply    applyCmd    `cmd:"" help:"Upload what the plan says, saving state after every file."`
	State    stateCmd    `cmd:"" help:"Inspect and edit the state."`
	Import   importCmd   `cmd:"" help:"Record an existing Frame.io file for an address."`
	Verify   verifyCmd   `cmd:"" help:"Download what Frame.io holds and compare it with the state's BLAKE3."`
	Receipt  receiptCmd  `cmd:"" help:"Print a delivery receipt of the state, ending with its own BLAKE3."`
	Auth     authCmd     `cmd:"" help:"Log in to Adobe IMS, show or forget the credential."`
	Emulator emulatorCmd `cmd:"" help:"Serve the local Frame.io V4 emulator."`
	Schema   schemaCmd   `cmd:"" help:"Print the JSON Schema of fiosync.yaml, for editors."`
	Version  versionCmd  `cmd:"" help:"Print the version, commit and Go version."`

	Completion completionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
}

// Globals is what every command can reach: the origins the command's APIFlags chose, and the
// environment. Secrets (tokens, client secrets) are read from the environment only, never
// from flags, so they stay out of shell history and ps output.
type Globals struct {
	APIURL string `kong:"-"`
	IMSURL string `kong:"-"`

	getenv func(string) string
	log    *slog.Logger // the debug log of -v or --log-file; nil without them
	// credKind is the kind of credential the command's client uses, once it has one: a
	// rejected token's advice names its source (remedy).
	credKind auth.Kind
	// jsonOut is set by a command run with --json: report writes its error there too, as
	// one JSON event, so a CI log of the JSON stream is never silently empty.
	jsonOut io.Writer
	// api is the command's Frame.io client once client has built it: a plan's refresh, the
	// apply after it and its receipt share one credential, one first token and what the
	// client learned of the rate limits.
	api *frameio.Client
}

// APIFlags are the flags of the commands that talk to Frame.io or Adobe IMS; the others
// (validate, init, emulator, state list...) do not show them. The type is exported so that
// kong, which looks into exported embedded fields only, runs its AfterApply hook.
type APIFlags struct {
	APIURL string `name:"api-url" env:"FRAMEIO_API_URL" default:"https://api.frame.io" help:"Frame.io API origin (${env})."`
	IMSURL string `name:"ims-url" env:"FRAMEIO_IMS_URL" default:"https://ims-na1.adobelogin.com" help:"Adobe IMS origin (${env})."`
}

// AfterApply hands the chosen origins to Globals, where the client is built.
func (f *APIFlags) AfterApply(g *Globals) error {
	g.APIURL, g.IMSURL = f.APIURL, f.IMSURL
	return nil
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
		kong.Bind(&io, &root.Globals), // APIFlags.AfterApply fills Globals during Parse
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
		hint := fmt.Sprintf("Run '%s --help' for usage.", usagePath(err))
		fmt.Fprintf(io.Err, "Error: %v\n%s\n", err, hint)
		if wantsJSON(args) {
			// The command never ran to set jsonOut: a CI log of the JSON stream still gets
			// the error.
			writeJSONError(&Globals{jsonOut: io.Out}, err.Error()+"\n"+hint, nil, exitError)
		}
		return exitError
	}
	closeLog, err := root.openLog(io.Err)
	if err != nil {
		return report(ctx, err, io.Err, &root.Globals)
	}
	defer closeLog()
	return report(ctx, kctx.Run(), io.Err, &root.Globals)
}

// openLog sets up the debug log that -v and --log-file ask for. Lines go through the same
// scrubber as the rest of the output, so a credential that reached a message is masked in
// the file too.
func (c *cli) openLog(stderr io.Writer) (closeLog func(), err error) {
	if !c.Verbose && c.LogFile == "" {
		return func() {}, nil
	}
	var w io.Writer = stderr
	var f *os.File
	if c.LogFile != "" {
		f, err = os.OpenFile(c.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open log file: %w", err)
		}
		w = held.writer(f)
	}
	c.Globals.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return func() {
		if f != nil {
			w.(*scrubWriter).Flush()
			f.Close()
		}
	}, nil
}

// wantsJSON reports whether args ask for JSON output (--json, or --json=true), for the
// errors kong reports before a command runs.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// usagePath names the command whose help fits a usage error: the subcommand the arguments
// reached ("fiosync state rm"), or fiosync itself.
func usagePath(err error) string {
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if n := pe.Context.Selected(); n != nil {
			return n.FullPath() // "fiosync state rm"
		}
	}
	return "fiosync"
}

// remedy returns what to do about a domain error, in the CLI's words: the domain packages
// describe what went wrong, and only the CLI names its flags and commands. g says which
// credential was in use (nil: unknown).
func remedy(err error, g *Globals) string {
	var locked *store.LockedError
	var target *plan.TargetError
	var conflict *apply.ConflictError
	var lost *store.LostError
	var owner *state.ManifestError
	var unreachable *frameio.UnreachableError
	var badURL *frameio.BaseURLError
	var api *frameio.APIError
	var refused *plan.RefusedError
	var limit *apply.LimitError
	var mhlErr *plan.MHLError
	var mhlMismatch *apply.MHLMismatchError
	switch {
	case errors.As(err, &mhlErr), errors.As(err, &mhlMismatch):
		return "\nthe files differ from what the DIT hashed on set: copy them again from the card (keeping their modification times), or remove mhl: from the entry to upload them unchecked"
	case errors.As(err, &api) && api.StatusCode == http.StatusUnauthorized && g != nil && g.credKind != 0:
		return "\n" + rejectedToken(g)
	case errors.As(err, &limit):
		return fmt.Sprintf(" (--%s); run fiosync apply again to continue", limit.Limit)
	case errors.As(err, &refused):
		return fmt.Sprintf("\nrestore the delivered files; or, if the change is intended, upload them again with --replace %q (the old file stays as a version), or change the entry's on_change",
			refused.Refused[0].Address)
	case errors.As(err, &unreachable):
		return fmt.Sprintf("\ncheck FRAMEIO_API_URL=%s (or --api-url): is the API, or fiosync emulator, running there?", unreachable.Origin)
	case errors.As(err, &badURL):
		return fmt.Sprintf("\ncheck FRAMEIO_API_URL=%s (or --api-url): want an origin such as https://api.frame.io or http://127.0.0.1:8080", badURL.URL)
	case errors.As(err, &owner):
		return manifestRemedy(owner)
	case errors.As(err, &lost):
		return fmt.Sprintf("\nrestore it from the backup, one save behind (then run fiosync plan): cp %q %q\nor, to start a new state on purpose, pass --state with another path", lost.Backup, lost.Path)
	case errors.As(err, &conflict) && conflict.Move:
		// Adopting the file there would leave the moved file to be pruned, with its comments.
		return "\nremove or rename the untracked file in Frame.io and apply again, or apply --allow-duplicates to move the file beside it"
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
// printed marks an error already shown on stderr in its own form (manifest problems, one
// line each): report then only adds its JSON event.
type codedError struct {
	code    int
	err     error
	printed bool
}

func (e *codedError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *codedError) Unwrap() error { return e.err }

// rejectedToken says which credential the API refused and what to do about it.
func rejectedToken(g *Globals) string {
	api := fmt.Sprintf("FRAMEIO_API_URL=%s", g.APIURL)
	switch g.credKind {
	case auth.KindToken:
		return "the API refused the access token in FRAMEIO_TOKEN (used as is, never renewed): set it to a current token for " +
			api + ", or unset it to use FRAMEIO_CLIENT_ID/FRAMEIO_CLIENT_SECRET or the login of fiosync auth login"
	case auth.KindClientCredentials:
		return fmt.Sprintf("the API refused the token IMS issued for FRAMEIO_CLIENT_ID=%s (server to server), even renewed: "+
			"check that the credential has Frame.io access and FRAMEIO_SCOPE, and that %s is the API it is for", g.getenv("FRAMEIO_CLIENT_ID"), api)
	default:
		return "the API refused the token of the cached login (fiosync auth login), even renewed: run fiosync auth login again, and check " + api
	}
}

// report prints err for people and maps it to an exit code. It is the only place that
// decides how an error looks and what the process returns.
func report(ctx context.Context, err error, w io.Writer, g *Globals) int {
	if err == nil {
		return exitOK
	}
	var coded *codedError
	if errors.As(err, &coded) && coded.err == nil {
		return coded.code
	}
	code := exitError
	if coded != nil {
		code = coded.code
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		const msg = "interrupted; work done so far is saved in the state. Run the same command again to continue."
		fmt.Fprintln(w, "Error: "+msg)
		writeJSONError(g, msg, nil, exitInterrupt)
		return exitInterrupt
	}
	var list manifest.ErrorList
	if errors.As(err, &list) {
		problems := make([]string, len(list))
		for i, e := range list {
			problems[i] = e.Error()
		}
		writeJSONError(g, fmt.Sprintf("the manifest has %s", display.Count(len(list), "problem", "problems")), problems, code)
	} else {
		writeJSONError(g, err.Error()+remedy(err, g), nil, code)
	}
	if coded != nil && coded.printed {
		return code
	}
	// An error may quote names from anywhere; each of its lines is escaped for the terminal.
	lines := strings.Split(err.Error()+remedy(err, g), "\n")
	for i, l := range lines {
		lines[i] = escape.Text(l)
	}
	fmt.Fprintf(w, "Error: %s\n", strings.Join(lines, "\n"))
	return code
}

// jsonError is the event a --json run ends with when it fails: {"type":"error"}, like
// apply's events, with the message (remedy included), the manifest's problems one per
// entry, and the exit code.
type jsonError struct {
	Type     string    `json:"type"`
	Time     time.Time `json:"time"`
	Error    string    `json:"error"`
	Problems []string  `json:"problems,omitempty"`
	ExitCode int       `json:"exit_code"`
}

// writeJSONError writes the error event of a --json run (g.jsonOut); without --json it does
// nothing.
func writeJSONError(g *Globals, msg string, problems []string, code int) {
	if g == nil || g.jsonOut == nil {
		return
	}
	enc := json.NewEncoder(g.jsonOut)
	enc.SetEscapeHTML(false)
	// Best effort: stdout may be the broken pipe that caused the error.
	_ = enc.Encode(jsonError{Type: "error", Time: time.Now().UTC(), Error: msg, Problems: problems, ExitCode: code})
}
