package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fiosync/fiosync/emulator"
	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/internal/emutest"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
)

// TestScrubWriter: a held value is replaced however the writes split it, and a write that
// only looks like the start of one is passed on in full once the next write (or Flush) shows
// it is not.
func TestScrubWriter(t *testing.T) {
	s := &secrets{what: map[string]string{}}
	s.add("T", "tok-secret-42")
	s.add("P", "p@ss word")
	for _, writes := range [][]string{
		{"a tok-secret-42 b"},
		{"a tok-sec", "ret-42 b"},
		{"a t", "o", "k-secret-4", "2 b"},
		{"a tok-secret-42", " b"},
	} {
		var b bytes.Buffer
		w := s.writer(&b)
		for _, p := range writes {
			if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", p, n, err)
			}
		}
		w.Flush()
		if got, want := b.String(), "a "+redacted+" b"; got != want {
			t.Errorf("writes %q: got %q, want %q", writes, got, want)
		}
	}
	var b bytes.Buffer
	w := s.writer(&b)
	w.Write([]byte("stop at tok-s"))
	if got := b.String(); got != "stop at " {
		t.Errorf("before Flush: %q", got)
	}
	w.Write([]byte("et"))
	w.Flush()
	if got := b.String(); got != "stop at tok-set" {
		t.Errorf("after Flush: %q", got)
	}
	b.Reset()
	w.Write([]byte(`url p%40ss+word json "p@ss word" path p@ss%20word`))
	w.Flush()
	if strings.Contains(b.String(), "ss") {
		t.Errorf("an escaped form passed: %q", b.String())
	}
}

// TestNoCredentialLeaves plants each credential fiosync holds (the token, the client secret,
// PGPASSWORD, the password of a postgres:// state URL, GITHUB_TOKEN) in each input (manifest
// values literal and by ${VAR}, a file name, the environment, the state path, a remote URL)
// and checks that no output, error or file fiosync writes holds one (issue 16: scrubbing).
// It sets the process environment, so it does not run in parallel.
func TestNoCredentialLeaves(t *testing.T) {
	opts := emulator.DefaultOptions()
	opts.RateLimitScale = 0
	emu := emutest.Start(t, opts, frameio.WithoutPacing())
	const (
		clientSecret = "client-secret-1d7f0a"
		pgPassword   = "pg-password-93b2c1"
		urlPassword  = "url-password-5e8d44"
		githubToken  = "ghp_github-token-0c6a"
	)
	creds := map[string]string{"token": emu.Seed.Token, "client secret": clientSecret, "PGPASSWORD": pgPassword,
		"state URL password": urlPassword, "GITHUB_TOKEN": githubToken}
	t.Setenv("FRAMEIO_API_URL", emu.URL)
	t.Setenv("FRAMEIO_TOKEN", emu.Seed.Token)
	t.Setenv("FRAMEIO_CLIENT_ID", "fiosync-ci")
	t.Setenv("FRAMEIO_CLIENT_SECRET", clientSecret)
	t.Setenv("PGPASSWORD", pgPassword)
	t.Setenv("GITHUB_TOKEN", githubToken)
	t.Setenv("FIOSYNC_STATE", "")
	// The state URL's password is held from the start, as in a CI job whose environment
	// carries the database URL; the --state runs below pass it by flag too.
	t.Setenv("DATABASE_URL", "postgres://fiosync:"+urlPassword+"@127.0.0.1:1/fiosync")
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	t.Chdir(dir)
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
	// What the test wrote, by path and content; anything else under dir is fiosync's.
	ours := map[string]string{}
	mine := func(name, content string) { write(name, content); ours[filepath.Join(dir, name)] = content }
	mine("clean/fiosync.yaml", "version: 1\ntarget:\n  project: Sandbox\nuploads:\n  - local: media\n    to: /Day\n")
	mine("clean/media/a.mov", "a")

	type output struct{ args, text string }
	var outputs []output
	fiosync := func(args ...string) int {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		outputs = append(outputs, output{strings.Join(args, " "), out.String() + errb.String()})
		return code
	}
	// A clean delivery first, so the state, its backup and lock exist to be checked.
	if code := fiosync("apply", "--auto-approve", "-f", "clean/fiosync.yaml"); code != 0 {
		t.Fatalf("clean apply exited %d:\n%s", code, outputs[len(outputs)-1].text)
	}
	fiosync("plan", "-f", "clean/fiosync.yaml", "--out", "clean/tfplan")
	fiosync("state", "list", "-f", "clean/fiosync.yaml")
	fiosync("state", "show", "-f", "clean/fiosync.yaml", "/Day/a.mov")

	// The state URL's password is a credential once this process has met the URL: meet it
	// first, so the planted cases below do not depend on the order creds is walked in.
	fiosync("state", "list", "--state", "postgres://fiosync:"+urlPassword+"@127.0.0.1:1/fiosync?sslmode=disable&connect_timeout=1", "--state-name", "first")

	created := emu.Emu.Stats().FilesCreated
	for what, v := range creds {
		for i, m := range []struct{ name, manifest, file string }{
			{"literal to", "uploads:\n  - local: media\n    to: /exfil/" + v + "\n", "media/a.mov"},
			{"literal project", "uploads:\n  - local: media\n    to: /x\n", "media/a.mov"},
			{"file name", "uploads:\n  - local: media\n    to: /x\n", "media/" + v + ".mov"},
			{"remote path", "uploads:\n  - remote: https://cdn.example.com/" + v + "/r.mp4\n    to: /x\n", ""},
			{"remote query", "uploads:\n  - remote: https://cdn.example.com/r.mp4?sig=" + v + "\n    to: /x\n", ""},
			{"by variable", "uploads:\n  - local: media\n    to: /x/${COPY}\n", "media/a.mov"},
		} {
			sub := filepath.Join("planted", strings.ReplaceAll(what, " ", "-"), string(rune('a'+i)))
			project := "Sandbox"
			if m.name == "literal project" {
				project = v
			}
			mine(filepath.Join(sub, "fiosync.yaml"), "version: 1\ntarget:\n  project: "+project+"\n"+m.manifest)
			if m.file != "" {
				mine(filepath.Join(sub, m.file), "x")
			}
			t.Setenv("COPY", v)
			mf := filepath.Join(sub, "fiosync.yaml")
			for _, args := range [][]string{
				{"validate", "-f", mf},
				{"plan", "-f", mf},
				{"plan", "-f", mf, "--json"},
				{"plan", "-f", mf, "--format", "markdown"},
				{"apply", "--auto-approve", "-f", mf, "--json"},
				{"apply", "--auto-approve", "-f", mf},
				{"import", "-f", mf, "/x/" + v, "nope"},
				{"state", "show", "-f", mf, "/x/" + v},
			} {
				if code := fiosync(args...); code == 0 && args[0] != "state" {
					t.Errorf("%s, %s: %q succeeded", what, m.name, args)
				}
			}
		}
		// The state path, the state URL, the API and IMS origins.
		fiosync("plan", "-f", "clean/fiosync.yaml", "--state", filepath.Join(dir, "st-"+v, "s.json"))
		fiosync("plan", "-f", "clean/fiosync.yaml", "--out", "clean/plan-"+v)
		fiosync("state", "list", "--state", "postgres://fiosync:"+urlPassword+"@127.0.0.1:1/fiosync?sslmode=disable&connect_timeout=1", "--state-name", "n-"+v)
		fiosync("state", "list", "--state", "postgres://fiosync@127.0.0.1:1/fiosync?password="+urlPassword+"&connect_timeout=1")
		fiosync("plan", "-f", "clean/fiosync.yaml", "--api-url", emu.URL+"/"+v)
		fiosync("plan", "-f", "clean/fiosync.yaml", "--api-url", "http://"+v+"@127.0.0.1:1")
		fiosync("auth", "status", "--ims-url", "http://127.0.0.1:1/"+v)
	}
	if got := emu.Emu.Stats().FilesCreated; got != created {
		t.Errorf("the planted runs created %d files in Frame.io", got-created)
	}

	for _, out := range outputs {
		for what, v := range creds {
			if strings.Contains(out.text, v) {
				t.Errorf("the output of fiosync %s holds %s:\n%s", out.args, what, out.text)
			}
		}
	}
	// Every file fiosync wrote: state, backup, lock, saved plans.
	written := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if c, ok := ours[p]; ok && c == string(data) {
			return nil
		}
		written++
		for what, v := range creds {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("fiosync wrote %s into %s", what, p)
			}
		}
		return nil
	})
	if written < 3 {
		t.Errorf("found %d files written by fiosync, want the state, its lock and a saved plan at least", written)
	}
}

