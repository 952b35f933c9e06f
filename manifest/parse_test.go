package manifest

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fiosync/fiosync/source"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// env is a lookupEnv over a fixed map, so tests never depend on the
// process environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// head is a valid start for manifests whose uploads are under test.
const head = "version: 1\ntarget:\n  project: Dailies\nuploads:\n"

// problems parses src and returns its errors, one string per problem.
func problems(t *testing.T, src string, vars map[string]string) []string {
	t.Helper()
	_, err := Parse("fiosync.yaml", []byte(src), env(vars))
	if err == nil {
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error is %T, want ErrorList: %v", err, err)
	}
	return strings.Split(list.Error(), "\n")
}

// parseError is a malformed manifest and the problems Parse reports for it.
type parseError struct {
	name string
	src  string
	env  map[string]string
	want []string
}

// parseErrors are the malformed manifests of TestParseErrors; TestSchemaRejects holds the
// schema to them too.
var parseErrors = []parseError{
	// The document as a whole.
	{"empty file", "", nil, []string{
		`fiosync.yaml:1:1: the manifest is empty; it needs version, target and uploads ("fiosync init" writes a starter)`}},
	{"only comments", "# nothing yet\n", nil, []string{
		`fiosync.yaml:1:1: the manifest is empty; it needs version, target and uploads ("fiosync init" writes a starter)`}},
	{"only a document marker", "---\n", nil, []string{
		`fiosync.yaml:1:1: the manifest is empty; it needs version, target and uploads ("fiosync init" writes a starter)`}},
	{"top level is a list", "- local: a\n", nil, []string{
		`fiosync.yaml:1:1: the top level must be a mapping with version, target and uploads, not a list`}},
	{"top level is a string", "hello\n", nil, []string{
		`fiosync.yaml:1:1: the top level must be a mapping with version, target and uploads, not a string`}},
	{"second document", head + "  []\n---\nversion: 1\n", nil, []string{
		`fiosync.yaml:6:1: a manifest is one YAML document; remove the "---" and what follows it`}},
	{"syntax error in second document", head + "  []\n---\nversion: [\n", nil, []string{
		`fiosync.yaml:7:1: invalid YAML: did not find expected node content`}},
	{"tab in indentation", "version: 1\ntarget:\n\tproject: x\n", nil, []string{
		`fiosync.yaml:3:1: tabs are not allowed in indentation; indent with spaces`}},
	{"tab after spaces", "version: 1\ntarget:\n  project: x\n  \tworkspace: y\n", nil, []string{
		`fiosync.yaml:4:3: tabs are not allowed in indentation; indent with spaces`}},
	{"unclosed flow list", "version: 1\nuploads: [1, 2\n", nil, []string{
		`fiosync.yaml:2:1: invalid YAML: did not find expected ',' or ']'`}},
	{"error without a line from yaml.v3", "version: 1\ntarget:\n  project: a: b\n", nil, []string{
		`fiosync.yaml:3:1: invalid YAML: mapping values are not allowed in this context`}},
	{"unknown anchor", "version: 1\ntarget:\n  project: *proj\n", nil, []string{
		`fiosync.yaml:3:12: alias "*proj" refers to no anchor; define "&proj" before using it`}},
	{"alias cycle", "version: 1\ntarget: &t\n  project: *t\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:12: target.project: must be a string, not a mapping`}},
	{"merge key cycle", "version: 1\ntarget: &t\n  <<: *t\n  project: x\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:7: target: merge keys nest too deeply, or merge a mapping into itself`}},
	{"alias bomb", "version: 1\ntarget: {project: x}\n" +
		"a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" +
		"a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n" +
		"a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n" +
		"a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n" +
		"uploads: *a3\n", nil, []string{
		`fiosync.yaml:3:1: a0: unknown key; expected one of "version", "target", "prune", "exclude", "exclude_defaults", "uploads"`,
		`fiosync.yaml:4:1: a1: unknown key; expected one of "version", "target", "prune", "exclude", "exclude_defaults", "uploads"`,
		`fiosync.yaml:5:1: a2: unknown key; expected one of "version", "target", "prune", "exclude", "exclude_defaults", "uploads"`,
		`fiosync.yaml:6:1: a3: unknown key; expected one of "version", "target", "prune", "exclude", "exclude_defaults", "uploads"`,
		`fiosync.yaml:6:10: uploads[0]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:15: uploads[1]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:20: uploads[2]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:25: uploads[3]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:30: uploads[4]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:35: uploads[5]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:40: uploads[6]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:45: uploads[7]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:50: uploads[8]: must be a mapping with local or remote, and to; not a list`,
		`fiosync.yaml:6:55: uploads[9]: must be a mapping with local or remote, and to; not a list`}},

	// Top-level keys.
	{"missing everything", "prune: true\n", nil, []string{
		`fiosync.yaml:1:1: version: missing; add "version: 1" at the top of the file`,
		`fiosync.yaml:1:1: target: missing; add a target with at least "project: NAME"`,
		`fiosync.yaml:1:1: uploads: missing; add a list of entries such as "- local: media" with "to: /" (or "uploads: []" for none)`}},
	{"version 2", "version: 2\ntarget: {project: x}\nuploads: []\n", nil, []string{
		`fiosync.yaml:1:10: version: unsupported version 2; this fiosync reads version 1`}},
	{"version as a string", "version: \"1\"\ntarget: {project: x}\nuploads: []\n", nil, []string{
		`fiosync.yaml:1:10: version: must be the number 1, not a string`}},
	{"unknown top key near miss", "version: 1\ntarget: {project: x}\nupload: []\n", nil, []string{
		`fiosync.yaml:1:1: uploads: missing; add a list of entries such as "- local: media" with "to: /" (or "uploads: []" for none)`,
		`fiosync.yaml:3:1: upload: unknown key; did you mean "uploads"?`}},
	{"duplicate key", "version: 1\nversion: 1\ntarget: {project: x}\nuploads: []\n", nil, []string{
		`fiosync.yaml:2:1: version: duplicate key; first set at line 1`}},
	{"non-string key", "version: 1\ntarget: {project: x}\nuploads: []\n[a]: b\n", nil, []string{
		`fiosync.yaml:4:1: keys must be strings, not a list`}},
	{"prune not a bool", "version: 1\ntarget: {project: x}\nprune: yes\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:8: prune: must be true or false, not a string`}},
	{"uploads is a mapping", "version: 1\ntarget: {project: x}\nuploads:\n  local: a\n", nil, []string{
		`fiosync.yaml:4:3: uploads: must be a list of entries, each starting with "- "; not a mapping (write "uploads: []" for none)`}},
	{"uploads is empty", "version: 1\ntarget: {project: x}\nuploads:\n", nil, []string{
		`fiosync.yaml:3:9: uploads: must be a list of entries, each starting with "- "; not empty (write "uploads: []" for none)`}},

	// target.
	{"target missing project", "version: 1\ntarget:\n  workspace: Post\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:3: target.project: missing; name or id of the Frame.io project to upload into`}},
	{"target is a string", "version: 1\ntarget: Dailies\nuploads: []\n", nil, []string{
		`fiosync.yaml:2:9: target: must be a mapping with account, workspace and project, not a string`}},
	{"project is a list", "version: 1\ntarget:\n  project: [a, b]\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:12: target.project: must be a string, not a list`}},
	{"project is empty", "version: 1\ntarget:\n  project:\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:11: target.project: must not be empty`}},
	{"unknown target key", "version: 1\ntarget:\n  project: x\n  acount: 1\nuploads: []\n", nil, []string{
		`fiosync.yaml:4:3: target.acount: unknown key; did you mean "account"?`}},

	// ${VAR}.
	{"unset variable", "version: 1\ntarget:\n  account: ${FRAMEIO_ACCOUNT_ID}\n  project: x\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:12: target.account: environment variable "FRAMEIO_ACCOUNT_ID" is not set`}},
	{"two unset variables", "version: 1\ntarget:\n  project: ${A}-${B}\nuploads: []\n", map[string]string{}, []string{
		`fiosync.yaml:3:12: target.project: environment variable "A" is not set`,
		`fiosync.yaml:3:12: target.project: environment variable "B" is not set`}},
	{"unterminated variable", "version: 1\ntarget:\n  project: ${A\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:12: target.project: unterminated "${"; write "$${" for a literal "${"`}},
	{"invalid variable name", "version: 1\ntarget:\n  project: ${1A}\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:12: target.project: invalid variable name "1A" in "${...}"; names are letters, digits and "_"`}},
	{"variable set but empty", "version: 1\ntarget:\n  project: ${P}\nuploads: []\n", map[string]string{"P": ""}, []string{
		`fiosync.yaml:3:12: target.project: is empty after expanding "${P}"`}},
	{"unset variable in an upload", head + "  - local: ${SHOOT}/day01\n    to: /${DAY}\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: environment variable "SHOOT" is not set`,
		`fiosync.yaml:6:9: uploads[0].to: environment variable "DAY" is not set`}},

	// Upload entries.
	{"entry is a string", head + "  - shoot/day01\n", nil, []string{
		`fiosync.yaml:5:5: uploads[0]: must be a mapping with local or remote, and to; not a string`}},
	{"entry without source", head + "  - to: /a\n", nil, []string{
		`fiosync.yaml:5:5: uploads[0]: needs a source: local (a file, directory or glob) or remote (an http or https URL)`}},
	{"entry with both sources", head + "  - local: a\n    remote: https://x.test/a\n    to: /a\n", nil, []string{
		`fiosync.yaml:6:5: uploads[0]: set local or remote, not both`}},
	{"entry without to", head + "  - local: a\n", nil, []string{
		`fiosync.yaml:5:5: uploads[0].to: missing; the destination folder, such as "/Dailies/Day 01" ("/" is the project root)`}},
	{"unknown key near miss", head + "  - local: a\n    to: /a\n    exlude: [x]\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].exlude: unknown key; did you mean "exclude"?`}},
	{"unknown key synonym", head + "  - local: a\n    dest: /a\n", nil, []string{
		`fiosync.yaml:5:5: uploads[0].to: missing; the destination folder, such as "/Dailies/Day 01" ("/" is the project root)`,
		`fiosync.yaml:6:5: uploads[0].dest: unknown key; did you mean "to"?`}},
	{"unknown key far off", head + "  - local: a\n    to: /a\n    colour: red\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].colour: unknown key; expected one of "local", "remote", "to", "name", "exclude", "on_change", "allow_outside", "stat_cache", "stable_for", "priority", "mhl"`}},
	{"local is a list", head + "  - local: [a, b]\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: must be a string, not a list`}},

	// to.
	{"to relative", head + "  - local: a\n    to: Dailies\n", nil, []string{
		`fiosync.yaml:6:9: uploads[0].to: must be an absolute folder path such as "/Dailies/Day 01"`}},
	{"to with empty segment", head + "  - local: a\n    to: /a//b\n", nil, []string{
		`fiosync.yaml:6:9: uploads[0].to: must not contain empty segments ("//")`}},
	{"to with dot dot", head + "  - local: a\n    to: /a/../b\n", nil, []string{
		`fiosync.yaml:6:9: uploads[0].to: must not contain "." or ".." segments`}},
	{"to with dot", head + "  - local: a\n    to: /a/.\n", nil, []string{
		`fiosync.yaml:6:9: uploads[0].to: must not contain "." or ".." segments`}},
	{"to with control character", head + "  - local: a\n    to: \"/a\\tb\"\n", nil, []string{
		`fiosync.yaml:6:9: uploads[0].to: must not contain control characters`}},

	// local.
	{"local parent", head + "  - local: ../secret\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: leads outside the manifest's directory; set allow_outside: true to allow this`}},
	{"local parent hidden in the path", head + "  - local: a/../../secret\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: leads outside the manifest's directory; set allow_outside: true to allow this`}},
	{"local absolute", head + "  - local: /etc/passwd\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: is an absolute path; local paths are relative to the manifest's directory (set allow_outside: true to allow this)`}},
	{"local bad glob", head + "  - local: \"a/[b\"\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:12: uploads[0].local: invalid glob pattern (check the brackets and braces)`}},
	{"allow_outside not a bool", head + "  - local: a\n    to: /a\n    allow_outside: 1\n", nil, []string{
		`fiosync.yaml:7:20: uploads[0].allow_outside: must be true or false, not a number`}},
	{"name on a local entry", head + "  - local: a\n    to: /a\n    name: b\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].name: only applies to remote entries; local files keep their own names`}},

	// remote and name.
	{"remote ftp", head + "  - remote: ftp://x.test/a.mov\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: must be an http or https URL`}},
	{"remote without host", head + "  - remote: https:///a.mov\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: must be an http or https URL with a host`}},
	{"remote not a URL", head + "  - remote: \"https://x.test/%zz\"\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: must be an http or https URL`}},
	{"remote ending in slash", head + "  - remote: https://x.test/reels/?X-Amz-Signature=secret\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: the URL path does not end in a file name (it ends in "/" or an encoded "/"); set name`}},
	{"remote without path", head + "  - remote: https://x.test\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: the URL path does not end in a file name (it ends in "/" or an encoded "/"); set name`}},
	{"remote ending in encoded slash", head + "  - remote: https://x.test/a%2F\n    to: /a\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: the URL path does not end in a file name (it ends in "/" or an encoded "/"); set name`}},
	{"name with slash", head + "  - remote: https://x.test/a\n    to: /a\n    name: b/c.mp4\n", nil, []string{
		`fiosync.yaml:7:11: uploads[0].name: must not contain "/"; put folders in "to"`}},
	{"name dot dot", head + "  - remote: https://x.test/a\n    to: /a\n    name: ..\n", nil, []string{
		`fiosync.yaml:7:11: uploads[0].name: must be a file name, not ".."`}},
	{"exclude on a remote entry", head + "  - remote: https://x.test/a\n    to: /a\n    exclude: [x]\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].exclude: only applies to local entries`}},
	{"allow_outside on a remote entry", head + "  - remote: https://x.test/a\n    to: /a\n    allow_outside: true\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].allow_outside: only applies to local entries`}},

	// on_change.
	{"on_change typo", head + "  - local: a\n    to: /a\n    on_change: versoin\n", nil, []string{
		`fiosync.yaml:7:16: uploads[0].on_change: must be "version", "replace", "keep" or "error"; did you mean "version"?`}},
	{"on_change unknown", head + "  - local: a\n    to: /a\n    on_change: overwrite\n", nil, []string{
		`fiosync.yaml:7:16: uploads[0].on_change: must be "version", "replace", "keep" or "error"`}},
	{"on_change list", head + "  - local: a\n    to: /a\n    on_change: [keep]\n", nil, []string{
		`fiosync.yaml:7:16: uploads[0].on_change: must be "version", "replace", "keep" or "error"`}},

	// stable_for and priority.
	{"stable_for without a unit", head + "  - local: a\n    to: /a\n    stable_for: 60\n", nil, []string{
		`fiosync.yaml:7:17: uploads[0].stable_for: must be a duration with its unit, such as "60s", "5m" or "1h30m"`}},
	{"stable_for not a duration", head + "  - local: a\n    to: /a\n    stable_for: soon\n", nil, []string{
		`fiosync.yaml:7:17: uploads[0].stable_for: must be a duration with its unit, such as "60s", "5m" or "1h30m"`}},
	{"stable_for zero", head + "  - local: a\n    to: /a\n    stable_for: 0s\n", nil, []string{
		`fiosync.yaml:7:17: uploads[0].stable_for: must be longer than 0s; leave it out to upload files however recently they changed`}},
	{"stable_for too long", head + "  - local: a\n    to: /a\n    stable_for: 600h\n", nil, []string{
		`fiosync.yaml:7:17: uploads[0].stable_for: is longer than 168h0m0s; is a unit wrong?`}},
	{"stable_for on a remote entry", head + "  - remote: https://x.test/a\n    to: /a\n    stable_for: 1m\n", nil, []string{
		`fiosync.yaml:7:5: uploads[0].stable_for: only applies to local entries`}},
	{"priority not a number", head + "  - local: a\n    to: /a\n    priority: high\n", nil, []string{
		`fiosync.yaml:7:15: uploads[0].priority: must be a whole number (higher uploads first; the default is 0), not a string`}},

	// exclude.
	{"exclude a string", head + "  - local: a\n    to: /a\n    exclude: \"*.tmp\"\n", nil, []string{
		`fiosync.yaml:7:14: uploads[0].exclude: must be a list of patterns such as ["**/.DS_Store"], not a string`}},
	{"exclude bad pattern", head + "  - local: a\n    to: /a\n    exclude: [\"ok\", \"{a,b\"]\n", nil, []string{
		`fiosync.yaml:7:21: uploads[0].exclude[1]: invalid pattern (check the brackets and braces)`}},
	{"exclude absolute", head + "  - local: a\n    to: /a\n    exclude:\n      - /tmp\n", nil, []string{
		`fiosync.yaml:8:9: uploads[0].exclude[0]: patterns are relative to the entry's directory or glob base; remove the leading "/"`}},
	{"exclude item a mapping", head + "  - local: a\n    to: /a\n    exclude:\n      - {a: b}\n", nil, []string{
		`fiosync.yaml:8:9: uploads[0].exclude[0]: must be a string, not a mapping`}},

	// Several problems at once come back sorted by position.
	{"sorted by position", head +
		"  - remote: https://x.test/\n    to: a\n" +
		"  - local: b\n    to: /b\n    on_change: later\n", nil, []string{
		`fiosync.yaml:5:13: uploads[0].remote: the URL path does not end in a file name (it ends in "/" or an encoded "/"); set name`,
		`fiosync.yaml:6:9: uploads[0].to: must be an absolute folder path such as "/Dailies/Day 01"`,
		`fiosync.yaml:9:16: uploads[1].on_change: must be "version", "replace", "keep" or "error"`}},
}

func TestParseErrors(t *testing.T) {
	tests := parseErrors
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src, tt.env)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// syntaxErrors are the malformed manifests of TestParseSyntaxErrorLines.
var syntaxErrors = []parseError{
	{"error on the first line", "version: 1: 2\n", nil, []string{
		`fiosync.yaml:1:1: invalid YAML: mapping values are not allowed in this context`}},
	{"unterminated quote reported where it opens", "version: 1\ntarget:\n  project: 'Dailies\nuploads: []\n", nil, []string{
		`fiosync.yaml:3:1: invalid YAML: found unexpected end of stream`}},
	{"bad indentation", "version: 1\ntarget:\n    project: a\n  workspace: b\n", nil, []string{
		`fiosync.yaml:4:1: invalid YAML: did not find expected key`}},
	{"missing colon", "version: 1\ntarget\nuploads: []\n", nil, []string{
		`fiosync.yaml:2:1: invalid YAML: could not find expected ':'`}},
	{"unknown escape", "version: 1\ntarget:\n  project: \"a\\qb\"\n", nil, []string{
		`fiosync.yaml:3:1: invalid YAML: found unknown escape character`}},
}

func TestParseSyntaxErrorLines(t *testing.T) {
	tests := syntaxErrors
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, problems(t, tt.src, tt.env)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// everyFeature is a valid manifest that uses every feature; its ${ACCOUNT} must be set.
const everyFeature = `# A manifest that uses every feature.
version: 1
target:
  account: ${ACCOUNT}
  workspace: Post
  project: Dailies
prune: true
uploads:
  - &cam
    local: shoot/day12
    to: /2026-11-26/A-Cam/
    exclude: ["**/.DS_Store", "$${literal}"]
  - local: "grades/*.mov"
    to: /
    on_change: keep
  - remote: https://cdn.example.com/reels/reel%20v3.mp4?X-Amz-Signature=abc
    to: /Reels
  - remote: https://cdn.example.com/get?id=7
    to: /Reels
    name: reel_v4.mp4
  - <<: *cam
    local: ../b-cam
    allow_outside: true
`

func TestParse(t *testing.T) {
	src := everyFeature
	m, err := Parse("dir/fiosync.yaml", []byte(src), env(map[string]string{"ACCOUNT": "acc-1"}))
	if err != nil {
		t.Fatal(err)
	}
	wantDir, _ := filepath.Abs("dir")
	want := &Manifest{
		Path:     "dir/fiosync.yaml",
		Dir:      wantDir,
		Version:  1,
		Prune:    true,
		PrunePos: Pos{7, 8},
		Target: Target{
			Account: "acc-1", Workspace: "Post", Project: "Dailies",
			AccountPos: Pos{4, 12}, WorkspacePos: Pos{5, 14}, ProjectPos: Pos{6, 12}, Pos: Pos{4, 3},
		},
		Uploads: []Upload{
			{
				Index: 0, Pos: Pos{9, 5}, Local: "shoot/day12", To: "/2026-11-26/A-Cam",
				Exclude: []string{"**/.DS_Store", "${literal}"}, OnChange: OnChangeVersion,
				LocalPos: Pos{10, 12}, ToPos: Pos{11, 9}, ExcludePos: []Pos{{12, 15}, {12, 31}},
			},
			{
				Index: 1, Pos: Pos{13, 5}, Local: "grades/*.mov", To: "/", OnChange: OnChangeKeep,
				LocalPos: Pos{13, 12}, ToPos: Pos{14, 9}, OnChangePos: Pos{15, 16},
			},
			{
				Index: 2, Pos: Pos{16, 5}, Remote: "https://cdn.example.com/reels/reel%20v3.mp4?X-Amz-Signature=abc",
				To: "/Reels", Name: "reel v3.mp4", OnChange: OnChangeVersion,
				RemotePos: Pos{16, 13}, ToPos: Pos{17, 9},
			},
			{
				Index: 3, Pos: Pos{18, 5}, Remote: "https://cdn.example.com/get?id=7",
				To: "/Reels", Name: "reel_v4.mp4", OnChange: OnChangeVersion,
				RemotePos: Pos{18, 13}, ToPos: Pos{19, 9}, NamePos: Pos{20, 11},
			},
			{
				Index: 4, Pos: Pos{21, 5}, Local: "../b-cam", To: "/2026-11-26/A-Cam", AllowOutside: true,
				Exclude: []string{"**/.DS_Store", "${literal}"}, OnChange: OnChangeVersion,
				LocalPos: Pos{22, 12}, ToPos: Pos{11, 9}, ExcludePos: []Pos{{12, 15}, {12, 31}},
			},
		},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseStatCache(t *testing.T) {
	m, err := Parse("fiosync.yaml", []byte("version: 1\ntarget:\n  project: P\nuploads:\n  - local: share\n    to: /A\n    stat_cache: size_mtime\n  - local: disk\n    to: /B\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Uploads[0].StatRule != source.SizeMtime || m.Uploads[1].StatRule != source.Full {
		t.Errorf("stat rules %v, %v; want size_mtime, then the default full", m.Uploads[0].StatRule, m.Uploads[1].StatRule)
	}
	_, err = Parse("fiosync.yaml", []byte("version: 1\ntarget:\n  project: P\nuploads:\n  - local: share\n    to: /A\n    stat_cache: mtime\n  - remote: https://x.example/a.mov\n    to: /B\n    stat_cache: full\n"), nil)
	want := "fiosync.yaml:7:17: uploads[0].stat_cache: must be \"full\" (size, mtime, inode and ctime) or \"size_mtime\" (for shares whose inode or ctime change by themselves)\n" +
		"fiosync.yaml:10:5: uploads[1].stat_cache: only applies to local entries"
	if err == nil || err.Error() != want {
		t.Errorf("Parse error:\n%v\nwant:\n%s", err, want)
	}
}

func TestParseMHL(t *testing.T) {
	m, err := Parse("fiosync.yaml", []byte("version: 1\ntarget:\n  project: P\nuploads:\n  - local: cards\n    to: /A\n    mhl: auto\n  - local: day/A001\n    to: /B\n    mhl: day\n  - local: x\n    to: /C\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Uploads[0].MHL != MHLAuto || m.Uploads[1].MHL != "day" || m.Uploads[2].MHL != "" {
		t.Errorf("mhl values %q, %q, %q", m.Uploads[0].MHL, m.Uploads[1].MHL, m.Uploads[2].MHL)
	}
	_, err = Parse("fiosync.yaml", []byte("version: 1\ntarget:\n  project: P\nuploads:\n  - local: a\n    to: /A\n    mhl: 'cards/*'\n  - remote: https://x.example/a.mov\n    to: /B\n    mhl: auto\n  - local: b\n    to: /C\n    mhl: ../elsewhere\n"), nil)
	want := "fiosync.yaml:7:10: uploads[0].mhl: must be \"auto\" (find the ascmhl history at or above the source, and below it) or the folder holding an ascmhl history; not a glob\n" +
		"fiosync.yaml:10:5: uploads[1].mhl: only applies to local entries\n" +
		"fiosync.yaml:13:10: uploads[2].mhl: leads outside the manifest's directory; set allow_outside: true to allow this"
	if err == nil || err.Error() != want {
		t.Errorf("Parse error:\n%v\nwant:\n%s", err, want)
	}
}
