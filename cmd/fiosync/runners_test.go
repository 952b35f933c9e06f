package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"github.com/fiosync/fiosync/apply"
	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/internal/pgtest"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/pgstate"
)

// runnersLease is the claim lease of the runners in TestThreeRunnersOneDelivery: short, so the
// killed runner's files are taken over within seconds (the default is 30s).
const runnersLease = 3 * time.Second

// runnerProc is one `fiosync apply` process of a cooperative delivery and the events it
// printed.
type runnerProc struct {
	cmd    *exec.Cmd
	stderr strings.Builder

	mu     sync.Mutex
	events []apply.Event
	done   chan struct{} // closed when its stdout ends
}

// runnersSetup is what a test of several runner processes needs: a PostgreSQL database and
// an emulator with latency and its limits scaled up (so the run is latency-bound). It skips
// in -short mode.
func runnersSetup(t *testing.T, latency time.Duration) (pgURL string, env *emutest.Env) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts fiosync processes")
	}
	pgURL = pgtest.URL(t)
	o := emulator.DefaultOptions()
	o.Latency = latency
	o.RateLimitScale = 100
	o.PartSize = 64 << 10
	return pgURL, emutest.Start(t, o)
}

// foldersNamed counts the folders called name in the project's root folder.
func foldersNamed(t *testing.T, env *emutest.Env, name string) int {
	t.Helper()
	n := 0
	for f, err := range env.Client.Folders(context.Background(), env.Seed.AccountID, env.Seed.RootFolderID) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			n++
		}
	}
	return n
}

// startRunner starts `fiosync apply --auto-approve --json` of manifest on the PostgreSQL state
// pgURL named name, against env, with args added: one runner of a cooperative delivery, with
// a home (and so a part journal) of its own, as on its own machine. Its events are collected
// as it prints them; it is killed when the test ends.
func startRunner(t *testing.T, env *emutest.Env, manifest, pgURL, name string, args ...string) *runnerProc {
	t.Helper()
	exe, err := exec.LookPath("fiosync") // the test binary as fiosync (testscript.Main)
	if err != nil {
		t.Fatal(err)
	}
	p := &runnerProc{done: make(chan struct{})}
	p.cmd = exec.Command(exe, append([]string{"apply", "-f", manifest, "--state", pgURL, "--state-name", name,
		"--auto-approve", "--json"}, args...)...)
	home := t.TempDir()
	p.cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".state"),
		"FRAMEIO_API_URL="+env.URL, "FRAMEIO_IMS_URL="+env.URL, "FRAMEIO_TOKEN="+env.Seed.Token,
		"FRAMEIO_ACCOUNT_ID="+env.Seed.AccountID, "NO_COLOR=1", "FIOSYNC_STATE=", "FRAMEIO_CLIENT_ID=",
		"FRAMEIO_CLIENT_SECRET=", "GORACE=atexit_sleep_ms=0")
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill() })
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e apply.Event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			p.mu.Lock()
			p.events = append(p.events, e)
			p.mu.Unlock()
		}
	}()
	return p
}

// wait waits for the runner to end and fails the test unless it succeeded.
func (p *runnerProc) wait(t *testing.T, name string) {
	t.Helper()
	err := p.cmd.Wait()
	<-p.done
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, &p.stderr)
	}
}

