package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sourcegraph/conc"
	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/state/store"
)

var update = flag.Bool("update", false, "rewrite testscript golden sections from actual output")

func TestMain(m *testing.M) {
	// The in-process tests keep their part journals apart from the user's (the scripts set
	// their own in Setup).
	if dir, err := os.MkdirTemp("", "fiosync-test-state-"); err == nil {
		os.Setenv("XDG_STATE_HOME", dir)
	}
	testscript.Main(m, map[string]func(){
		"fiosync":     main,
		"exitcode":    exitcodeMain,
		"fakebrowser": fakeBrowserMain,
	})
}

// fakeBrowserMain plays the person at the browser for `fiosync auth login` (which runs it
// through $BROWSER): it opens the URL and follows the redirects, which the emulator's IMS
// sends straight back to fiosync's loopback listener. It logs what it did, never the URL's
// query (the code and state).
func fakeBrowserMain() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		os.Exit(2)
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakebrowser:", err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "fakebrowser: the login page answered", resp.Status)
		os.Exit(1)
	}
}

// scriptEnv is what one script's custom commands reach: its emulator and the held state locks.
type scriptEnv struct {
	emu    *emulator.Emulator
	apiURL string
	seed   emulator.Seed

	mu    sync.Mutex
	locks map[string]store.Unlocker // by absolute state path
}

// scripts maps a script's work directory to its scriptEnv.
var scripts sync.Map

// TestScript runs the end-to-end scripts in testdata/script against the built command and an
// in-process emulator started for each script. The environment points fiosync at it exactly
// the way a user would: FRAMEIO_API_URL and FRAMEIO_TOKEN. FILESERVER is the URL of a plain
// HTTP server over the script's work directory, for remote sources the emulator fetches.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Deferred functions run last-in first-out: the file server outlives the
			// emulator, whose Close waits for remote fetches from it.
			files := httptest.NewServer(http.FileServer(http.Dir(env.WorkDir)))
			env.Defer(files.Close)

			opts := emulator.DefaultOptions()
			opts.RateLimitScale = 0
			opts.PartSize = 64 << 10
			emu, err := emulator.New(opts)
			if err != nil {
				return err
			}
			srv := httptest.NewServer(emu)
			env.Defer(func() {
				srv.Close()
				emu.Close()
			})
			seed := emu.Seed()
			env.Setenv("FRAMEIO_API_URL", srv.URL)
			env.Setenv("FRAMEIO_TOKEN", seed.Token)
			env.Setenv("FRAMEIO_ACCOUNT_ID", seed.AccountID)
			// For goldens that show the target (cmpenv): the ids are random per emulator.
			env.Setenv("WORKSPACE_ID", seed.WorkspaceID)
			env.Setenv("PROJECT_ID", seed.ProjectID)
			env.Setenv("FRAMEIO_IMS_URL", srv.URL)
			env.Setenv("FILESERVER", files.URL)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state")) // the part journal
			// A race-enabled binary sleeps a second on exit to catch late reports; every
			// exec would pay it. Races are still reported as they happen.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/home/.config")

			se := &scriptEnv{emu: emu, apiURL: srv.URL, seed: seed, locks: map[string]store.Unlocker{}}
			scripts.Store(env.WorkDir, se)
			env.Defer(func() {
				scripts.Delete(env.WorkDir)
				se.releaseAll()
			})
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu":       cmdEmu,
			"fileid":    cmdFileID,
			"json":      cmdJSON,
			"oldstate":  cmdOldState,
			"mkfile":    cmdMkfile,
			"edit":      cmdEdit,
			"mkframes":  cmdMkframes,
			"cmptimes":  cmdCmpTimes,
			"term":      cmdTerm,
			"mtime":     cmdMtime,
			"statelock": cmdStateLock,
		},
	})
}

func envOf(ts *testscript.TestScript) *scriptEnv {
	v, ok := scripts.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("no emulator for this script")
	}
	return v.(*scriptEnv)
}

