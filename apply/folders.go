package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fiosync/fiosync/frameio"
	"github.com/fiosync/fiosync/state"
)

// ensureFolders resolves every folder the plan needs, creating the missing ones up front,
// parents before children, one at a time (creates are limited to 3/s anyway). It records every
// resolved id in the state. A folder that cannot be created fails only the files below it.
func (r *run) ensureFolders(ctx context.Context) {
	known := r.opts.State.Snapshot().Folders
	want := map[string]bool{}
	for p, id := range r.plan.Folders {
		for q := cleanFolder(p); q != "/"; q = path.Dir(q) {
			if _, ok := want[q]; !ok {
				want[q] = false
			}
		}
		if id != "" {
			r.folderIDs[cleanFolder(p)] = id
		}
		want[cleanFolder(p)] = true // listed by the plan: its id is authoritative ("" = missing)
	}
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	slices.SortFunc(paths, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.Count(a, "/"), strings.Count(b, "/")), cmp.Compare(a, b))
	})

	learned := map[string]string{}
	for _, p := range paths {
		if _, ok := r.folderIDs[p]; ok {
			if known[p] != r.folderIDs[p] {
				learned[p] = r.folderIDs[p]
			}
			continue
		}
		parent := path.Dir(p)
		parentID, ok := r.folderIDs[parent]
		if !ok {
			r.folderErrs[p] = cmp.Or(r.folderErrs[parent], fmt.Errorf("resolve folder %q: parent unknown", parent))
			continue
		}
		if ctx.Err() != nil {
			r.folderErrs[p] = ctx.Err()
			continue
		}
		// An ancestor the plan did not list may exist already: trust the state, else look.
		id := ""
		if !want[p] {
			id = known[p]
			if id == "" {
				found, err := r.findFolder(ctx, parentID, path.Base(p))
				if err != nil {
					r.folderErrs[p] = err
					continue
				}
				id = found
			}
		}
		if id == "" && r.opts.Claims != nil {
			// Another runner may be creating it: the folder's claim decides who does.
			found, created, err := r.claimFolder(ctx, parentID, p, path.Base(p))
			if err != nil {
				r.folderErrs[p] = err
				continue
			}
			if created {
				r.created++
				r.made[found] = true
				r.emit(Event{Type: EventFolder, Address: p, FileID: found})
			}
			// Recorded under the claim already; written again, it could meet another
			// runner's claim of it.
			r.folderIDs[p] = found
			continue
		}
		if id == "" {
			created, err := r.createFolder(ctx, parentID, path.Base(p))
			if err != nil {
				r.folderErrs[p] = fmt.Errorf("create folder %q: %w", p, err)
				continue
			}
			id = created
			r.created++
			r.made[id] = true
			r.emit(Event{Type: EventFolder, Address: p, FileID: id})
		}
		r.folderIDs[p] = id
		if r.opts.Claims != nil {
			continue // found, not created: the runner that created it recorded it
		}
		// Record each new folder at once, so an interruption does not create it twice.
		if err := r.save(ctx, func(*state.State) state.Change { return state.PutFolders(map[string]string{p: id}) }); err != nil {
			r.folderErrs[p] = err
		}
	}
	if len(learned) > 0 && r.opts.Claims == nil {
		// (A runner leaves this to the runner that created them: a folder being recorded
		// under its claim must not meet this save.)
		// Folders the plan resolved: remember them too (failures here are harmless).
		_ = r.save(ctx, func(*state.State) state.Change { return state.PutFolders(learned) })
	}
}

// createFolder creates name under parentID. When a create fails, a folder of that name may
// have appeared meanwhile (another run, a person, or this very request whose answer was
// lost): adopt it. When none did and the failure was ambiguous (5xx, lost answer), try again.
func (r *run) createFolder(ctx context.Context, parentID, name string) (string, error) {
	for attempt := 1; ; attempt++ {
		f, err := r.client.CreateFolder(ctx, r.account, parentID, name)
		if err == nil {
			return f.ID, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		id, lerr := r.findFolder(ctx, parentID, name)
		switch {
		case lerr != nil:
			return "", errors.Join(err, lerr)
		case id != "":
			return id, nil
		case !ambiguous(err) || attempt >= createAttempts:
			return "", err
		}
	}
}

// findFolder returns the id of the folder called name in parentID, or "" when there is none.
// When several share the name, the oldest wins, as plan does.
func (r *run) findFolder(ctx context.Context, parentID, name string) (string, error) {
	var id string
	var best int64
	for f, err := range r.client.Folders(ctx, r.account, parentID) {
		if err != nil {
			return "", fmt.Errorf("list folders: %w", err)
		}
		if f.Name == name && (id == "" || f.CreatedAt.UnixNano() < best) {
			id, best = f.ID, f.CreatedAt.UnixNano()
		}
	}
	return id, nil
}

// folder returns the id of the folder at p, or why it could not be resolved.
func (r *run) folder(p string) (string, error) {
	p = cleanFolder(p)
	if id, ok := r.folderIDs[p]; ok {
		return id, nil
	}
	if err := r.folderErrs[p]; err != nil {
		return "", err
	}
	return "", fmt.Errorf("resolve folder %q: not in the plan", p)
}

// cleanFolder returns p as an absolute slash path without a trailing slash.
func cleanFolder(p string) string {
	return path.Clean("/" + p)
}

// folderListing is what one folder held when the run first listed it: its files by name.
type folderListing struct {
	once   sync.Once
	listed atomic.Bool // byName and err are set
	byName map[string][]frameio.File
	err    error
}

// untracked returns the id of the file named name that known (the ids the state knew) does
// not hold, or "".
func (fl *folderListing) untracked(name string, known map[string]bool) string {
	for _, f := range fl.byName[name] {
		if !known[f.ID] {
			return f.ID
		}
	}
	return ""
}

// listing returns the files of folderID as the run first listed them: once per run, by the
// first caller (a folder that is gone holds none). Its err says why the listing failed.
func (r *run) listing(ctx context.Context, folderID string) *folderListing {
	r.namesMu.Lock()
	fl := r.names[folderID]
	if fl == nil {
		fl = &folderListing{}
		r.names[folderID] = fl
	}
	r.namesMu.Unlock()
	fl.once.Do(func() {
		defer fl.listed.Store(true)
		fl.byName = map[string][]frameio.File{}
		for f, err := range r.client.Files(ctx, r.account, folderID) {
			if frameio.IsNotFound(err) {
				return
			}
			if err != nil {
				fl.err = fmt.Errorf("list files of folder %s: %w", folderID, err)
				return
			}
			fl.byName[f.Name] = append(fl.byName[f.Name], f)
		}
	})
	return fl
}

// conflictAt returns the file named name in the folder folderID that the state did not know
// when the run started, if any: a create there would upload a second copy beside it. Each
// folder is listed once per run (listing); a folder this run created holds nothing else.
func (r *run) conflictAt(ctx context.Context, folderID, name string) (string, error) {
	if r.made[folderID] {
		return "", nil
	}
	fl := r.listing(ctx, folderID)
	if fl.err != nil {
		return "", fl.err
	}
	return fl.untracked(name, r.known), nil
}

// conflictKnown is conflictAt without a call to Frame.io: known is false when the folder was
// not listed yet, or its listing failed.
func (r *run) conflictKnown(folderID, name string) (id string, known bool) {
	if r.made[folderID] {
		return "", true
	}
	r.namesMu.Lock()
	fl := r.names[folderID]
	r.namesMu.Unlock()
	if fl == nil || !fl.listed.Load() || fl.err != nil {
		return "", false
	}
	return fl.untracked(name, r.known), true
}
