package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fiosync/fiosync/internal/display"
	"github.com/fiosync/fiosync/internal/escape"
	"github.com/fiosync/fiosync/source"
	"github.com/fiosync/fiosync/state"
	"github.com/fiosync/fiosync/state/store"
)

// writeStateList writes one line per entry of s, sorted by address, for `fiosync state
// list`: address, status, source kind, size and file id. A state file is input like any
// other, so every value is escaped for the terminal (escape.Text): none can add a line, a
// column or a control sequence.
func writeStateList(w io.Writer, s *state.State) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, addr := range s.Addresses() {
		e := s.Entries[addr]
		size := "-"
		if e.Source.Kind == source.Local {
			size = display.Bytes(e.Source.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", escape.Text(addr), escape.Text(string(e.Status)),
			escape.Text(string(e.Source.Kind)), size, escape.Text(e.FileID))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write state list: %w", err)
	}
	return nil
}

// writeClaims lists the claims of the runners of a cooperative apply, for `fiosync state
// list`: what each runner works on now, and until when its lease holds. Nothing when there
// are none.
func writeClaims(w io.Writer, claims []store.ClaimInfo) error {
	if len(claims) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nIn progress (%s):\n", display.Count(len(claims), "claim", "claims"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range claims {
		what := c.Key
		if addr, ok := store.EntryAddress(c.Key); ok {
			what = addr
		}
		fmt.Fprintf(tw, "  %s\t%s\tsince %s\tlease until %s\n", escape.Text(what), escape.Text(c.Runner.String()),
			formatTime(c.Claimed), formatTime(c.Expires))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write claims: %w", err)
	}
	return nil
}

// describeEntry writes the entry of s at address in human form, for `fiosync state show
// ADDRESS`. It returns an error matching state.state.ErrNoEntry when there is none.
func describeEntry(w io.Writer, s *state.State, address string) error {
	e, ok := s.Entries[address]
	if !ok || e == nil {
		return fmt.Errorf("describe %q: %w", address, state.ErrNoEntry)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, escape.Text(v))
		}
	}
	row("address", address)
	row("status", string(e.Status))
	row("file id", e.FileID)
	row("view url", e.ViewURL)
	row("parent id", e.ParentID)
	row("version stack id", e.VersionStackID)
	row("previous file ids", strings.Join(e.Previous, ", "))
	row("created", formatTime(e.CreatedAt))
	row("uploaded", formatTime(e.UploadedAt))
	src := e.Source
	row("source", string(src.Kind))
	switch src.Kind {
	case source.Local:
		row("  path", src.Path)
		row("  size", fmt.Sprintf("%s (%d bytes)", display.Bytes(src.Size), src.Size))
		row("  modified", formatTime(src.ModTime))
		if src.Inode != 0 {
			row("  inode", fmt.Sprint(src.Inode))
		}
		row("  changed", formatTime(src.Ctime))
		if !src.Hash.IsZero() {
			row("  content", src.Hash.String())
		}
	case source.Remote:
		row("  url", src.URL+" (query string not recorded)")
		row("  url hash", src.URLHash.String())
	}
	if !e.VerifiedAt.IsZero() {
		row("verified", fmt.Sprintf("%s: file %s, %d bytes, %s", formatTime(e.VerifiedAt), e.VerifiedFileID, e.VerifiedSize, e.VerifiedHash))
	}
	if !e.VerifyFailedAt.IsZero() {
		row("verify failed", formatTime(e.VerifyFailedAt)+" (missing or different in Frame.io; run fiosync verify)")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("describe %q: %w", address, err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("describe %q: %w", address, err)
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