// exitcodeMain is the exitcode program: "exec exitcode N PROG ARGS..." runs PROG and
// succeeds when it exits with exactly N, passing its output through. Interrupts and SIGTERM
// are forwarded, so "kill -INT" reaches a backgrounded PROG.
func exitcodeMain() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: exitcode N PROG [ARGS...]")
		os.Exit(2)
	}
	want, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "exitcode: bad code %q\n", os.Args[1])
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "exitcode: %v\n", err)
		os.Exit(2)
	}
	done := make(chan struct{})
	var wg conc.WaitGroup
	wg.Go(func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	})
	err = cmd.Wait()
	close(done)
	wg.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintf(os.Stderr, "exitcode: %v\n", err)
		os.Exit(2)
	}
	if got := cmd.ProcessState.ExitCode(); got != want {
		fmt.Fprintf(os.Stderr, "exitcode: %s exited with %d (%s), want %d\n", os.Args[2], got, cmd.ProcessState, want)
		os.Exit(1)
	}
	os.Exit(0)
}

// cmdEmu inspects and steers the script's emulator:
//
//	emu live N                  the emulator holds N files (created minus deleted)
//	emu stats                   print /_emulator/stats as JSON to stdout
//	emu faults KEY=VALUE...     change fault switches at run time: latency=DURATION,
//	                            api=P, part=P, reset=P, download=P (P a share between 0 and 1)
//	emu await N                 wait (up to 20 s) until the emulator has created N files
//	emu content FILE_ID PATH    the file is uploaded, and its size and BLAKE3 match PATH
//	emu rm FILE_ID              delete the file through the API, as a person would
//	emu mkdir /A/B              create the folder path through the API, as a person would
//	emu corrupt FILE_ID         flip one stored byte of the file, as --corrupt does
//	emu downloads FILE_ID       print the Range header of each download of the file, one a line
func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	se := envOf(ts)
	if len(args) == 0 {
		ts.Fatalf("usage: emu live|stats|faults|await|content|rm|mkdir ...")
	}
	if neg && args[0] != "live" && args[0] != "content" {
		ts.Fatalf("unsupported: ! emu %s", args[0])
	}
	argc := map[string]int{"live": 2, "stats": 1, "await": 2, "content": 3, "rm": 2, "mkdir": 2, "corrupt": 2, "downloads": 2}
	if n, ok := argc[args[0]]; ok && len(args) != n {
		ts.Fatalf("emu %s takes %d arguments", args[0], n-1)
	}
	switch args[0] {
	case "live":
		want, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		st := se.emu.Stats()
		got := st.FilesCreated - st.FilesDeleted
		if (got == want) == neg {
			ts.Fatalf("emulator holds %d files (created %d, deleted %d), want %s%d", got, st.FilesCreated, st.FilesDeleted, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	case "stats":
		b, err := json.MarshalIndent(se.emu.Stats(), "", "  ")
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), string(b))
	case "faults":
		ts.Check(se.setFaults(args[1:]))
	case "await":
		want, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		ts.Check(se.await(want))
	case "content":
		err := se.checkContent(args[1], ts.MkAbs(args[2]))
		if neg {
			if err == nil {
				ts.Fatalf("emulator file %s matches %s", args[1], args[2])
			}
			return
		}
		ts.Check(err)
	case "rm":
		ts.Check(se.api(http.MethodDelete, "/files/"+url.PathEscape(args[1]), nil, nil))
	case "mkdir":
		ts.Check(se.mkdir(args[1]))
	case "corrupt":
		_, err := se.emu.Corrupt(args[1])
		ts.Check(err)
	case "downloads":
		for _, d := range se.emu.Downloads() {
			if d.FileID == args[1] {
				fmt.Fprintf(ts.Stdout(), "range=%q cut=%v\n", d.Range, d.Cut)
			}
		}
	default:
		ts.Fatalf("unknown emu subcommand %q", args[0])
	}
}