// TestRefuseSecretsManyFiles: over enough files to be checked from several goroutines,
// refuseSecrets still finds every file that holds a credential, once each, in file order,
// with the value scrubbed from the message.
func TestRefuseSecretsManyFiles(t *testing.T) {
	const secret = "refuse-many-files-4f2c9e1b7a" // this test's own: held is the process's
	held.add("TEST_MANY_FILES_TOKEN", secret)
	n := 3*secretsChunk + 5
	files := make([]manifest.Desired, n)
	var want []int
	for i := range files {
		files[i] = manifest.Desired{Address: fmt.Sprintf("/f%06d.mov", i), Source: source.Identity{Kind: source.Local, Path: fmt.Sprintf("f%06d.mov", i)}, Upload: i}
		if i%secretsChunk == 0 || i%secretsChunk == secretsChunk-1 || i == n-1 {
			want = append(want, i)
			if i%2 == 0 {
				files[i].Address = "/" + secret + files[i].Address
			} else {
				files[i].Source.Path = secret + "/" + files[i].Source.Path
			}
		}
	}
	err := refuseSecrets(&manifest.Manifest{Path: "fiosync.yaml"}, files)
	var list manifest.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err %v, want the files that hold the credential", err)
	}
	var got []int
	for _, e := range list {
		var i int
		if _, err := fmt.Sscanf(e.Field, "uploads[%d]", &i); err != nil {
			t.Fatalf("field %q: %v", e.Field, err)
		}
		got = append(got, i)
		if strings.Contains(e.Msg, secret) {
			t.Errorf("file %d: the message shows the credential: %s", i, e.Msg)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused files %v, want %v", got, want)
	}
}
