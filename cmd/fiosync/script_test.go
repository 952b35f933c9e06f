package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fiosync/fiosync/emulator"
)

var update = flag.Bool("update", false, "rewrite testscript golden sections from actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"fiosync": main})
}

// emulators maps a script's work directory to the emulator serving it, for the emu command.
var emulators sync.Map

// TestScript runs the end-to-end scripts in testdata/script against the built command and an
// in-process emulator started for each script. The environment points fiosync at it exactly
// the way a user would: FRAMEIO_API_URL and FRAMEIO_TOKEN.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
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
			env.Setenv("FRAMEIO_IMS_URL", srv.URL)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/home/.config")
			emulators.Store(env.WorkDir, emu)
			env.Defer(func() { emulators.Delete(env.WorkDir) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"emu": cmdEmu,
		},
	})
}

// cmdEmu inspects the script's emulator:
//
//	emu live N          the emulator holds N files (created minus deleted)
//	emu stats           print /_emulator/stats as JSON to stdout
func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	v, ok := emulators.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("no emulator for this script")
	}
	emu := v.(*emulator.Emulator)
	if len(args) == 0 {
		ts.Fatalf("usage: emu live N | emu stats")
	}
	switch args[0] {
	case "live":
		if len(args) != 2 {
			ts.Fatalf("usage: emu live N")
		}
		want, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		st := emu.Stats()
		got := st.FilesCreated - st.FilesDeleted
		if (got == want) == neg {
			ts.Fatalf("emulator holds %d files (created %d, deleted %d), want %s%d", got, st.FilesCreated, st.FilesDeleted, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	case "stats":
		b, err := json.MarshalIndent(emu.Stats(), "", "  ")
		ts.Check(err)
		fmt.Fprintln(ts.Stdout(), string(b))
	default:
		ts.Fatalf("unknown emu subcommand %q", args[0])
	}
}