// count returns how many events of type typ the runner printed.
func (p *runnerProc) count(typ string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestThreeRunnersOneDelivery is issue 18's scale-out case: three `fiosync apply` processes
// with the same manifest and the same PostgreSQL state deliver 300 files into one emulator
// (fixed latency, limits scaled up so the run is latency-bound), and one of them is killed
// with SIGKILL half way through its share. The two others finish: every file is in Frame.io
// exactly once with the right BLAKE3, recorded complete, the killed runner's files taken over
// once its leases ran out; no more than 1% of the calls drew a 429 (the runners pace from
// the shared bucket); every file event names its runner. The wall-time ratio against one
// runner is a benchmark (scripts/bench.sh), not asserted here.
func TestThreeRunnersOneDelivery(t *testing.T) {
	pgURL, env := runnersSetup(t, 10*time.Millisecond)

	const perFolder, folders = 100, 3
	dir := t.TempDir()
	sums := map[string]string{} // address -> BLAKE3 of the local file
	for f := range folders {
		for i := range perFolder {
			rel := fmt.Sprintf("media/day%d/clip%03d.mov", f, i)
			data := []byte(strings.Repeat(fmt.Sprintf("%s ", rel), 200))
			path := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			sum := blake3.Sum256(data)
			sums[fmt.Sprintf("/day%d/clip%03d.mov", f, i)] = fmt.Sprintf("%x", sum[:])
		}
	}
	manifest := filepath.Join(dir, "fiosync.yaml")
	if err := os.WriteFile(manifest, []byte("version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	start := func(int) *runnerProc {
		return startRunner(t, env, manifest, pgURL, "crew", "--parallel", "4", "--lease", runnersLease.String())
	}
	procs := []*runnerProc{start(0), start(1), start(2)}

	// Kill the first runner half way through its share of about 100 files.
	victim := procs[0]
	deadline := time.Now().Add(40 * time.Second)
	for victim.count(apply.EventFileDone) < perFolder/2 {
		select {
		case <-victim.done:
			t.Fatalf("runner 0 ended before it was killed, after %d files:\n%s", victim.count(apply.EventFileDone), &victim.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("runner 0 delivered %d files in 40s", victim.count(apply.EventFileDone))
		}
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	<-victim.done
	t.Logf("killed runner 0 (pid %d) after %d files", victim.cmd.Process.Pid, victim.count(apply.EventFileDone))

	delivered := map[string]int{}  // address -> file_done events across runners
	elsewhere := map[string]bool{} // addresses a runner found done by another
	for i, p := range procs[1:] {
		p.wait(t, fmt.Sprintf("runner %d", i+1))
		t.Logf("runner %d (pid %d): %d done, %d by other runners", i+1, p.cmd.Process.Pid,
			p.count(apply.EventFileDone), p.count(apply.EventFileElsewhere))
	}
	for _, p := range procs {
		p.mu.Lock()
		for _, e := range p.events {
			switch e.Type {
			case apply.EventFileDone, apply.EventFileStart, apply.EventFileElsewhere, apply.EventFolder:
				if e.Runner == nil || e.Runner.PID != p.cmd.Process.Pid || e.Runner.Host == "" {
					t.Errorf("%s event of %s names runner %+v, want pid %d", e.Type, e.Address, e.Runner, p.cmd.Process.Pid)
				}
			}
			switch e.Type {
			case apply.EventFileDone:
				delivered[e.Address]++
			case apply.EventFileElsewhere:
				elsewhere[e.Address] = true
			}
		}
		p.mu.Unlock()
	}
	for addr, n := range delivered {
		if n > 1 {
			t.Errorf("%s delivered %d times", addr, n)
		}
	}
	// The files the killed runner had started and not finished were taken over by a survivor,
	// unless it recorded one complete and was killed before it printed file_done: then the
	// survivors found it done (elsewhere). Once in Frame.io is checked below either way.
	started := map[string]bool{}
	for _, e := range victim.events {
		switch e.Type {
		case apply.EventFileStart:
			started[e.Address] = true
		case apply.EventFileDone:
			delete(started, e.Address)
		}
	}
	for addr := range started {
		if delivered[addr] != 1 && (delivered[addr] != 0 || !elsewhere[addr]) {
			t.Errorf("%s, left unfinished by the killed runner, was delivered %d times by the survivors", addr, delivered[addr])
		}
	}
	t.Logf("the survivors took over %d files the killed runner had started", len(started))

	// Exactly once in Frame.io, with the right content, and recorded so.
	b, err := pgstate.New(pgURL, "crew")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != len(sums) {
		t.Errorf("state holds %d entries, want %d", len(st.Entries), len(sums))
	}
	for addr, sum := range sums {
		e := st.Entries[addr]
		if e == nil || e.Status != state.StatusComplete {
			t.Errorf("%s: entry %+v, want complete", addr, e)
			continue
		}
		info, ok := env.Emu.FileInfo(e.FileID)
		if !ok || info.BLAKE3 != sum || info.Status == "deleted" {
			t.Errorf("%s: Frame.io holds %+v, want BLAKE3 %s", addr, info, sum)
		}
	}
	stats := env.Emu.Stats()
	if live := stats.FilesCreated - stats.FilesDeleted; live != int64(len(sums)) {
		t.Errorf("Frame.io holds %d files (created %d, deleted %d), want %d: each exactly once",
			live, stats.FilesCreated, stats.FilesDeleted, len(sums))
	}
	var calls, limited int64
	for _, byStatus := range stats.Requests {
		for status, n := range byStatus {
			calls += n
			if status == "429" {
				limited += n
			}
		}
	}
	t.Logf("%d calls, %d answered 429; serial %d", calls, limited, st.Serial)
	if limited*100 > calls {
		t.Errorf("%d of %d calls answered 429, more than 1%%", limited, calls)
	}
	if claims, err := b.Claims(context.Background()); err != nil || len(claims) != 0 {
		t.Errorf("claims left after the survivors finished: %+v, %v", claims, err)
	}
}