// setFaults applies KEY=VALUE switches on top of the faults in force.
func (se *scriptEnv) setFaults(kvs []string) error {
	f := se.emu.Faults()
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("fault %q: want KEY=VALUE", kv)
		}
		var err error
		switch k {
		case "latency":
			f.Latency, err = time.ParseDuration(v)
		case "api":
			f.APIFaultRate, err = strconv.ParseFloat(v, 64)
		case "part":
			f.PartFaultRate, err = strconv.ParseFloat(v, 64)
		case "reset":
			f.ResetRate, err = strconv.ParseFloat(v, 64)
		case "download":
			f.DownloadResetRate, err = strconv.ParseFloat(v, 64)
		default:
			return fmt.Errorf("unknown fault %q (latency, api, part, reset, download)", k)
		}
		if err != nil {
			return fmt.Errorf("fault %q: %w", kv, err)
		}
	}
	se.emu.SetFaults(f)
	return nil
}

// await polls the emulator's counters until it has created n files. The emulator offers no
// notification, and a script has nothing else to block on, so this is the one place that
// polls; the deadline only bounds a broken run.
func (se *scriptEnv) await(n int64) error {
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		st := se.emu.Stats()
		if st.FilesCreated >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("emulator created %d files in 20s, want %d", st.FilesCreated, n)
		}
	}
	return nil
}

// checkContent compares an emulator file with a local one by size and BLAKE3.
func (se *scriptEnv) checkContent(id, path string) error {
	info, ok := se.emu.FileInfo(id)
	if !ok {
		return fmt.Errorf("emulator has no file %q", id)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := blake3.Sum256(data)
	want := hex.EncodeToString(sum[:])
	switch {
	case info.Status != "uploaded":
		return fmt.Errorf("emulator file %s (%s) has status %q, want \"uploaded\"", id, info.Name, info.Status)
	case info.Size != int64(len(data)):
		return fmt.Errorf("emulator file %s (%s) has %d bytes, %s has %d", id, info.Name, info.Size, path, len(data))
	case info.BLAKE3 != want:
		return fmt.Errorf("emulator file %s (%s) has BLAKE3 %s, %s has %s", id, info.Name, info.BLAKE3, path, want)
	}
	return nil
}

// api calls the emulator's V4 API for the seeded account, as another Frame.io user would,
// and decodes the answer's "data" into out when out is not nil.
func (se *scriptEnv) api(method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(map[string]any{"data": body})
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, se.apiURL+"/v4/accounts/"+se.seed.AccountID+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+se.seed.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, &struct{ Data any }{Data: out})
}

// mkdir creates each missing folder of an absolute path below the project root.
func (se *scriptEnv) mkdir(path string) error {
	parent := se.seed.RootFolderID
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		var folders []struct{ ID, Name string }
		if err := se.api(http.MethodGet, "/folders/"+parent+"/folders?page_size=100", nil, &folders); err != nil {
			return err
		}
		id := ""
		for _, f := range folders {
			if f.Name == name {
				id = f.ID
			}
		}
		if id == "" {
			var created struct{ ID string }
			if err := se.api(http.MethodPost, "/folders/"+parent+"/folders", map[string]string{"name": name}, &created); err != nil {
				return err
			}
			id = created.ID
		}
		parent = id
	}
	return nil
}

// cmdFileID sets an environment variable to the Frame.io file id the state records for an
// address:
//
//	fileid VAR ADDRESS [STATEFILE]    STATEFILE defaults to fiosync.state.json
func cmdFileID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: fileid VAR ADDRESS [STATEFILE]")
	}
	path := "fiosync.state.json"
	if len(args) == 3 {
		path = args[2]
	}
	st, err := store.NewFile(ts.MkAbs(path)).Load(context.Background())
	ts.Check(err)
	e, ok := st.Entries[args[1]]
	if !ok {
		ts.Fatalf("state %s has no entry %q", path, args[1])
	}
	ts.Setenv(args[0], e.FileID)
}

