package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fiosync/fiosync/plan"
	"github.com/fiosync/fiosync/source"
)

// TestSavedPlanTampered applies saved plans that were tampered with, field by field, each
// with a checksum that fits again (as anyone who can write the file can do), and saved plans
// whose manifest or sources changed after saving. Each must be refused with nothing changed:
// the emulator's counts and the state file stay as they were (issue 16, holes 1 and 2). The
// untampered plan then applies. It sets the process environment, so it does not run in
// parallel.
func TestSavedPlanTampered(t *testing.T) {
	emu := cliEnv(t)
	seed, c := emu.Seed, emu.Client
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, content string) { writeFile(t, dir, name, content) }
	const manifest = "version: 1\ntarget:\n  project: Sandbox\nprune: true\nuploads:\n  - local: media\n    to: /Day\n    on_change: version\n"
	write("fiosync.yaml", manifest)
	write("media/a.mov", "aaaa")
	write("media/b.mov", "bbbb")
	write("media/c.mov", "cccc")
	mpath := filepath.Join(dir, "fiosync.yaml")
	fiosync := func(args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(ctx, append(args, "-f", mpath), stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return code, out.String() + errb.String()
	}
	if code, out := fiosync("apply", "--auto-approve"); code != 0 {
		t.Fatalf("first apply exited %d:\n%s", code, out)
	}

	// The next delivery: b.mov changed (an update), c.mov is gone (a prune), d.mov is new.
	write("media/b.mov", "bbbb, graded")
	if err := os.Remove(filepath.Join(dir, "media/c.mov")); err != nil {
		t.Fatal(err)
	}
	write("media/d.mov", "dddd")
	saved := filepath.Join(dir, "tfplan")
	if code, out := fiosync("plan", "--out", saved); code != 0 {
		t.Fatalf("plan --out exited %d:\n%s", code, out)
	}
	good, err := plan.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	if s := good.Summary(); s.Create != 1 || s.Update != 1 || s.Delete != 1 {
		t.Fatalf("setup: want a create, an update and a delete, got %+v", s)
	}

	// Another delivery's file and folder, which a tampered plan may point at.
	other, err := c.CreateFolder(ctx, seed.AccountID, seed.RootFolderID, "Other delivery")
	if err != nil {
		t.Fatal(err)
	}
	nda, err := c.CreateLocalUpload(ctx, seed.AccountID, other.ID, "NDA.pdf", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UploadPart(ctx, nda.UploadURLs[0], nda.MediaType, strings.NewReader("nda")); err != nil {
		t.Fatal(err)
	}

	statePath := filepath.Join(dir, "fiosync.state.json")
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	stats := emu.Emu.Stats()
	unchanged := func(t *testing.T) {
		t.Helper()
		after, err := os.ReadFile(statePath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("the state file changed")
		}
		now := emu.Emu.Stats()
		if now.FilesCreated != stats.FilesCreated || now.FilesDeleted != stats.FilesDeleted || now.BytesReceived != stats.BytesReceived {
			t.Errorf("Frame.io changed: created %d -> %d, deleted %d -> %d, bytes %d -> %d",
				stats.FilesCreated, now.FilesCreated, stats.FilesDeleted, now.FilesDeleted, stats.BytesReceived, now.BytesReceived)
		}
		if _, err := c.File(ctx, seed.AccountID, nda.ID); err != nil {
			t.Errorf("the other delivery's file: %v", err)
		}
	}
	find := func(p *plan.Plan, action plan.Action) *plan.Change {
		for i := range p.Changes {
			if p.Changes[i].Action == action {
				return &p.Changes[i]
			}
		}
		t.Fatalf("no %s in the plan", action)
		return nil
	}

	tampers := []struct {
		name   string
		tamper func(p *plan.Plan)
	}{
		{"target project", func(p *plan.Plan) { p.Target.ProjectID = "another-project" }},
		{"target root folder", func(p *plan.Plan) { p.Target.RootFolderID = other.ID }},
		{"folder id", func(p *plan.Plan) { p.Folders["/Day"] = other.ID }},
		{"create made an update", func(p *plan.Plan) {
			c := find(p, plan.Create)
			c.Action, c.Prior = plan.Update, find(p, plan.Delete).Prior.Clone()
		}},
		{"update made a create", func(p *plan.Plan) { c := find(p, plan.Update); c.Action, c.OnChange = plan.Create, "" }},
		{"on_change of the update", func(p *plan.Plan) { find(p, plan.Update).OnChange = "replace" }},
		{"prior of the update", func(p *plan.Plan) { find(p, plan.Update).Prior.FileID = nda.ID }},
		{"prior of the delete", func(p *plan.Plan) { find(p, plan.Delete).Prior.FileID = nda.ID }},
		{"added delete", func(p *plan.Plan) {
			d := *find(p, plan.Delete)
			d.Address, d.Folder, d.Name = "/Other delivery/NDA.pdf", "/Other delivery", "NDA.pdf"
			d.Prior = d.Prior.Clone()
			d.Prior.FileID = nda.ID
			p.Changes = append([]plan.Change{d}, p.Changes...)
			p.Entries[d.Address] = source.Digest{}
		}},
		{"address of the create", func(p *plan.Plan) {
			c := find(p, plan.Create)
			delete(p.Entries, c.Address)
			c.Address, c.Name = "/Day/zz.mov", "zz.mov"
			p.Entries[c.Address] = source.Digest{}
		}},
		{"state entry of the update", func(p *plan.Plan) { p.Entries[find(p, plan.Update).Address] = source.HashURL("forged") }},
		{"state entry of the create", func(p *plan.Plan) { p.Entries[find(p, plan.Create).Address] = p.Entries[find(p, plan.Update).Address] }},
		{"source of the create", func(p *plan.Plan) { find(p, plan.Create).Source.Path = "media/a.mov" }},
		{"source size of the create", func(p *plan.Plan) { c := find(p, plan.Create); c.Source.Size, c.Size = 1, 1 }},
		{"hash of the update", func(p *plan.Plan) { find(p, plan.Update).Source.Hash = source.HashURL("forged") }},
		{"lineage", func(p *plan.Plan) { p.Lineage = "forged" }},
		{"manifest name", func(p *plan.Plan) { p.Manifest = "day04.yaml" }},
	}
	for i, tt := range tampers {
		t.Run("plan "+tt.name, func(t *testing.T) {
			p, err := plan.ReadFile(saved)
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(p)
			sortChanges(p)
			path := filepath.Join(dir, "tampered", string(rune('a'+i)))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := plan.WriteFile(path, p); err != nil { // a checksum that fits
				t.Fatal(err)
			}
			code, out := fiosync("apply", path)
			if code == 0 || !(strings.Contains(out, "does not match") || strings.Contains(out, "stale")) {
				t.Errorf("apply of a plan with its %s tampered with: exit %d, want a refusal:\n%s", tt.name, code, out)
			}
			unchanged(t)
		})
	}

	manifests := []struct {
		name    string
		prepare func()
		restore func()
	}{
		{"prune turned off", func() { write("fiosync.yaml", strings.Replace(manifest, "prune: true", "prune: false", 1)) },
			func() { write("fiosync.yaml", manifest) }},
		{"on_change changed", func() {
			write("fiosync.yaml", strings.Replace(manifest, "on_change: version", "on_change: replace", 1))
		},
			func() { write("fiosync.yaml", manifest) }},
		{"project changed", func() { write("fiosync.yaml", strings.Replace(manifest, "project: Sandbox", "project: Elsewhere", 1)) },
			func() { write("fiosync.yaml", manifest) }},
		{"source rewritten with its size and mtime", func() {
			p := filepath.Join(dir, "media/d.mov")
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // a later ctime; the test asserts no duration
			write("media/d.mov", "DDDD")
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}, func() {}},
	}
	for _, tt := range manifests {
		t.Run("manifest "+tt.name, func(t *testing.T) {
			tt.prepare()
			defer tt.restore()
			code, out := fiosync("apply", saved)
			if code == 0 {
				t.Errorf("apply of the saved plan after %s succeeded:\n%s", tt.name, out)
			}
			unchanged(t)
		})
	}

	// The plan as saved, made again after the last rewrite, applies.
	if code, out := fiosync("plan", "--out", saved); code != 0 {
		t.Fatalf("plan --out exited %d:\n%s", code, out)
	}
	if code, out := fiosync("apply", saved); code != 0 {
		t.Fatalf("apply of the untampered plan exited %d:\n%s", code, out)
	}
	if _, err := c.File(ctx, seed.AccountID, nda.ID); err != nil {
		t.Errorf("the other delivery's file after the real apply: %v", err)
	}
}

func sortChanges(p *plan.Plan) {
	for i := 1; i < len(p.Changes); i++ {
		for j := i; j > 0 && p.Changes[j].Address < p.Changes[j-1].Address; j-- {
			p.Changes[j], p.Changes[j-1] = p.Changes[j-1], p.Changes[j]
		}
	}
}
