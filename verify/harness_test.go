package verify_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
	"github.com/fiosync/fiosync/verify"
)

// delivery is a manifest directory delivered to an emulator by plan and apply, as a user's
// first `fiosync apply` leaves it.
type delivery struct {
	t         testing.TB
	env       *emutest.Env
	dir       string
	statePath string
}

var testRetry = frameio.WithRetry(frameio.RetryPolicy{
	MaxAttempts: 8, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxWait: 30 * time.Second,
})

func testOptions() emulator.Options {
	o := emulator.DefaultOptions()
	o.RateLimitScale = 0
	o.PartSize = 64 << 10
	o.FaultSeed = 1
	return o
}

// deliver writes files (relative path -> size) under a manifest uploading them to /Day, plus
// the remote URLs given (name -> body, served by a local file server), and applies it.
func deliver(t testing.TB, opts emulator.Options, files map[string]int64, remote map[string]string) *delivery {
	t.Helper()
	env := emutest.Start(t, opts, testRetry)
	d := &delivery{t: t, env: env, dir: t.TempDir()}
	d.statePath = filepath.Join(d.dir, "fiosync.state.json")
	seed := uint64(1)
	for rel, size := range files {
		writeRandom(t, filepath.Join(d.dir, "media", rel), size, seed)
		seed++
	}
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\ntarget:\n  project: %s\nuploads:\n", env.Seed.Project)
	if len(files) > 0 {
		yaml.WriteString("  - local: media\n    to: /Day\n")
	}
	if len(remote) > 0 {
		www := t.TempDir()
		srv := httptest.NewServer(http.FileServer(http.Dir(www)))
		t.Cleanup(srv.Close)
		for name, body := range remote {
			if err := os.WriteFile(filepath.Join(www, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&yaml, "  - remote: %s/%s\n    to: /Reels\n", srv.URL, name)
		}
	}
	mpath := filepath.Join(d.dir, "fiosync.yaml")
	if err := os.WriteFile(mpath, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := manifest.Load(mpath)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := m.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Identify(ctx, exp.Files, nil, 2); err != nil {
		t.Fatal(err)
	}
	snap, err := plan.Refresh(ctx, env.Client, m, exp.Files, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(plan.Inputs{Files: exp.Files, Target: m.Target, Remote: snap})
	if err != nil {
		t.Fatal(err)
	}
	res, err := apply.Run(ctx, p, apply.Options{Client: env.Client, Manifest: m, PollInterval: 5 * time.Millisecond,
		State: store.NewWriter(store.NewFile(d.statePath), state.New(p.Target))})
	if err != nil || res.Failed > 0 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	return d
}

func writeRandom(t testing.TB, path string, size int64, seed uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	if _, err := io.CopyN(f, rng, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func (d *delivery) state() *state.State {
	d.t.Helper()
	st, err := store.NewFile(d.statePath).Load(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return st
}

// verify runs verify.Run over addresses (all when none) with the state file as its writer.
func (d *delivery) verify(opts verify.Options, addresses ...string) *verify.Report {
	d.t.Helper()
	st := d.state()
	if len(addresses) == 0 {
		addresses = verify.Select(st, nil)
	}
	opts.Client = d.env.Client
	opts.State = store.NewWriter(store.NewFile(d.statePath), st)
	rep, err := verify.Run(context.Background(), addresses, opts)
	if err != nil {
		d.t.Fatalf("verify.Run: %v", err)
	}
	return rep
}