// cmdOldState rewrites a state file (format 3, nothing verified) as the fiosync before format
// 2 wrote it, which did not record the manifest that writes a state:
//
//	oldstate STATEFILE
func cmdOldState(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: oldstate STATEFILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	doc := string(data)
	i := strings.LastIndex(doc, ",\n  \"checksum\": ")
	head := "{\n  \"version\": 3,\n"
	if i < 0 || !strings.HasPrefix(doc, head) || strings.Contains(doc, `"verified_at": `) || strings.Contains(doc, `"verify_failed_at": `) {
		ts.Fatalf("%s is not a format 3 state file without verify results", args[0])
	}
	prefix := "{\n  \"version\": 1,\n" + doc[len(head):i]
	lines := strings.Split(prefix, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, `  "manifest": `) })
	prefix = strings.Join(lines, "\n")
	sum := blake3.Sum256([]byte(prefix))
	ts.Check(os.WriteFile(path, []byte(prefix+",\n  \"checksum\": \"blake3:"+hex.EncodeToString(sum[:])+"\"\n}\n"), 0o644))
}

// cmdStateLock holds a state's lock from the test process, the way a long apply would, so
// that a script can watch a second fiosync meet it:
//
//	statelock hold [STATEFILE]       take the lock (as operation "apply") and keep it
//	statelock release [STATEFILE]    let it go
//
// STATEFILE defaults to fiosync.state.json; locks still held when the script ends are released.
func cmdStateLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: statelock hold|release [STATEFILE]")
	}
	se := envOf(ts)
	path := "fiosync.state.json"
	if len(args) == 2 {
		path = args[1]
	}
	path = ts.MkAbs(path)
	se.mu.Lock()
	defer se.mu.Unlock()
	switch args[0] {
	case "hold":
		if _, ok := se.locks[path]; ok {
			ts.Fatalf("already holding the lock on %s", path)
		}
		u, err := store.NewFile(path).Lock(context.Background(), store.LockInfo{Operation: "apply"}, 0)
		ts.Check(err)
		se.locks[path] = u
	case "release":
		u, ok := se.locks[path]
		if !ok {
			ts.Fatalf("not holding the lock on %s", path)
		}
		delete(se.locks, path)
		ts.Check(u.Unlock())
	default:
		ts.Fatalf("usage: statelock hold|release [STATEFILE]")
	}
}

func (se *scriptEnv) releaseAll() {
	se.mu.Lock()
	defer se.mu.Unlock()
	for path, u := range se.locks {
		u.Unlock()
		delete(se.locks, path)
	}
}

// cmdJSON checks JSON output field by field:
//
//	json FILE COND...                    FILE (or stdout) is one JSON value that meets each COND
//	json -lines [-count=N|-all] FILE COND... every line of FILE is a JSON object; N of them
//	                                     (-all: all; default: at least one) meet every COND
//
// A COND is PATH=VALUE, or PATH alone for "is present".
// PATH is dot-separated keys and list indices (summary.create, changes.0.address);
// len(PATH) is the length of a list or object ("#" would start a script comment). A string matches VALUE as is; anything else matches
// when its JSON encoding is VALUE (2, true, null, ["a"]). With !, nothing matches.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("json", flag.ContinueOnError)
	lines := fs.Bool("lines", false, "")
	count := fs.Int("count", -1, "")
	all := fs.Bool("all", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		ts.Fatalf("usage: json [-lines [-count=N|-all]] FILE COND...")
	}
	text := ts.ReadFile(fs.Arg(0))
	conds := fs.Args()[1:]
	var docs []string
	if *lines {
		docs = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	} else {
		docs = []string{text}
	}
	matched := 0
	for i, doc := range docs {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			ts.Fatalf("%s: line %d is not JSON: %v", fs.Arg(0), i+1, err)
		}
		if _, ok := v.(map[string]any); *lines && !ok {
			ts.Fatalf("%s: line %d is not a JSON object", fs.Arg(0), i+1)
		}
		ok, why := jsonMatches(v, conds)
		if ok {
			matched++
		} else if !*lines && !neg {
			ts.Fatalf("%s: %s", fs.Arg(0), why)
		}
	}
	switch {
	case neg && matched > 0:
		ts.Fatalf("%s: %d JSON values match %q", fs.Arg(0), matched, conds)
	case neg:
	case *all && matched != len(docs):
		ts.Fatalf("%s: %d of %d lines match %q, want all", fs.Arg(0), matched, len(docs), conds)
	case *count >= 0 && matched != *count:
		ts.Fatalf("%s: %d lines match %q, want %d", fs.Arg(0), matched, conds, *count)
	case matched == 0:
		ts.Fatalf("%s: no line matches %q", fs.Arg(0), conds)
	}
}

