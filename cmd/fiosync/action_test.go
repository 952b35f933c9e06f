package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/internal/emutest"
)

// The GitHub Action (action.yml at the repository root) is tested by running its steps' own
// scripts with bash, as a runner would, against the emulator and a fake GitHub REST API. The
// fake is an httptest server (GitHub is outside the product) that records every request.

const (
	ghRepo  = "acme/dailies"
	ghPR    = 7
	ghToken = "ghs_fakeGitHubToken7c1f0a"
)

// ghComment is an issue comment as GitHub's REST API shows it.
type ghComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

// ghRequest is one request the fake GitHub received.
type ghRequest struct {
	Method, Path, Query string
	Authorized          bool // Authorization: Bearer ghToken
}

// fakeGitHub serves the comments of one pull request and release downloads, recording
// every request.
type fakeGitHub struct {
	mu       sync.Mutex
	comments []ghComment
	nextID   int64
	requests []ghRequest
	files    map[string][]byte // release downloads by path
}

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	authorized := r.Header.Get("Authorization") == "Bearer "+ghToken
	g.requests = append(g.requests, ghRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Authorized: authorized})
	if data, ok := g.files[r.URL.Path]; ok && r.Method == http.MethodGet {
		w.Write(data)
		return
	}
	if !authorized {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	list := fmt.Sprintf("/repos/%s/issues/%d/comments", ghRepo, ghPR)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == list && r.Method == http.MethodGet:
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if per < 1 || per > 100 {
			per = 30
		}
		page = max(page, 1)
		lo, hi := min((page-1)*per, len(g.comments)), min(page*per, len(g.comments))
		json.NewEncoder(w).Encode(g.comments[lo:hi])
	case r.URL.Path == list && r.Method == http.MethodPost:
		var in struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			http.Error(w, `{"message":"Invalid request"}`, http.StatusUnprocessableEntity)
			return
		}
		g.nextID++
		c := ghComment{ID: g.nextID, Body: in.Body}
		c.User.Login = "github-actions[bot]"
		g.comments = append(g.comments, c)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(c)
	case strings.HasPrefix(r.URL.Path, "/repos/"+ghRepo+"/issues/comments/") && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/repos/"+ghRepo+"/issues/comments/"), 10, 64)
		var in struct{ Body string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			http.Error(w, `{"message":"Invalid request"}`, http.StatusUnprocessableEntity)
			return
		}
		for i := range g.comments {
			if g.comments[i].ID == id {
				g.comments[i].Body = in.Body
				json.NewEncoder(w).Encode(g.comments[i])
				return
			}
		}
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	default:
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

// take returns the requests recorded since the last call, and the comments now.
func (g *fakeGitHub) take() ([]ghRequest, []ghComment) {
	g.mu.Lock()
	defer g.mu.Unlock()
	reqs := g.requests
	g.requests = nil
	return reqs, append([]ghComment(nil), g.comments...)
}

