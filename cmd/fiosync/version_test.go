package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVersionOf: the build info's module version and VCS settings win; without them the
// -ldflags values stand.
func TestVersionOf(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "40c871f0123456789abcdef0123456789abcdef0"},
		{Key: "vcs.time", Value: "2026-12-01T20:50:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want buildVersion
		text string
	}{
		{"no build info", nil,
			buildVersion{Version: "v1.4.0", Commit: "abc123", Go: runtime.Version(), Platform: platform},
			"fiosync v1.4.0\ncommit: abc123\ngo: " + runtime.Version() + " " + platform},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/fiosync/fiosync", Version: "v1.5.0"}},
			buildVersion{Version: "v1.5.0", Commit: "abc123", Go: "go1.26.8", Platform: platform},
			"fiosync v1.5.0\ncommit: abc123\ngo: go1.26.8 " + platform},
		{"go build in a checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201205000-40c871f01234+dirty"}, Settings: vcs},
			buildVersion{Version: "v0.0.0-20261201205000-40c871f01234+dirty", Commit: "40c871f0123456789abcdef0123456789abcdef0",
				Time: "2026-12-01T20:50:00Z", Modified: true, Go: "go1.26.8", Platform: platform},
			"fiosync v0.0.0-20261201205000-40c871f01234+dirty\ncommit: 40c871f0123456789abcdef0123456789abcdef0 (2026-12-01T20:50:00Z, modified)\ngo: go1.26.8 " + platform},
		{"devel build without VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			buildVersion{Version: "v1.4.0", Commit: "abc123", Go: "go1.26.8", Platform: platform},
			"fiosync v1.4.0\ncommit: abc123\ngo: go1.26.8 " + platform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionOf(tt.bi, "v1.4.0", "abc123")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("versionOf (-want +got):\n%s", diff)
			}
			if got.String() != tt.text {
				t.Errorf("String() = %q, want %q", got.String(), tt.text)
			}
		})
	}
	if got := versionOf(nil, "dev", "").String(); !strings.Contains(got, "commit: unknown\n") {
		t.Errorf("without a commit: %q, want commit: unknown", got)
	}
}

// TestVersionCommand: `fiosync version` and `fiosync --version` print the same text.
func TestVersionCommand(t *testing.T) {
	outputs := map[string]string{}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 || errb.Len() > 0 {
			t.Fatalf("fiosync %v: exit %d, stderr %q", args, code, errb.String())
		}
		outputs[args[0]] = out.String()
	}
	if outputs["version"] != outputs["--version"] {
		t.Errorf("version printed %q, --version %q", outputs["version"], outputs["--version"])
	}
	if want := currentVersion().String() + "\n"; outputs["version"] != want {
		t.Errorf("version printed %q, want %q", outputs["version"], want)
	}
}

// TestVersionBuilt builds the binary both ways CI and users do and runs `fiosync version`:
// with -buildvcs=false the -ldflags value is reported (what .ci/run and the Makefile do), and
// in a git checkout with VCS stamping the build info's version and commit are.
func TestVersionBuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	bin := filepath.Join(t.TempDir(), "fiosync")
	build := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, args...), ".")...)
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("fiosync version: %v\n%s", err, out)
		}
		return string(out)
	}

	got := build("-buildvcs=false", "-ldflags", "-X main.version=v9.8.7-test -X main.commit=feedface")
	want := "fiosync v9.8.7-test\ncommit: feedface\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got != want {
		t.Errorf("with -buildvcs=false and -ldflags:\n%s\nwant:\n%s", got, want)
	}

	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): the build-info path is covered by TestVersionOf", err)
	}
	got = build("-buildvcs=true", "-ldflags", "-X main.version=v9.8.7-test")
	// go build stamps nothing in some checkouts (a git worktree, whose .git is a file); the
	// binary's own build info says whether it did.
	if info, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || !bytes.Contains(info, []byte("vcs.revision=")) {
		t.Skipf("go build recorded no VCS information here (%v): the build-info path is covered by TestVersionOf", err)
	}
	if strings.Contains(got, "v9.8.7-test") || !strings.HasPrefix(got, "fiosync v") {
		t.Errorf("with VCS stamping the build info's version should win:\n%s", got)
	}
	if !strings.Contains(got, "commit: "+strings.TrimSpace(string(head))) {
		t.Errorf("with VCS stamping, want commit %s:\n%s", head, got)
	}
}
