package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The schema is tested against the parser in both directions, so the two cannot drift:
// every manifest the tests and examples hold that Parse accepts, the schema accepts; every
// malformed manifest of the parser's tests is rejected by the schema, unless it is listed
// below as one that only YAML itself (the editor's YAML layer, before any schema) or only the
// parser can reject. Both lists are checked exactly, so a case moving from one side to the
// other shows up here.

// yamlRejects are the malformed cases that are not valid YAML (or not one JSON-like value):
// an editor reports them before it looks at the schema.
var yamlRejects = []string{
	"syntax error in second document",
	"tab in indentation",
	"tab after spaces",
	"unclosed flow list",
	"error without a line from yaml.v3",
	"unknown anchor",
	"alias cycle",
	"merge key cycle",
	"duplicate key",
	"non-string key",
	"alias bomb", // yaml.v3 refuses excessive aliasing, as editors do
	"error on the first line",
	"unterminated quote reported where it opens",
	"bad indentation",
	"missing colon",
	"unknown escape",
	"fuzz/invalid_utf8",
	"fuzz/merge_cycle",
	"fuzz/alias_cycle",
	"fuzz/tab_indent",
	"fuzz/unknown_anchor",
}

// parserOnly are the malformed cases that a schema cannot reject: they need the environment,
// glob syntax, or path arithmetic beyond a pattern.
var parserOnly = []string{
	"unset variable",                  // ${VAR} is checked when it is expanded
	"two unset variables",             // likewise
	"variable set but empty",          // likewise
	"unset variable in an upload",     // likewise
	"local parent hidden in the path", // a/../../secret: leaves the directory only after cleaning
	"local bad glob",                  // unbalanced brackets: doublestar's grammar
	"exclude bad pattern",             // likewise
	"stable_for zero",                 // a duration's value: beyond a pattern's arithmetic
	"stable_for too long",             // likewise
}

// compileSchema compiles Schema() as draft 2020-12.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// yamlDocs decodes every document of src the way an editor's YAML layer does (aliases and
// merge keys resolved, duplicate keys refused) into JSON values. An empty file is one null.
func yamlDocs(src []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, jsonValue(v))
	}
	if len(docs) == 0 {
		docs = []any{nil}
	}
	return docs, nil
}

// jsonValue turns a decoded YAML value into the JSON value the schema sees: a key that is
// not a string becomes its text, as no JSON object key can be anything else.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonValue(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = jsonValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x)
		}
		return out
	}
	return v
}

// verdict is what an editor with the schema says of src: "yaml" (not YAML), "schema" (the
// schema rejects a document) or "" (accepted), with the reason.
func verdict(sch *jsonschema.Schema, src []byte) (string, error) {
	docs, err := yamlDocs(src)
	if err != nil {
		return "yaml", err
	}
	for _, d := range docs {
		if err := sch.Validate(d); err != nil {
			return "schema", err
		}
	}
	return "", nil
}

// manifestCase is one manifest from the tests or examples.
type manifestCase struct {
	name string
	src  []byte
	env  map[string]string
}

// fuzzCorpus reads the seed corpus of FuzzLoad.
func fuzzCorpus(t *testing.T) []manifestCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLoad", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fuzz corpus: %v", err)
	}
	var out []manifestCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
		lit, ok := strings.CutPrefix(lines[len(lines)-1], "[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		src, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s: not a []byte corpus entry: %v", p, err)
		}
		out = append(out, manifestCase{name: "fuzz/" + filepath.Base(p), src: []byte(src),
			env: map[string]string{"FRAMEIO_ACCOUNT_ID": "acc", "EMPTY": "", "DAY": "day01"}})
	}
	return out
}

// parses reports whether Parse accepts c.
func (c manifestCase) parses() bool {
	_, err := Parse("fiosync.yaml", c.src, env(c.env))
	return err == nil
}

