package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
)

// TestTerminalInterrupt runs fiosync apply on a real terminal (a tmux pane, whose screen
// tmux renders, so the test reads what a person would see), against an emulator slowed to
// two creates a second. Mid-apply the live frame shows the files done of planned and an ETA;
// then Ctrl-C goes to the pane as a key, and the final screen has no partial or stale line,
// no live frame left behind, a total that did not jump to 100%, and a summary in honest words
// whose counts add up to the plan.
func TestTerminalInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a terminal for several seconds")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed")
	}
	bin, err := exec.LookPath("fiosync") // testscript.Main put this test binary there as fiosync
	if err != nil {
		t.Fatal(err)
	}

	opts := emulator.DefaultOptions()
	opts.RateLimitScale = 0.4 // 2 creates a second
	opts.Latency = 20 * time.Millisecond
	emu := emutest.Start(t, opts)

	dir := t.TempDir()
	const files = 30
	for i := range files {
		write(t, filepath.Join(dir, "media", fmt.Sprintf("clip%02d.mov", i)), strings.Repeat("x", 1000+i))
	}
	write(t, filepath.Join(dir, "fiosync.yaml"), "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /day01\n")

	sock := filepath.Join(t.TempDir(), "tmux.sock")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(),
			"FRAMEIO_API_URL="+emu.URL, "FRAMEIO_TOKEN="+emu.Seed.Token, "FRAMEIO_ACCOUNT_ID="+emu.Seed.AccountID,
			"XDG_STATE_HOME="+filepath.Join(dir, ".state"), "HOME="+dir, "TERM=xterm-256color", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("new-session", "-d", "-s", "apply", "-x", "150", "-y", "60", "-c", dir,
		fmt.Sprintf("%s apply --auto-approve --parallel 2; echo EXIT=$?; sleep 600", bin))
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })
	screen := func() string { return run("capture-pane", "-p", "-J", "-S", "-", "-t", "apply") }

	// Mid-apply: the live frame, with files done of planned and a known ETA.
	live := regexp.MustCompile(`(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (\d+)/30 files, .* elapsed, ETA \d`)
	var frame string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		frame = screen()
		if m := live.FindStringSubmatch(frame); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 4 {
				break
			}
		}
		if strings.Contains(frame, "EXIT=") || time.Now().After(deadline) {
			t.Fatalf("no live frame with 4 or more files done and an ETA:\n%s", frame)
		}
	}
	if n := len(live.FindAllString(frame, -1)); n != 1 {
		t.Errorf("the screen holds %d total lines, want 1 (the frame redraws in place):\n%s", n, frame)
	}

	run("send-keys", "-t", "apply", "C-c")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(frame, "EXIT="); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("apply did not end after Ctrl-C:\n%s", frame)
		}
		frame = screen()
	}

	// Every line is one the apply writes whole, the live frame is gone, and the counts add up.
	lineKinds := []*regexp.Regexp{
		regexp.MustCompile(`^Applying 30 changes \(29\.7 KiB to upload\)\.$`),
		regexp.MustCompile(`^  folder  /day01$`),
		// A file, or frames of the clip sequence finished in a row, as one line.
		regexp.MustCompile(`^  done    /day01/clip(\d\d|\[[\d,-]+\])\.mov  (?:(\d+) files  )?\d+(\.\d)? (B|KiB)$`),
		regexp.MustCompile(`^  interrupted /day01/clip\d\d\.mov  \(in flight; the next apply resumes it\)$`),
		regexp.MustCompile(`^  \d+/30 files, [\d.]+ (B|KiB) / 29\.7 KiB(, [\d.]+ files/s, [\d.]+ (B|KiB)/s)?, [\d.]+s elapsed$`),
		regexp.MustCompile(`^Apply interrupted: .*\. [\d.]+ (B|KiB) sent in [\d.]+s( \([\d.]+ (B|KiB)/s\))?\.$`),
		regexp.MustCompile(`^Error: interrupted; work done so far is saved in the state\. Run the same command again to continue\.$`),
		regexp.MustCompile(`^EXIT=130$`),
		regexp.MustCompile(`^View in Frame\.io:$`),
		regexp.MustCompile(`^  /day01/clip\d\d\.mov  http://127\.0\.0\.1:\d+/view/[0-9a-f-]+$`),
	}
	var done, interrupted int
	var summary, total string
	for _, l := range strings.Split(strings.TrimRight(frame, "\n"), "\n") {
		if l == "" {
			continue
		}
		kind := -1
		for i, re := range lineKinds {
			if re.MatchString(l) {
				kind = i
				break
			}
		}
		switch kind {
		case -1:
			t.Errorf("a line that is no whole line of apply's: %q", l)
		case 2:
			if m := lineKinds[2].FindStringSubmatch(l); strings.HasPrefix(m[1], "[") {
				n, _ := strconv.Atoi(m[2])
				done += n
			} else {
				done++
			}
		case 3:
			interrupted++
		case 4:
			total = l
		case 5:
			summary = l
		}
	}
	if t.Failed() || summary == "" || total == "" {
		t.Fatalf("final screen (summary %q, total %q):\n%s", summary, total, frame)
	}
	counts := map[string]int{}
	for _, part := range regexp.MustCompile(`(\d+) (uploaded|failed|interrupted|not started)`).FindAllStringSubmatch(summary, -1) {
		n, _ := strconv.Atoi(part[1])
		counts[part[2]] = n
	}
	if sum := counts["uploaded"] + counts["failed"] + counts["interrupted"] + counts["not started"]; sum != files {
		t.Errorf("the summary's counts add up to %d, want %d: %q", sum, files, summary)
	}
	if counts["uploaded"] != done || counts["interrupted"] != interrupted || counts["not started"] == 0 {
		t.Errorf("summary %q, but %d done lines and %d interrupted lines (and some must not have started)", summary, done, interrupted)
	}
	if !strings.HasPrefix(total, fmt.Sprintf("  %d/30 files, ", done)) || strings.Contains(total, "29.7 KiB / 29.7 KiB") {
		t.Errorf("the final total %q is not where the apply stopped (%d done)", total, done)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