// actionFile is the part of action.yml the tests read.
type actionFile struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Name  string            `yaml:"name"`
			If    string            `yaml:"if"`
			Uses  string            `yaml:"uses"`
			Shell string            `yaml:"shell"`
			Run   string            `yaml:"run"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// repoRoot is the repository's root, where action.yml lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readAction(t *testing.T) *actionFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval replaces the ${{ }} expressions of s the way the runner would for these inputs. Only
// inputs.NAME and github.token are known: action.yml needs no more, and its scripts read
// everything from the environment.
func (a *actionFile) eval(t *testing.T, s string, inputs map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		e := expression.FindStringSubmatch(m)[1]
		switch name, isInput := strings.CutPrefix(e, "inputs."); {
		case isInput:
			in, ok := a.Inputs[name]
			if !ok {
				t.Fatalf("action.yml uses undeclared input %q", name)
			}
			if v, ok := inputs[name]; ok {
				return v
			}
			return a.eval(t, in.Default, inputs)
		case e == "github.token":
			return ghToken
		}
		t.Fatalf("action.yml: the test knows no expression %q", e)
		return ""
	})
}

// stepRun is what one run of an action step left behind.
type stepRun struct {
	code           int
	stdout, stderr string
	summary        string
	outputs        map[string]string
	path           string // what the step appended to GITHUB_PATH
}

// runStep runs the script of action.yml's step with the given id in dir, as the runner runs
// a composite step with shell: bash, with env on top of a clean environment.
func runStep(t *testing.T, id, dir string, inputs map[string]string, env map[string]string) stepRun {
	t.Helper()
	a := readAction(t)
	var run, shell string
	var stepEnv map[string]string
	for _, s := range a.Runs.Steps {
		if s.ID == id || s.Name == id {
			run, shell, stepEnv = s.Run, s.Shell, s.Env
		}
	}
	if run == "" || shell != "bash" {
		t.Fatalf("action.yml has no bash step %q", id)
	}
	tmp := t.TempDir()
	files := map[string]string{}
	for _, f := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_PATH"} {
		files[f] = filepath.Join(tmp, f)
		if err := os.WriteFile(files[f], nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(tmp, "step.sh")
	if err := os.WriteFile(script, []byte(a.eval(t, run, inputs)), 0o644); err != nil {
		t.Fatal(err)
	}
	var environ []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FRAMEIO_") || strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "FIOSYNC_") ||
			strings.HasPrefix(k, "RUNNER_") || strings.HasPrefix(k, "INPUT_") {
			continue
		}
		environ = append(environ, kv)
	}
	runnerTemp := filepath.Join(tmp, "runner-temp")
	if err := os.Mkdir(runnerTemp, 0o755); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"GITHUB_ACTION_PATH":  repoRoot(t),
		"GITHUB_STEP_SUMMARY": files["GITHUB_STEP_SUMMARY"],
		"GITHUB_OUTPUT":       files["GITHUB_OUTPUT"],
		"GITHUB_PATH":         files["GITHUB_PATH"],
		"RUNNER_TEMP":         runnerTemp,
		"NO_COLOR":            "1",
		"GORACE":              strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0"),
	}
	for _, m := range []map[string]string{env} {
		for k, v := range m {
			base[k] = v
		}
	}
	for k, v := range stepEnv {
		base[k] = a.eval(t, v, inputs)
	}
	for k, v := range base {
		environ = append(environ, k+"="+v)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = dir
	cmd.Env = environ
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := stepRun{stdout: out.String(), stderr: errb.String(), outputs: map[string]string{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(files[name])
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	r.summary, r.path = read("GITHUB_STEP_SUMMARY"), read("GITHUB_PATH")
	for _, line := range strings.Split(read("GITHUB_OUTPUT"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.outputs[k] = v
		}
	}
	return r
}

// writeEvent writes a pull_request event whose head is headRepo.
func writeEvent(t *testing.T, headRepo string) string {
	t.Helper()
	ev := map[string]any{"pull_request": map[string]any{
		"number": ghPR,
		"head":   map[string]any{"repo": map[string]any{"full_name": headRepo}},
		"base":   map[string]any{"repo": map[string]any{"full_name": ghRepo}},
	}}
	data, _ := json.Marshal(ev)
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestActionPlanComment: the first plan creates the pull request's comment, the next plan
// finds it by its marker (past the first page of comments) and updates it, an apply leaves a
// plan without changes, and a plan error fails the step with the error in the summary and the
// comment. No token ever shows.
func TestActionPlanComment(t *testing.T) {
	opts := emulator.DefaultOptions()
	opts.RateLimitScale = 0
	emu := emutest.Start(t, opts)

	gh := &fakeGitHub{nextID: 1000}
	for i := range 100 { // someone else's discussion fills the first page
		c := ghComment{ID: int64(i + 1), Body: fmt.Sprintf("looks good %d", i)}
		c.User.Login = "producer"
		gh.comments = append(gh.comments, c)
	}
	ghSrv := httptest.NewServer(gh)
	t.Cleanup(ghSrv.Close)

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const manifest = "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /Day 01\n"
	write("fiosync.yaml", manifest)
	write("media/A001.mov", "clip one")

	env := map[string]string{
		"FRAMEIO_API_URL":   emu.URL,
		"FRAMEIO_TOKEN":     emu.Seed.Token,
		"GITHUB_API_URL":    ghSrv.URL,
		"GITHUB_REPOSITORY": ghRepo,
		"GITHUB_EVENT_NAME": "pull_request",
		"GITHUB_EVENT_PATH": writeEvent(t, ghRepo),
	}
	var seen []string // everything the runs printed or posted, checked for tokens at the end
	step := func(inputs map[string]string) stepRun {
		t.Helper()
		r := runStep(t, "run", dir, inputs, env)
		seen = append(seen, r.stdout, r.stderr, r.summary, fmt.Sprint(r.outputs))
		return r
	}
	marker := "<!-- fiosync:plan:fiosync.yaml -->"
	ours := func(comments []ghComment) []ghComment {
		var out []ghComment
		for _, c := range comments {
			if strings.HasPrefix(c.Body, marker) {
				out = append(out, c)
			}
		}
		return out
	}
	methods := func(reqs []ghRequest) string {
		var m []string
		for _, r := range reqs {
			if !r.Authorized {
				t.Errorf("%s %s without the token", r.Method, r.Path)
			}
			m = append(m, r.Method)
		}
		return strings.Join(m, " ")
	}

	// First run: a plan with changes, a new comment.
	r := step(nil)
	if r.code != 0 {
		t.Fatalf("first plan: exit %d\nstderr: %s\nsummary: %s", r.code, r.stderr, r.summary)
	}
	if r.outputs["has_changes"] != "true" {
		t.Errorf("has_changes = %q, want true", r.outputs["has_changes"])
	}
	if p := r.outputs["plan_path"]; p == "" {
		t.Error("no plan_path output")
	} else if _, err := os.Stat(p); err != nil {
		t.Errorf("plan_path: %v", err)
	}
	for _, want := range []string{"### fiosync plan `fiosync.yaml`", "A001.mov"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}
	if n := strings.Count(r.summary, "### "); n != 1 {
		t.Errorf("summary has %d headings, want 1:\n%s", n, r.summary)
	}
	reqs, comments := gh.take()
	if got := methods(reqs); got != "GET GET POST" {
		t.Errorf("first run sent %q, want GET GET POST (two pages of comments, then a new one)", got)
	}
	mine := ours(comments)
	if len(comments) != 101 || len(mine) != 1 {
		t.Fatalf("after the first run: %d comments, %d of them fiosync's; want 101 and 1", len(comments), len(mine))
	}
	id := mine[0].ID
	if !strings.Contains(mine[0].Body, "A001.mov") || !strings.Contains(mine[0].Body, "### fiosync plan") {
		t.Errorf("comment:\n%s", mine[0].Body)
	}

	// Second run, with one more file: the same comment, updated.
	write("media/A002.mov", "clip two")
	r = step(nil)
	if r.code != 0 || r.outputs["has_changes"] != "true" {
		t.Fatalf("second plan: exit %d, has_changes %q\n%s", r.code, r.outputs["has_changes"], r.stderr)
	}
	reqs, comments = gh.take()
	if got := methods(reqs); got != "GET GET PATCH" {
		t.Errorf("second run sent %q, want GET GET PATCH", got)
	}
	if last := reqs[len(reqs)-1].Path; last != fmt.Sprintf("/repos/%s/issues/comments/%d", ghRepo, id) {
		t.Errorf("second run patched %s, want comment %d", last, id)
	}
	if mine = ours(comments); len(comments) != 101 || len(mine) != 1 || !strings.Contains(mine[0].Body, "A002.mov") {
		t.Errorf("after the second run: %d comments, fiosync's %+v", len(comments), mine)
	}

	// apply, then a plan without changes: the comment says so.
	r = step(map[string]string{"command": "apply"})
	if r.code != 0 || !strings.Contains(r.summary, "### fiosync apply `fiosync.yaml`") || !strings.Contains(r.summary, "Apply complete") {
		t.Fatalf("apply: exit %d\nstderr: %s\nsummary: %s", r.code, r.stderr, r.summary)
	}
	if r.outputs["has_changes"] != "" || r.outputs["plan_path"] != "" {
		t.Errorf("apply's outputs = %v, want both empty", r.outputs)
	}
	gh.take() // apply comments on its own marker; what it sends is the plan's business above
	r = step(nil)
	if r.code != 0 || r.outputs["has_changes"] != "false" {
		t.Fatalf("plan after apply: exit %d, has_changes %q\n%s", r.code, r.outputs["has_changes"], r.stderr)
	}
	_, comments = gh.take()
	if mine = ours(comments); len(mine) != 1 || mine[0].ID != id || strings.Contains(mine[0].Body, "A002.mov") {
		t.Errorf("after a plan without changes, fiosync's comment: %+v", mine)
	}

	// A plan error fails the step; the summary and the comment carry the error.
	write("fiosync.yaml", strings.Replace(manifest, "Sandbox", "No Such Project", 1))
	r = step(nil)
	if r.code == 0 {
		t.Fatalf("a failed plan left the step green:\n%s", r.summary)
	}
	for _, want := range []string{"**Failed** (exit 1)", "Error:", "No Such Project"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary of the failed plan lacks %q:\n%s", want, r.summary)
		}
	}
	if r.outputs["has_changes"] != "" || r.outputs["plan_path"] != "" {
		t.Errorf("failed plan's outputs = %v, want both empty", r.outputs)
	}
	reqs, comments = gh.take()
	if got := methods(reqs); got != "GET GET PATCH" {
		t.Errorf("failed run sent %q, want GET GET PATCH", got)
	}
	if mine = ours(comments); len(mine) != 1 || !strings.Contains(mine[0].Body, "No Such Project") {
		t.Errorf("fiosync's comment after the failed plan: %+v", mine)
	}

	for _, c := range comments {
		seen = append(seen, c.Body)
	}
	for _, s := range seen {
		for _, secret := range []string{ghToken, emu.Seed.Token} {
			if strings.Contains(s, secret) {
				t.Errorf("a token shows in the action's output:\n%s", s)
			}
		}
	}
}

// TestActionFork: a pull request from a fork gets a read-only token and no secrets, so the
// action checks the manifest offline, writes the step summary only, says why, and never
// calls GitHub.
func TestActionFork(t *testing.T) {
	gh := &fakeGitHub{}
	ghSrv := httptest.NewServer(gh)
	t.Cleanup(ghSrv.Close)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "media", "A001.mov"), []byte("clip"), 0o644)
	os.WriteFile(filepath.Join(dir, "fiosync.yaml"), []byte("version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /\n"), 0o644)
	env := map[string]string{
		"GITHUB_API_URL":    ghSrv.URL,
		"GITHUB_REPOSITORY": ghRepo,
		"GITHUB_EVENT_NAME": "pull_request",
		"GITHUB_EVENT_PATH": writeEvent(t, "stranger/dailies"),
	}
	r := runStep(t, "run", dir, nil, env)
	if r.code != 0 {
		t.Fatalf("fork: exit %d\n%s\n%s", r.code, r.stderr, r.summary)
	}
	for _, want := range []string{
		"### fiosync validate `fiosync.yaml`",
		"1 upload, 1 file",
		"comes from the fork stranger/dailies, which GitHub gives no secrets",
		"fiosync did not comment: GitHub gives pull requests from forks (stranger/dailies) a read-only GITHUB_TOKEN",
	} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}
	if !strings.Contains(r.stdout, "::warning::fiosync did not comment") {
		t.Errorf("no warning annotation in the log:\n%s", r.stdout)
	}
	if reqs, _ := gh.take(); len(reqs) != 0 {
		t.Errorf("the action called GitHub for a fork's pull request: %+v", reqs)
	}
}

// TestActionInstall: the install step takes the released archive of a release tag after
// checking it against checksums.txt, refuses one that does not match, and otherwise builds
// fiosync from the action's checkout.
func TestActionInstall(t *testing.T) {
	fake := []byte("#!/bin/sh\necho \"fiosync v1.2.3 (released)\"\n")
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "fiosync", Mode: 0o755, Size: int64(len(fake))})
	tw.Write(fake)
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(archive.Bytes())
	const name, name124 = "fiosync_1.2.3_linux_amd64.tar.gz", "fiosync_1.2.4_linux_amd64.tar.gz"
	gh := &fakeGitHub{files: map[string][]byte{
		"/acme/fiosync/releases/download/v1.2.3/" + name:       archive.Bytes(),
		"/acme/fiosync/releases/download/v1.2.3/checksums.txt": []byte(hex.EncodeToString(sum[:]) + "  " + name + "\n"),
		"/acme/fiosync/releases/download/v1.2.4/" + name124:    archive.Bytes(),
		"/acme/fiosync/releases/download/v1.2.4/checksums.txt": []byte(strings.Repeat("0", 64) + "  " + name124 + "\n"),
	}}
	ghSrv := httptest.NewServer(gh)
	t.Cleanup(ghSrv.Close)
	env := func(ref string) map[string]string {
		return map[string]string{
			"GITHUB_SERVER_URL":        ghSrv.URL,
			"GITHUB_ACTION_REPOSITORY": "acme/fiosync",
			"GITHUB_ACTION_REF":        ref,
			"RUNNER_OS":                "Linux",
			"RUNNER_ARCH":              "X64",
			"GOFLAGS":                  "-buildvcs=false",
		}
	}

	r := runStep(t, "Install fiosync", t.TempDir(), nil, env("v1.2.3"))
	if r.code != 0 || !strings.Contains(r.stdout, "Installed the released fiosync v1.2.3.") || !strings.Contains(r.stdout, "fiosync v1.2.3 (released)") {
		t.Fatalf("release: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if bin := strings.TrimSpace(r.path); !strings.HasSuffix(bin, "fiosync-bin") {
		t.Errorf("GITHUB_PATH got %q", r.path)
	}

	r = runStep(t, "Install fiosync", t.TempDir(), nil, env("v1.2.4"))
	if r.code == 0 || !strings.Contains(r.stdout, "::error::fiosync v1.2.4: "+name124+" does not match the release's checksums.txt") {
		t.Errorf("bad checksum: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	if testing.Short() {
		t.Skip("building fiosync from the checkout")
	}
	r = runStep(t, "Install fiosync", t.TempDir(), nil, env("main"))
	if r.code != 0 || !strings.Contains(r.stdout, "Built fiosync from the action's checkout at main.") || !strings.Contains(r.stdout, "fiosync main\n") {
		t.Errorf("build: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