// TestSchemaMatchesParser: the schema names exactly the keys and on_change values the parser
// knows, requires what it requires, and is the draft 2020-12 document SchemaURL names.
func TestSchemaMatchesParser(t *testing.T) {
	compileSchema(t)
	var s struct {
		Schema     string                     `json:"$schema"`
		ID         string                     `json:"$id"`
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Required   []string `json:"required"`
			Properties map[string]struct {
				Description string `json:"description"`
				Enum        []string
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.ID != SchemaURL {
		t.Errorf("$schema %q, $id %q; want draft 2020-12 and %q", s.Schema, s.ID, SchemaURL)
	}
	sorted := func(l []string) []string { l = slices.Clone(l); sort.Strings(l); return l }
	keys := func(m map[string]json.RawMessage) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return sorted(out)
	}
	if diff := cmp.Diff(sorted(topKeys), keys(s.Properties)); diff != "" {
		t.Errorf("top-level keys (-parser +schema):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"target", "uploads", "version"}, sorted(s.Required)); diff != "" {
		t.Errorf("required top-level keys (-parser +schema):\n%s", diff)
	}
	for def, want := range map[string][]string{"target": targetKeys, "upload": uploadKeys} {
		var got []string
		for k, p := range s.Defs[def].Properties {
			got = append(got, k)
			if p.Description == "" {
				t.Errorf("%s.%s has no description", def, k)
			}
		}
		if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
			t.Errorf("keys of %s (-parser +schema):\n%s", def, diff)
		}
	}
	if diff := cmp.Diff([]string{"project"}, s.Defs["target"].Required); diff != "" {
		t.Errorf("target's required keys (-parser +schema):\n%s", diff)
	}
	if diff := cmp.Diff(onChanges, s.Defs["upload"].Properties["on_change"].Enum); diff != "" {
		t.Errorf("on_change values (-parser +schema):\n%s", diff)
	}
}

// TestSchemaAccepts: every manifest of the examples, the starter, the parser's tests and the
// CLI's scripts that Parse accepts, the schema accepts.
func TestSchemaAccepts(t *testing.T) {
	sch := compileSchema(t)
	cases := []manifestCase{
		{name: "starter", src: Starter()},
		{name: "every feature", src: []byte(everyFeature), env: map[string]string{"ACCOUNT": "acc-1"}},
		// Values the patterns must let through: scalars that are not strings, variables where a
		// pattern wants a "/" or a scheme, dollars that are no variable, escapes in a query.
		{name: "edge values", src: []byte("version: 0x1\ntarget:\n  workspace: 2026\n  project: true\nuploads:\n" +
			"  - local: 1001\n    to: ${DEST}\n    exclude: [1001, \"$${x}\", \"a$b\", \"$$$\"]\n" +
			"  - local: ./a$/b$$c\n    to: /a$/.b/\n" +
			"  - remote: HTTPS://cdn.example.com/a/reel.mp4?sig=%zz#frag\n    to: /Reels/\n" +
			"  - remote: ${URL}\n    to: /R\n" +
			"  - remote: https://cdn.example.com/get/?id=7\n    to: /R\n    name: 2026\n" +
			"  - local: ../b\n    allow_outside: true\n    to: /\n"),
			env: map[string]string{"DEST": "/Day", "URL": "https://x.test/y.mp4"}},
	}
	for _, c := range cases {
		if !c.parses() {
			t.Fatalf("%s: Parse refuses it", c.name)
		}
	}
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.yaml"))
	scripts, _ := filepath.Glob(filepath.Join("..", "cmd", "fiosync", "testdata", "script", "*.txtar"))
	if len(examples) < 3 || len(scripts) == 0 {
		t.Fatalf("found %d examples and %d scripts", len(examples), len(scripts))
	}
	for _, p := range examples {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, manifestCase{name: filepath.ToSlash(p), src: data})
	}
	// The scripts' manifests read variables the scripts set; any value will do for the schema.
	anyVar := map[string]string{}
	for _, p := range scripts {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if strings.HasSuffix(f.Name, ".yaml") {
				for _, v := range []string{"FRAMEIO_ACCOUNT_ID", "FILESERVER", "DAY", "SHOOT", "PROJECT"} {
					anyVar[v] = "x"
				}
				cases = append(cases, manifestCase{name: filepath.Base(p) + ":" + f.Name, src: f.Data, env: anyVar})
			}
		}
	}
	cases = append(cases, fuzzCorpus(t)...)

	accepted := 0
	for _, c := range cases {
		if !c.parses() {
			continue // a malformed case: TestSchemaRejects
		}
		accepted++
		if kind, err := verdict(sch, c.src); kind != "" {
			t.Errorf("%s: Parse accepts it but the %s check refuses it: %v\n%s", c.name, kind, err, c.src)
		}
	}
	if accepted < 20 {
		t.Errorf("only %d manifests accepted by Parse; did the corpus move?", accepted)
	}
}

// TestSchemaRejects: every malformed manifest of the parser's tests is refused by the schema,
// except those listed in yamlRejects (not YAML at all) and parserOnly (beyond a schema).
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	var cases []manifestCase
	for _, list := range [][]parseError{parseErrors, syntaxErrors} {
		for _, c := range list {
			cases = append(cases, manifestCase{name: c.name, src: []byte(c.src), env: c.env})
		}
	}
	multi, err := os.ReadFile(filepath.Join("testdata", "multi_error.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, manifestCase{name: "multi_error.yaml", src: multi})
	cases = append(cases, fuzzCorpus(t)...)

	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		if c.parses() {
			continue // TestSchemaAccepts
		}
		kind, err := verdict(sch, c.src)
		want := "schema"
		switch {
		case slices.Contains(yamlRejects, c.name):
			want = "yaml"
		case slices.Contains(parserOnly, c.name):
			want = ""
		}
		if kind != want {
			t.Errorf("%s: rejected by %q, want %q (move it between yamlRejects and parserOnly only if that is right): %v\n%s",
				c.name, kind, want, err, c.src)
		}
	}
	for _, name := range slices.Concat(yamlRejects, parserOnly) {
		if !seen[name] {
			t.Errorf("%q is listed but no longer a case", name)
		}
	}
}

// TestStarterNamesSchema: the manifest `fiosync init` writes opens with the comment that
// makes VS Code (and other editors on the YAML language server) complete and check it.
func TestStarterNamesSchema(t *testing.T) {
	first, _, _ := strings.Cut(string(Starter()), "\n")
	if want := "# yaml-language-server: $schema=" + SchemaURL; first != want {
		t.Errorf("starter's first line = %q, want %q", first, want)
	}
}
