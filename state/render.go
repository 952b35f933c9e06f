package state

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fiosync/fiosync/internal/escape"
)

// WriteList writes one line per entry, sorted by address, for
// `fiosync state list`: address, status, source kind, size and file id. A state
// file is input like any other, so every value is escaped for the terminal
// (escape.Text): none can add a line, a column or a control sequence.
func (s *State) WriteList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, addr := range s.Addresses() {
		e := s.Entries[addr]
		size := "-"
		if e.Source.Kind == KindLocal {
			size = formatBytes(e.Source.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", escape.Text(addr), escape.Text(string(e.Status)),
			escape.Text(string(e.Source.Kind)), size, escape.Text(e.FileID))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write state list: %w", err)
	}
	return nil
}

// Describe writes the entry at address in human form, for
// `fiosync state show ADDRESS`, every value escaped as WriteList does. It
// returns an error matching ErrNoEntry when there is none.
func (s *State) Describe(w io.Writer, address string) error {
	e, ok := s.Entries[address]
	if !ok || e == nil {
		return fmt.Errorf("describe %q: %w", address, ErrNoEntry)
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
	row("parent id", e.ParentID)
	row("version stack id", e.VersionStackID)
	row("previous file ids", strings.Join(e.Previous, ", "))
	row("created", formatTime(e.CreatedAt))
	row("uploaded", formatTime(e.UploadedAt))
	src := e.Source
	row("source", string(src.Kind))
	switch src.Kind {
	case KindLocal:
		row("  path", src.Path)
		row("  size", fmt.Sprintf("%s (%d bytes)", formatBytes(src.Size), src.Size))
		row("  modified", formatTime(src.ModTime))
		if src.Inode != 0 {
			row("  inode", fmt.Sprint(src.Inode))
		}
		row("  changed", formatTime(src.Ctime))
		if !src.Hash.IsZero() {
			row("  content", src.Hash.String())
		}
	case KindRemote:
		row("  url", src.URL+" (query string not recorded)")
		row("  url hash", src.URLHash.String())
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("describe %q: %w", address, err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("describe %q: %w", address, err)
	}
	return nil
}

// EntryJSON returns the entry at address as an indented JSON object with the
// address as its first field and the entry's fields as in the state file, for
// `fiosync state show --json`.
func (s *State) EntryJSON(address string) ([]byte, error) {
	e, ok := s.Entries[address]
	if !ok || e == nil {
		return nil, fmt.Errorf("describe %q: %w", address, ErrNoEntry)
	}
	c, err := normalize(&State{Entries: map[string]*Entry{address: e}})
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(struct {
		Address string `json:"address"`
		*Entry
	}{address, c.Entries[address]}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("describe %q: %w", address, err)
	}
	return append(out, '\n'), nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatBytes renders n in binary units, as the plan output does.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
