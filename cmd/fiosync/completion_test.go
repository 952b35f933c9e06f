package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// completionScript returns what `fiosync completion SHELL` prints, written to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"completion", shell}, stdio{Out: &out, Err: &errb}); code != exitOK {
		t.Fatalf("completion %s: exit %d: %s", shell, code, errb.String())
	}
	path := filepath.Join(t.TempDir(), "fiosync."+shell)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompletionBash loads the bash script into a real bash and asks it to complete command
// lines, as the shell does on Tab.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := completionScript(t, "bash")
	dir := t.TempDir()
	for _, name := range []string{"day04.yaml", "day04.plan"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		line string   // the words typed; the last is being completed
		want []string // must be offered
		not  []string // must not be offered
	}{
		{line: "fiosync st", want: []string{"state"}, not: []string{"plan"}},
		{line: "fiosync state ", want: []string{"list", "show", "rm", "unlock", "push", "pull"}, not: []string{"plan"}},
		{line: "fiosync plan --ta", want: []string{"--target"}},
		{line: "fiosync plan --", want: []string{"--api-url", "--out", "--file"}},
		{line: "fiosync validate --", want: []string{"--file"}, not: []string{"--api-url", "--ims-url"}},
		{line: "fiosync plan --format ", want: []string{"text", "markdown"}},
		{line: "fiosync plan -f day", want: []string{"day04.yaml", "day04.plan"}},
		{line: "fiosync apply day04.p", want: []string{"day04.plan"}},
		{line: "fiosync completion ", want: []string{}, not: []string{"state"}},
		{line: "fiosync apply -f state ", want: []string{"day04.plan"}, not: []string{"list"}}, // "state" is -f's value
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			words := strings.Split(tt.line, " ")
			var quoted []string
			for _, w := range words {
				quoted = append(quoted, shQuote(w))
			}
			prog := ". " + shQuote(script) + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
				"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_fiosync\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q offers %q, want %q among them", tt.line, got, w)
				}
			}
			for _, w := range tt.not {
				if slices.Contains(got, w) {
					t.Errorf("%q offers %q, which must not include %q", tt.line, got, w)
				}
			}
		})
	}
}

// TestCompletionZshFish checks the other scripts' syntax with the shells themselves where
// they are installed; the zsh script is the bash one behind bashcompinit.
func TestCompletionZshFish(t *testing.T) {
	for _, sh := range []struct{ shell, check string }{{"zsh", "-n"}, {"fish", "--no-execute"}} {
		t.Run(sh.shell, func(t *testing.T) {
			script := completionScript(t, sh.shell)
			data, _ := os.ReadFile(script)
			if !strings.Contains(string(data), "plan") || !strings.Contains(string(data), "--target") && !strings.Contains(string(data), "-l target") {
				t.Fatalf("%s script lacks the commands and flags:\n%s", sh.shell, data)
			}
			bin, err := exec.LookPath(sh.shell)
			if err != nil {
				t.Skipf("no %s here to check the script's syntax", sh.shell)
			}
			if out, err := exec.Command(bin, sh.check, script).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", sh.shell, sh.check, err, out)
			}
		})
	}
}
