package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"gopkg.in/yaml.v3"
)

// The CI examples are checked for structure here, so `make test` holds them even where
// actionlint (make lint, scripts/actionlint.sh) is not at hand: known keys only, the action
// used with the inputs and outputs action.yml declares, and every fiosync command line in
// them accepted by fiosync's own command parser.

// decodeStrict decodes YAML into v, refusing keys v does not have.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkFiosyncLine parses a shell line that runs fiosync with fiosync's command tree, up to the
// first shell operator; lines that do not start with fiosync are ignored.
func checkFiosyncLine(t *testing.T, where, line string) bool {
	t.Helper()
	words := strings.Fields(line)
	if len(words) == 0 || words[0] != "fiosync" {
		return false
	}
	var args []string
	for _, w := range words[1:] {
		if strings.ContainsAny(w[:1], "><|;&") {
			break
		}
		args = append(args, w)
	}
	var root cli
	root.getenv = func(string) string { return "" }
	parser, err := kong.New(&root, kong.Name("fiosync"), kong.Vars{"version": "test"}, kong.Bind(&root.Globals),
		kong.Exit(func(int) { t.Fatalf("%s: fiosync %v exits while parsing", where, args) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(args); err != nil {
		t.Errorf("%s: fiosync %s: %v", where, strings.Join(args, " "), err)
	}
	return true
}

// TestActionDefinition: action.yml is a composite action whose inputs are all used, whose
// outputs are the ones its script writes, and whose scripts exist and are executable.
func TestActionDefinition(t *testing.T) {
	root := repoRoot(t)
	var a struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Author      string `yaml:"author"`
		Branding    struct {
			Icon  string `yaml:"icon"`
			Color string `yaml:"color"`
		} `yaml:"branding"`
		Inputs map[string]struct {
			Description string `yaml:"description"`
			Required    bool   `yaml:"required"`
			Default     string `yaml:"default"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Description string `yaml:"description"`
			Value       string `yaml:"value"`
		} `yaml:"outputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID    string            `yaml:"id"`
				Name  string            `yaml:"name"`
				If    string            `yaml:"if"`
				Uses  string            `yaml:"uses"`
				With  map[string]string `yaml:"with"`
				Shell string            `yaml:"shell"`
				Run   string            `yaml:"run"`
				Env   map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	decodeStrict(t, filepath.Join(root, "action.yml"), &a)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Errorf("action.yml: name %q, description %q, runs.using %q; want a described composite action", a.Name, a.Description, a.Runs.Using)
	}
	var steps strings.Builder
	for _, s := range a.Runs.Steps {
		if (s.Uses == "") == (s.Run == "") {
			t.Errorf("step %q: needs exactly one of uses and run", s.Name)
		}
		if s.Run != "" && s.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash", s.Name, s.Shell)
		}
		if m := regexp.MustCompile(`\$GITHUB_ACTION_PATH/([^"]+)`).FindStringSubmatch(s.Run); m != nil {
			if fi, err := os.Stat(filepath.Join(root, m[1])); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("step %q runs %s, which is missing or not executable (%v)", s.Name, m[1], err)
			}
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q splices an expression into its script; pass it through env", s.Name)
		}
		yaml.NewEncoder(&steps).Encode(s)
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %q has no description", name)
		}
		if !strings.Contains(steps.String(), "inputs."+name) {
			t.Errorf("input %q is used by no step", name)
		}
	}
	script, err := os.ReadFile(filepath.Join(root, "action", "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range a.Outputs {
		if want := "${{ steps.run.outputs." + name + " }}"; out.Value != want {
			t.Errorf("output %q = %q, want %q", name, out.Value, want)
		}
		if !strings.Contains(string(script), `echo "`+name+`=`) {
			t.Errorf("output %q is never written by action/run.sh", name)
		}
	}
	if len(a.Outputs) != 2 {
		t.Errorf("outputs %v, want has_changes and plan_path", a.Outputs)
	}
}

// TestGitHubWorkflowExample: the example workflow has the shape of a workflow, uses the action
// with inputs and outputs it declares, and runs only valid fiosync commands.
func TestGitHubWorkflowExample(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "github-actions", "*.yml"))
	if len(paths) == 0 {
		t.Fatal("no workflow in examples/github-actions")
	}
	action := readAction(t)
	for _, p := range paths {
		var wf struct {
			Name        string            `yaml:"name"`
			On          yaml.Node         `yaml:"on"`
			Permissions map[string]string `yaml:"permissions"`
			Env         map[string]string `yaml:"env"`
			Jobs        map[string]struct {
				If          string            `yaml:"if"`
				RunsOn      string            `yaml:"runs-on"`
				Permissions map[string]string `yaml:"permissions"`
				Concurrency string            `yaml:"concurrency"`
				Env         map[string]string `yaml:"env"`
				Steps       []struct {
					ID   string            `yaml:"id"`
					Name string            `yaml:"name"`
					If   string            `yaml:"if"`
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
					Run  string            `yaml:"run"`
					Env  map[string]string `yaml:"env"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		decodeStrict(t, p, &wf)
		if wf.On.Kind == 0 || len(wf.Jobs) == 0 {
			t.Errorf("%s: no on or no jobs", p)
		}
		uses := 0
		for name, job := range wf.Jobs {
			if job.RunsOn == "" || len(job.Steps) == 0 {
				t.Errorf("%s: job %s has no runs-on or no steps", p, name)
			}
			actionSteps := map[string]bool{}
			for _, s := range job.Steps {
				if (s.Uses == "") == (s.Run == "") {
					t.Errorf("%s: job %s: a step needs exactly one of uses and run", p, name)
				}
				for _, line := range strings.Split(s.Run, "\n") {
					checkFiosyncLine(t, p, strings.TrimSpace(line))
				}
				if !strings.HasPrefix(s.Uses, "fiosync/fiosync@") {
					continue
				}
				uses++
				if s.ID != "" {
					actionSteps[s.ID] = true
				}
				for k := range s.With {
					if _, ok := action.Inputs[k]; !ok {
						t.Errorf("%s: job %s passes input %q, which action.yml does not declare", p, name, k)
					}
				}
				if c := s.With["command"]; c != "" && c != "plan" && c != "apply" {
					t.Errorf("%s: job %s: command %q", p, name, c)
				}
			}
			for _, s := range job.Steps {
				for _, m := range regexp.MustCompile(`steps\.([\w-]+)\.outputs\.([\w-]+)`).FindAllStringSubmatch(s.If+s.Run+s.With["path"], -1) {
					if _, ok := action.Outputs[m[2]]; actionSteps[m[1]] && !ok {
						t.Errorf("%s: job %s reads output %q, which action.yml does not declare", p, name, m[2])
					}
				}
			}
		}
		if uses == 0 {
			t.Errorf("%s uses no fiosync/fiosync action", p)
		}
	}
}

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are no job.
var gitlabKeywords = []string{"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script", "after_script"}

// gitlabJobKeys are the job keywords the example may use.
var gitlabJobKeys = []string{"stage", "image", "rules", "script", "before_script", "after_script", "artifacts", "resource_group",
	"variables", "needs", "dependencies", "environment", "when", "allow_failure", "cache", "tags", "timeout", "retry", "interruptible", "extends"}

// TestGitLabPipelineExample: the example pipeline has only known keywords, every job has a
// script of strings, every stage it uses is declared, and every fiosync command in it parses.
func TestGitLabPipelineExample(t *testing.T) {
	p := filepath.Join(repoRoot(t), "examples", "gitlab", ".gitlab-ci.yml")
	var doc map[string]yaml.Node
	decodeStrict(t, p, &doc)
	var stages []string
	if n, ok := doc["stages"]; ok {
		if err := n.Decode(&stages); err != nil {
			t.Fatalf("stages: %v", err)
		}
	}
	lines := 0
	checkScript := func(where string, n yaml.Node) {
		var script []string
		if err := n.Decode(&script); err != nil {
			t.Errorf("%s: must be a list of strings: %v", where, err)
		}
		for _, l := range script {
			if checkFiosyncLine(t, p+": "+where, l) {
				lines++
			}
		}
	}
	if d, ok := doc["default"]; ok {
		var def map[string]yaml.Node
		if err := d.Decode(&def); err != nil {
			t.Fatalf("default: %v", err)
		}
		for k, n := range def {
			if !slices.Contains(gitlabJobKeys, k) {
				t.Errorf("default.%s: not a keyword default takes", k)
			}
			if k == "before_script" || k == "after_script" {
				checkScript("default."+k, n)
			}
		}
	}
	jobs := 0
	for name, n := range doc {
		if slices.Contains(gitlabKeywords, name) || strings.HasPrefix(name, ".") {
			continue
		}
		jobs++
		var job map[string]yaml.Node
		if err := n.Decode(&job); err != nil {
			t.Errorf("job %s: %v", name, err)
			continue
		}
		for k := range job {
			if !slices.Contains(gitlabJobKeys, k) {
				t.Errorf("job %s: unknown keyword %q", name, k)
			}
		}
		s, ok := job["script"]
		if !ok {
			t.Errorf("job %s has no script", name)
		} else {
			checkScript(name+".script", s)
		}
		if st, ok := job["stage"]; ok && !slices.Contains(stages, st.Value) {
			t.Errorf("job %s: stage %q is not in stages %v", name, st.Value, stages)
		}
		if r, ok := job["rules"]; ok {
			var rules []map[string]any
			if err := r.Decode(&rules); err != nil {
				t.Errorf("job %s: rules: %v", name, err)
			}
			for _, rule := range rules {
				for k := range rule {
					if !slices.Contains([]string{"if", "when", "changes", "exists", "allow_failure", "variables", "needs"}, k) {
						t.Errorf("job %s: rule key %q", name, k)
					}
				}
			}
		}
	}
	if jobs < 2 || lines < 3 {
		t.Errorf("%d jobs and %d fiosync lines; want a plan and an apply job", jobs, lines)
	}
}