// jsonMatches reports whether v meets every condition, and if not, why.
func jsonMatches(v any, conds []string) (bool, string) {
	for _, c := range conds {
		path, want, hasValue := strings.Cut(c, "=")
		var got any
		var err error
		if inner, ok := strings.CutPrefix(path, "len("); ok && strings.HasSuffix(inner, ")") {
			got, err = jsonLen(v, strings.TrimSuffix(inner, ")"))
		} else {
			got, err = jsonAt(v, path)
		}
		if err != nil {
			return false, err.Error()
		}
		if !hasValue {
			continue
		}
		if s, isString := got.(string); isString {
			if s != want {
				return false, fmt.Sprintf("%s is %q, want %q", path, s, want)
			}
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != want {
			return false, fmt.Sprintf("%s is %s, want %s", path, b, want)
		}
	}
	return true, ""
}

// jsonLen is the length of the list or object at path.
func jsonLen(v any, path string) (any, error) {
	v, err := jsonAt(v, path)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case map[string]any:
		return len(x), nil
	case []any:
		return len(x), nil
	}
	return nil, fmt.Errorf("len(%s): a %T has no length", path, v)
}

// jsonAt follows a dot-separated path of keys and indices.
func jsonAt(v any, path string) (any, error) {
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			val, ok := x[key]
			if !ok {
				return nil, fmt.Errorf("%s: no key %q", path, key)
			}
			v = val
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("%s: no index %q in a list of %d", path, key, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%s: %q is below a %T, not an object or list", path, key, v)
		}
	}
	return v, nil
}

// cmdMkframes writes numbered files of SIZE bytes each, such as the frames of an image
// sequence, their content differing by frame:
//
//	mkframes PATTERN FIRST LAST STEP SIZE    PATTERN holds one %d verb, such as shot.%04d.exr
func cmdMkframes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: mkframes PATTERN FIRST LAST STEP SIZE")
	}
	var n [4]int
	for i, a := range args[1:] {
		v, err := strconv.Atoi(a)
		ts.Check(err)
		n[i] = v
	}
	if n[2] < 1 {
		ts.Fatalf("mkframes: STEP must be at least 1")
	}
	for f := n[0]; f <= n[1]; f += n[2] {
		path := ts.MkAbs(fmt.Sprintf(args[0], f))
		ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
		data := []byte(strings.Repeat(strconv.Itoa(f%10), n[3]))
		ts.Check(os.WriteFile(path, data, 0o644))
	}
}

// cmdMkfile writes a file of pseudo-random bytes, the same for the same path and size, for
// content too large to keep in a script:
//
//	mkfile PATH SIZE    SIZE in bytes, or with a KiB or MiB suffix
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfile PATH SIZE")
	}
	num, mult := args[1], int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20} {
		if n, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = n, m
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	ts.Check(err)
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	seed := blake3.Sum256([]byte(args[0]))
	x := blake3.New()
	x.Write(seed[:])
	data := make([]byte, n*mult)
	_, err = x.Digest().Read(data)
	ts.Check(err)
	ts.Check(os.WriteFile(path, data, 0o644))
}

