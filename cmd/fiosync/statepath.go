package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/manifest"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// stateSuffix ends the name of a default state file. Every file whose name holds it (the
// state, its .backup and .lock, the hidden temporary files of a save, and the .journal and
// .parts reserved for later) is fiosync's own, never part of a manifest's expansion.
const stateSuffix = ".state.json"

// legacyState is the state file every manifest of a directory shared before each manifest
// had its own (issue 15), and still fiosync.yaml's.
const legacyState = "fiosync" + stateSuffix

// defaultStatePath is where the state of the manifest at manifestPath lives when --state
// names none: beside it, named after it ("day04.yaml" -> "day04.state.json"), so that two
// manifests of one directory never share a state.
func defaultStatePath(manifestPath string) string {
	base := filepath.Base(manifestPath)
	if ext := filepath.Ext(base); ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return filepath.Join(filepath.Dir(manifestPath), base+stateSuffix)
}

// realDir returns dir made absolute with its symlinks resolved where it exists, so that two
// spellings of one directory compare equal.
func realDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// stateAnchor is the directory a state names its manifest relative to: a state file's own
// directory (the link's, for a symlinked one: where the user keeps it), and for PostgreSQL
// the working directory, which its default name is relative to as well.
func stateAnchor(b store.Backend) string {
	if f, ok := b.(*store.File); ok {
		return realDir(filepath.Dir(f.Path()))
	}
	return realDir(".")
}

// manifestName is how a state in b records the manifest at manifestPath (state.State's
// Manifest): relative to the state's anchor, slash-separated. For PostgreSQL a manifest
// outside the working directory is named by its file name, as defaultStateName does.
func manifestName(b store.Backend, manifestPath string) string {
	anchor := stateAnchor(b)
	abs := filepath.Join(realDir(filepath.Dir(manifestPath)), filepath.Base(manifestPath))
	rel, err := filepath.Rel(anchor, abs)
	if _, isFile := b.(*store.File); err != nil || !isFile && !filepath.IsLocal(rel) {
		return filepath.Base(manifestPath)
	}
	return filepath.ToSlash(rel)
}

// checkOwner refuses st when it records another manifest than name, unless that manifest
// is gone: then it was renamed or retired, and the state passes to the manifest using it
// now, with a warning (the next save records the new name).
func checkOwner(st *state.State, b store.Backend, name string, errw io.Writer) error {
	err := st.CheckManifest(name)
	var me *state.ManifestError
	if !errors.As(err, &me) {
		return err
	}
	recorded := filepath.Join(stateAnchor(b), filepath.FromSlash(me.Recorded))
	if _, statErr := os.Stat(recorded); errors.Is(statErr, fs.ErrNotExist) {
		fmt.Fprintf(errw, "warning: state %s was written by manifest %q, which is gone; it passes to %q, which the next save records\n",
			escape.Text(b.String()), escape.Text(me.Recorded), escape.Text(name))
		return nil
	}
	return fmt.Errorf("state %s: %w", b, err)
}

// manifestRemedy is remedy's advice for a *state.ManifestError.
func manifestRemedy(me *state.ManifestError) string {
	own := path.Base(defaultStatePath(me.Manifest))
	return fmt.Sprintf("; each manifest has its own state by default (%s: %s beside it): leave out --state "+
		"(and FIOSYNC_STATE, --state-name) to use it, or pass the state %s wrote. "+
		"If %s took over from %s, move %s away: a state whose manifest is gone passes to the manifest using it",
		me.Manifest, own, me.Manifest, me.Manifest, me.Recorded, me.Recorded)
}

