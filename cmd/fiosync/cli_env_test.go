package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
)

// cliEnv starts an emulator without rate limits and points the process environment at it,
// with the seed token as the credential and no other credential or state setting, for tests
// that run the CLI in process. Such tests set the environment, so they do not run in
// parallel.
func cliEnv(t *testing.T) *emutest.Env {
	t.Helper()
	opts := emulator.DefaultOptions()
	opts.RateLimitScale = 0
	emu := emutest.Start(t, opts, frameio.WithoutPacing())
	t.Setenv("FRAMEIO_API_URL", emu.URL)
	t.Setenv("FRAMEIO_TOKEN", emu.Seed.Token)
	t.Setenv("NO_COLOR", "1")
	for _, k := range []string{"FRAMEIO_CLIENT_ID", "FRAMEIO_CLIENT_SECRET", "FIOSYNC_STATE"} {
		t.Setenv(k, "")
	}
	return emu
}

// writeFile writes content to name below dir, making the directories it needs.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