// cmdEdit replaces the first occurrence of OLD in FILE by NEW, as a person editing it would:
//
//	edit FILE OLD NEW
func cmdEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: edit FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if !bytes.Contains(data, []byte(args[1])) {
		ts.Fatalf("%s has no %q", args[0], args[1])
	}
	ts.Check(os.WriteFile(path, bytes.Replace(data, []byte(args[1]), []byte(args[2]), 1), 0o644))
}

// timeLike matches what differs from run to run in apply's text: durations ("1.2s", "42s",
// "7m05s") and rates ("3.9 MiB/s", "4.5 files/s").
var timeLike = regexp.MustCompile(`\b\d+(\.\d+)? ([KMGTPE]iB|B|files)/s\b|\b(\d+h)?(\d+m)?\d+(\.\d+)?s\b`)

// viewURL matches a file's page in the emulator, whose id differs from run to run.
var viewURL = regexp.MustCompile(`https?://[^ /]+/view/[0-9a-f-]+`)

// cmdCmpTimes is "cmptimes stdout|stderr|FILE GOLDEN": cmp with every duration and rate
// written as T and R, and every view URL as VIEW_URL, on both sides, for golden output of
// commands that report how long they took.
func cmdCmpTimes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmptimes stdout|stderr|FILE GOLDEN")
	}
	got := ts.ReadFile(args[0]) // ReadFile knows stdout and stderr
	mask := func(s string) string {
		s = viewURL.ReplaceAllString(s, "VIEW_URL")
		return timeLike.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasSuffix(m, "/s") {
				return "R"
			}
			return "T"
		})
	}
	if g, w := mask(got), mask(ts.ReadFile(args[1])); g != w {
		ts.Fatalf("%s and %s differ (durations, rates and view URLs masked):\n--- %s\n%s\n--- %s\n%s", args[0], args[1], args[0], g, args[1], w)
	}
}

// cmdTerm is "term PROG ARGS...": it runs PROG on a terminal of 100 columns (a tmux pane, in
// the script's directory and environment), waits for it to end and writes to stdout the
// screen as tmux renders it, trailing blank lines left out: what a person would see. It
// fails when PROG fails (! term: when it succeeds). Scripts that use it need [exec:tmux].
func cmdTerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: term PROG ARGS...")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	// A server of its own each time: one that was just killed may still be on its way out.
	ts.Check(os.MkdirAll(ts.MkAbs(".tmux"), 0o700))
	dir, err := os.MkdirTemp(ts.MkAbs(".tmux"), "")
	ts.Check(err)
	sock := filepath.Join(dir, "sock")
	var env []string
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "NO_COLOR", "GORACE",
		"FRAMEIO_API_URL", "FRAMEIO_TOKEN", "FRAMEIO_ACCOUNT_ID", "FRAMEIO_IMS_URL", "FILESERVER"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	env = append(env, "TERM=xterm-256color")
	tmux := func(args ...string) string {
		cmd := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			ts.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", "term", "-x", "100", "-y", "50", "-c", ts.MkAbs("."),
		strings.Join(quoted, " ")+"; echo EXIT=$?; sleep 600")
	defer exec.Command("tmux", "-S", sock, "kill-server").Run()
	exit := regexp.MustCompile(`(?m)^EXIT=(\d+)$`)
	var screen string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		screen = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "term")
		if exit.MatchString(screen) {
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not end within a minute:\n%s", args[0], screen)
		}
	}
	m := exit.FindStringSubmatchIndex(screen)
	code := screen[m[2]:m[3]]
	fmt.Fprint(ts.Stdout(), strings.TrimRight(screen[:m[0]], "\n")+"\n")
	if (code == "0") == neg {
		ts.Fatalf("%s exited with %s", args[0], code)
	}
}

// cmdMtime sets the modification time of files, as a copy that keeps it would:
//
//	mtime RFC3339 PATH...
func cmdMtime(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: mtime RFC3339 PATH...")
	}
	at, err := time.Parse(time.RFC3339, args[0])
	ts.Check(err)
	for _, p := range args[1:] {
		ts.Check(os.Chtimes(ts.MkAbs(p), at, at))
	}
}
