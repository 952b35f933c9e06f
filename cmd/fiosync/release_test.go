package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
)

// goreleaserConfig is the part of GoReleaser's v2 configuration .goreleaser.yaml uses. It is
// decoded strictly, so a key GoReleaser would not know (a typo, a v1 spelling) fails the test.
type goreleaserConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID           string   `yaml:"id"`
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		ModTimestamp string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	Archives []struct {
		ID              string   `yaml:"id"`
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		NameTemplate string   `yaml:"name_template"`
		Files        []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	SBOMs []struct {
		ID        string `yaml:"id"`
		Artifacts string `yaml:"artifacts"`
	} `yaml:"sboms"`
	Changelog struct {
		Sort    string `yaml:"sort"`
		Filters struct {
			Exclude []string `yaml:"exclude"`
		} `yaml:"filters"`
	} `yaml:"changelog"`
	Release struct {
		GitHub struct {
			Owner string `yaml:"owner"`
			Name  string `yaml:"name"`
		} `yaml:"github"`
		Prerelease string `yaml:"prerelease"`
	} `yaml:"release"`
}

// TestGoReleaserConfig checks .goreleaser.yaml offline: the six platforms, checksums and an
// SBOM, -X flags that name variables version.go has, and archive names that the GitHub
// Action's installer asks for.
func TestGoReleaserConfig(t *testing.T) {
	root := repoRoot(t)
	var c goreleaserConfig
	decodeStrict(t, filepath.Join(root, ".goreleaser.yaml"), &c)
	if c.Version != 2 || c.ProjectName != "fiosync" {
		t.Errorf("version %d, project_name %q; want 2 and fiosync", c.Version, c.ProjectName)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(c.Builds))
	}
	b := c.Builds[0]
	if fi, err := os.Stat(filepath.Join(root, b.Main, "main.go")); err != nil || fi.IsDir() || b.Binary != "fiosync" {
		t.Errorf("builds[0]: main %q (%v), binary %q", b.Main, err, b.Binary)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		if !slices.Contains(b.Goos, goos) {
			t.Errorf("goos %v lacks %s", b.Goos, goos)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			t.Errorf("goarch %v lacks %s", b.Goarch, arch)
		}
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("env %v: cross-compiling needs CGO_ENABLED=0", b.Env)
	}

	// Every -X main.NAME names a package-level string variable of version.go.
	f, err := parser.ParseFile(token.NewFileSet(), "version.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					vars[n.Name] = true
				}
			}
		}
	}
	xs := regexp.MustCompile(`-X main\.(\w+)=`).FindAllStringSubmatch(strings.Join(b.Ldflags, " "), -1)
	if len(xs) != 2 {
		t.Errorf("ldflags %q: want -X main.version and -X main.commit", b.Ldflags)
	}
	for _, x := range xs {
		if !vars[x[1]] {
			t.Errorf("ldflags set main.%s, which version.go does not declare", x[1])
		}
	}

	if len(c.Archives) != 1 {
		t.Fatalf("%d archives, want 1", len(c.Archives))
	}
	a := c.Archives[0]
	tmpl, err := template.New("name").Parse(a.NameTemplate)
	if err != nil {
		t.Fatal(err)
	}
	var name strings.Builder
	if err := tmpl.Execute(&name, map[string]string{"ProjectName": c.ProjectName, "Version": "1.2.3", "Os": "linux", "Arch": "arm64"}); err != nil {
		t.Fatal(err)
	}
	install, err := os.ReadFile(filepath.Join(root, "action", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if name.String() != "fiosync_1.2.3_linux_arm64" || !strings.Contains(string(install), `archive="fiosync_${ref#v}_${os}_${arch}.$ext"`) {
		t.Errorf("archives are named %q, which action/install.sh must ask for", name.String())
	}
	if !slices.Equal(a.Formats, []string{"tar.gz"}) || len(a.FormatOverrides) != 1 ||
		a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archive formats %v, overrides %+v; want tar.gz, and zip on windows (as install.sh expects)", a.Formats, a.FormatOverrides)
	}
	for _, file := range a.Files {
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Errorf("archives.files: %v", err)
		}
	}
	if c.Checksum.NameTemplate != "checksums.txt" || c.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v; install.sh checks checksums.txt with SHA-256", c.Checksum)
	}
	if !strings.Contains(string(install), "/checksums.txt") {
		t.Error("install.sh does not check checksums.txt")
	}
	if len(c.SBOMs) != 1 || c.SBOMs[0].Artifacts != "archive" {
		t.Errorf("sboms %+v, want one per archive", c.SBOMs)
	}
}
