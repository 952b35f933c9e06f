package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fiosync/fiosync/auth"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/state/pgstate"
)

// redacted stands in for a credential's value in everything fiosync writes.
const redacted = "[REDACTED]"

// minScrub is the length below which a value is refused in a manifest but not scrubbed from
// output: replacing every "pw" in every message would garble them all, and a credential that
// short protects nothing.
const minScrub = 4

// secrets are the credential values one run of fiosync holds: the values of the environment
// variables auth.IsCredentialEnv names, the password of a postgres:// state URL, and the
// tokens the credential holds or gets while the run lasts. run wraps stdout and stderr in
// scrubbers over them, manifests may not expand them, and no input that contains one is
// uploaded, planned or recorded. It is safe for concurrent use.
type secrets struct {
	mu    sync.RWMutex
	what  map[string]string // value -> the credential it is, e.g. "FRAMEIO_TOKEN"
	long  []string          // the values of minScrub bytes or more, which find looks for inside
	forms []string          // values of minScrub bytes or more and their escaped forms, longest first
}

// held is what this process holds. It is one per process, not per command, because what it
// holds is the process's: the environment, and the tokens fetched for it. run adds the
// environment; the backend, the credential and the state URL add the rest as they meet them.
// Tests that call run side by side only scrub a little more.
var held = &secrets{what: map[string]string{}}

// addEnviron adds the credentials in environ (os.Environ's form).
func (s *secrets) addEnviron(environ []string) {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if pgstate.IsURL(v) {
			s.addConnString(k, v) // FIOSYNC_STATE, say: its password is a credential
		}
		if auth.IsCredentialEnv(k) {
			s.add(k, v)
		}
	}
}

// add records value as the credential what. Blank values hold nothing.
func (s *secrets) add(what, value string) {
	for _, v := range []string{value, strings.TrimSpace(value)} {
		if strings.TrimSpace(v) == "" {
			continue
		}
		s.mu.Lock()
		if _, ok := s.what[v]; !ok {
			s.what[v] = what
			if len(v) >= minScrub {
				s.long = append(s.long, v)
				for _, f := range escapedForms(v) {
					if !slices.Contains(s.forms, f) {
						s.forms = append(s.forms, f)
					}
				}
				slices.SortStableFunc(s.forms, func(a, b string) int { return len(b) - len(a) })
			}
		}
		s.mu.Unlock()
	}
}

// addConnString records the passwords of a PostgreSQL connection string, in URL form
// (postgres://user:PASSWORD@host/db?password=...&sslpassword=...) or keyword form
// (password=... sslpassword=...).
func (s *secrets) addConnString(what, conn string) {
	if u, err := url.Parse(conn); err == nil && u.Scheme != "" {
		if p, ok := u.User.Password(); ok {
			s.add(what+" password", p)
		}
		for k, vs := range u.Query() {
			if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
				for _, v := range vs {
					s.add(what+" "+k, v)
				}
			}
		}
		return
	}
	for _, f := range strings.Fields(conn) {
		if k, v, ok := strings.Cut(f, "="); ok && (strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")) {
			s.add(what+" "+k, strings.Trim(v, "'"))
		}
	}
}

