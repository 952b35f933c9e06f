package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=..." (the Makefile's build target does). They
// are what fiosync reports when the binary's build info carries no module version or VCS
// revision, as with `go build -buildvcs=false` (CI) or a build outside a git checkout.
var (
	version = "dev"
	commit  = ""
)

// buildVersion is what `fiosync version` reports.
type buildVersion struct {
	Version  string
	Commit   string // empty when unknown
	Time     string // commit time (RFC 3339), empty when unknown
	Modified bool   // built from a work tree with uncommitted changes
	Go       string // toolchain, e.g. go1.26.8
	Platform string // GOOS/GOARCH
}

// versionOf takes the version from bi, the module's build info, when it has one: `go install
// github.com/fiosync/fiosync/cmd/fiosync@v1.2.3` records v1.2.3, and `go build` in a git
// checkout a version derived from the tag or commit. Otherwise it takes ldVersion and ldCommit,
// the -ldflags values. bi may be nil (debug.ReadBuildInfo found none).
func versionOf(bi *debug.BuildInfo, ldVersion, ldCommit string) buildVersion {
	v := buildVersion{
		Version:  ldVersion,
		Commit:   ldCommit,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		return v
	}
	if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
		v.Version = mv
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// currentVersion is the running binary's version.
func currentVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionOf(bi, version, commit)
}

// String is the text of `fiosync version` and `fiosync --version`.
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fiosync %s\n", v.Version)
	c := v.Commit
	if c == "" {
		c = "unknown"
	}
	var notes []string
	if v.Time != "" {
		notes = append(notes, v.Time)
	}
	if v.Modified {
		notes = append(notes, "modified")
	}
	if len(notes) > 0 {
		c += " (" + strings.Join(notes, ", ") + ")"
	}
	fmt.Fprintf(&b, "commit: %s\n", c)
	fmt.Fprintf(&b, "go: %s %s", v.Go, v.Platform)
	return b.String()
}

type versionCmd struct{}

func (c *versionCmd) Help() string {
	return `Prints the version, the commit it was built from and the Go toolchain. The version comes from
the binary's build info (go install ...@VERSION, or go build in a git checkout), else from the
value the build set with -ldflags "-X main.version=...".`
}

func (c *versionCmd) Run(io *stdio) error {
	_, err := fmt.Fprintln(io.Out, currentVersion())
	return err
}