// checkMoved looks, when the manifest at manifestPath has no state of its own at the default
// path yet, for the state file the directory's manifests shared before each had its own. If
// this manifest wrote it, or it records no manifest and so may be this manifest's, planning
// on would upload everything again beside what that state tracks: it refuses, with the
// command that moves the state where it belongs now.
func checkMoved(ctx context.Context, manifestPath string, errw io.Writer) error {
	own := defaultStatePath(manifestPath)
	legacy := filepath.Join(filepath.Dir(manifestPath), legacyState)
	if filepath.Base(own) == legacyState {
		return nil
	}
	if _, err := os.Lstat(own); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Lstat(legacy); err != nil {
		return nil
	}
	old := store.NewFile(legacy)
	st, err := old.Load(ctx)
	if err != nil {
		fmt.Fprintf(errw, "warning: cannot tell which manifest %s belongs to: %v\n", escape.Text(legacy), err)
		return nil
	}
	name := manifestName(old, manifestPath)
	if st.Manifest != "" && st.Manifest != name {
		return nil // another manifest's: this one starts its own
	}
	mv := "mv " + shellQuote(legacy) + " " + shellQuote(own)
	if _, err := os.Lstat(old.BackupPath()); err == nil {
		mv += " && mv " + shellQuote(old.BackupPath()) + " " + shellQuote(own+".backup")
	}
	if st.Manifest == name {
		return fmt.Errorf("%s's state is now %s, but it is still in %s, which %s wrote: move it there first:\n  %s",
			manifestPath, own, legacy, name, mv)
	}
	return fmt.Errorf("%s's state is now %s, which does not exist yet, and %s was written by an older fiosync that did not record which manifest wrote it. "+
		"If %s wrote it, move it first:\n  %s\n"+
		"If another manifest did, start %s's own state with --state %s until its first apply has written it",
		manifestPath, own, legacy, name, mv, name, shellQuote(own))
}

// shellQuote quotes s for a POSIX shell when it holds anything but the characters of plain
// paths.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ignoredFiles is what a manifest's expansion leaves out in this run: every file named as a
// state file's family is (stateSuffix anywhere in the name), and the files of this run's own
// state (wherever they are, under whatever name, and the target a symlinked one saves
// through) and plan file.
func ignoredFiles(b store.Backend, planFiles ...string) manifest.Ignore {
	ig := manifest.Ignore{Names: []string{"*" + stateSuffix + "*"}}
	if f, ok := b.(*store.File); ok {
		// The link's own family too: a fiosync before links were saved through kept its
		// backup and lock beside the link.
		ig.Paths = append(ig.Paths, f.Path(), f.Path()+".backup", f.Path()+".lock", f.Path()+".journal",
			f.Target(), f.BackupPath(), f.LockPath(), f.JournalPath())
	}
	for _, p := range planFiles {
		if p != "" {
			ig.Paths = append(ig.Paths, p)
		}
	}
	return ig
}

// withoutPlanFiles returns files without the plan files among them, which a plan written
// with --out earlier may have left anywhere in the tree under any name. A plan file is known
// by how it begins (looksLikePlan), so only files the state cannot vouch for are opened: new
// ones and changed ones, which plan reads anyway to hash them; a no-op plan opens none.
func withoutPlanFiles(files []manifest.Desired, st *state.State) []manifest.Desired {
	// In place and by index, not slices.DeleteFunc, which would copy every Desired into its
	// predicate: a plan over 100,000 files noticed.
	n := 0
	for i := range files {
		if d := &files[i]; isUntrackedPlan(d, st) {
			continue
		}
		if n != i {
			files[n] = files[i]
		}
		n++
	}
	clear(files[n:])
	return files[:n]
}

// isUntrackedPlan reports whether d is a plan file that the state does not track as it is.
func isUntrackedPlan(d *manifest.Desired, st *state.State) bool {
	if d.Source.Kind != source.Local || d.Source.Size < int64(len(planHead)) {
		return false
	}
	if st != nil {
		if e := st.Entries[d.Address]; e != nil && source.Unchanged(e.Source, d.Source) {
			return false
		}
	}
	return isPlanFile(d.Path)
}

// planHead is how every plan file begins: plan.Encode writes its document with
// json.MarshalIndent, format_version first and manifest second (TestLooksLikePlan holds the
// two together).
const planHead = "{\n  \"format_version\": \""

// looksLikePlan reports whether head, the first bytes of a file, begin a plan file.
func looksLikePlan(head []byte) bool {
	rest, ok := bytes.CutPrefix(head, []byte(planHead))
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && i < 4 && '0' <= rest[i] && rest[i] <= '9' {
		i++
	}
	return i > 0 && bytes.HasPrefix(rest[i:], []byte("\",\n  \"manifest\": \""))
}

func isPlanFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false // plan reports it when it reads the file
	}
	defer f.Close()
	var head [64]byte
	n, _ := io.ReadFull(f, head[:])
	return looksLikePlan(head[:n])
}