// escapedForms are the ways v can appear in what fiosync writes: as is, escaped for a URL,
// quoted by %q or strconv, and encoded as a JSON string with and without HTML escaping.
func escapedForms(v string) []string {
	q := strconv.Quote(v)
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), q[1 : len(q)-1]}
	var b bytes.Buffer
	for _, html := range []bool{true, false} {
		b.Reset()
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(v) == nil {
			j := strings.TrimSuffix(b.String(), "\n")
			forms = append(forms, j[1:len(j)-1])
		}
	}
	var out []string
	for _, f := range forms {
		if len(f) >= minScrub && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// find returns the credential whose value text contains, if any. Values too short to scrub
// count only when text is exactly one.
func (s *secrets) find(text string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return heldValues{s.what, s.long}.find(text)
}

// heldValues are the values a secrets holds, to look for without its lock.
type heldValues struct {
	what map[string]string
	long []string
}

// snapshot returns what s holds now, for looking through many values from several
// goroutines without taking the lock for each.
func (s *secrets) snapshot() heldValues {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return heldValues{maps.Clone(s.what), slices.Clone(s.long)}
}

// find is secrets.find over the values h holds.
func (h heldValues) find(text string) (string, bool) {
	if what, ok := h.what[text]; ok {
		return what, true
	}
	// A slice, not a range over the map: starting a map iteration costs more than the search.
	for _, v := range h.long {
		if strings.Contains(text, v) {
			return h.what[v], true
		}
	}
	return "", false
}

// scrub replaces every held value in text with redacted.
func (s *secrets) scrub(text string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.forms {
		if strings.Contains(text, f) {
			text = strings.ReplaceAll(text, f, redacted)
		}
	}
	return text
}

// errCredential is why an input holding a credential is refused.
var errCredential = errors.New("fiosync never writes a credential into a file, a plan, a message or Frame.io")

// refuse returns an error when text, the input what (a path, a URL, a name), contains a held
// credential; the error shows text scrubbed.
func (s *secrets) refuse(what, text string) error {
	if cred, ok := s.find(text); ok {
		return fmt.Errorf("%s %q contains the value of %s: %w", what, s.scrub(text), cred, errCredential)
	}
	return nil
}

// checkVar is the manifest's rule for ${NAME}: never a credential by name (auth owns the
// list), never the value of one fiosync holds.
func (s *secrets) checkVar(name, value string) error {
	if auth.IsCredentialEnv(name) {
		return errors.New("it names a credential, and a manifest's values end up in plans, pull request comments, state and Frame.io folder names")
	}
	if cred, ok := s.find(value); ok {
		return fmt.Errorf("its value contains the value of %s, a credential", cred)
	}
	return nil
}

// watch adds the credential's tokens to s, now and as they are renewed.
func (s *secrets) watch(cred *auth.Credential) {
	cred.WatchSecrets(func(v string) { s.add("a token or secret of the credential", v) })
}

// scrubWriter passes writes on to w with every held credential replaced by redacted. A write
// that ends in what could be the start of a credential keeps that end back until the next
// write (or Flush) shows whether it is one, so a value split across writes is caught too.
type scrubWriter struct {
	s    *secrets
	w    io.Writer
	mu   sync.Mutex
	held []byte
}

// writer returns a scrubWriter over w.
func (s *secrets) writer(w io.Writer) *scrubWriter { return &scrubWriter{s: s, w: w} }

// Write implements io.Writer.
func (sw *scrubWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	buf := append(sw.held, p...)
	out := []byte(sw.s.scrub(string(buf)))
	keep := sw.s.partial(out)
	sw.held = append(sw.held[:0:0], out[len(out)-keep:]...)
	if _, err := sw.w.Write(out[:len(out)-keep]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what Write kept back.
func (sw *scrubWriter) Flush() error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if len(sw.held) == 0 {
		return nil
	}
	_, err := sw.w.Write(sw.held)
	sw.held = nil
	return err
}

// file is the terminal or file under the writer, for terminal checks; nil for others.
func (sw *scrubWriter) file() *os.File {
	f, _ := sw.w.(*os.File)
	return f
}

// partial returns the length of the longest end of b that is the start of a held value.
func (s *secrets) partial(b []byte) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	longest := 0
	for _, f := range s.forms {
		end := len(b) - longest // an end no longer than longest cannot make it longer
		for i := max(0, len(b)-len(f)+1); i < end; i++ {
			j := bytes.IndexByte(b[i:end], f[0])
			if j < 0 {
				break
			}
			i += j
			if strings.HasPrefix(f, string(b[i:])) {
				longest = max(longest, len(b)-i)
				break
			}
		}
	}
	return longest
}

// loadManifest is manifest.Load with the rule that no ${NAME} expands a credential.
func loadManifest(path string, opts ...manifest.Option) (*manifest.Manifest, error) {
	return manifest.Load(path, append(opts, manifest.WithVarCheck(held.checkVar))...)
}

// refuseSecrets reports every target and desired file whose names or source contain a
// credential, at its entry: planning it would put the value in the plan, the state and
// Frame.io. The value comes from a literal in the manifest, a file name or a URL, since
// ${NAME} cannot expand one.
func refuseSecrets(m *manifest.Manifest, files []manifest.Desired) error {
	var list manifest.ErrorList
	for _, t := range []struct {
		field, value string
		at           manifest.Pos
	}{{"target.account", m.Target.Account, m.Target.AccountPos}, {"target.workspace", m.Target.Workspace, m.Target.WorkspacePos}, {"target.project", m.Target.Project, m.Target.ProjectPos}} {
		if err := held.refuse("the value", t.value); err != nil {
			list = append(list, &manifest.Error{File: m.Path, Pos: t.at, Field: t.field, Msg: err.Error()})
		}
	}
	// Three values of every file: at 100,000 files, from several goroutines (8 ms on one).
	values := held.snapshot()
	workers := max(1, min(runtime.GOMAXPROCS(0), len(files)/secretsChunk))
	per := (len(files) + workers - 1) / workers
	found := make([]manifest.ErrorList, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(files))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				d := &files[i]
				for _, in := range []struct{ what, value string }{{"address", d.Address}, {"source", d.Source.Path}, {"source URL", d.URL}} {
					if _, ok := values.find(in.value); !ok {
						continue
					}
					if err := held.refuse(in.what, in.value); err != nil { // worded, and scrubbed
						found[w] = append(found[w], &manifest.Error{File: m.Path, Pos: d.Pos, Field: fmt.Sprintf("uploads[%d]", d.Upload), Msg: err.Error()})
						break
					}
				}
			}
		})
	}
	wg.Wait()
	for _, f := range found {
		list = append(list, f...)
	}
	return list.Err()
}

// secretsChunk is the fewest files refuseSecrets gives a goroutine of its own.
const secretsChunk = 16384
