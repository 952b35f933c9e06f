package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fiosync/fiosync/internal/atomicfile"
	"github.com/fiosync/fiosync/receipt"
	"github.com/fiosync/fiosync/state/store"
)

type receiptCmd struct {
	APIFlags
	stateLocation
	Format string `name:"format" enum:"json,markdown" default:"json" help:"json (the checked form) or markdown (for reading, e.g. a pull request comment)."`
	Out    string `name:"out" placeholder:"FILE" help:"Write the receipt to FILE instead of standard output."`
}

func (c *receiptCmd) Help() string {
	return `Lists, for every delivered address of the state: size, BLAKE3, Frame.io file id, version
stack, view_url, upload and verify times, source, the target and the state's lineage and serial,
ending with a BLAKE3 of its own canonical content. The checksum detects accidental damage only;
'fiosync verify --receipt FILE' checks a receipt against Frame.io itself.`
}

func (c *receiptCmd) Validate() error {
	if c.Out != "" {
		return held.refuse("--out", c.Out)
	}
	return nil
}

func (c *receiptCmd) Run(ctx context.Context, io *stdio, g *Globals) error {
	b, err := c.backend(c.File)
	if err != nil {
		return err
	}
	defer closeBackend(b)
	return writeReceipt(ctx, g, b, c.Format, c.Out, io.Out)
}

// writeReceipt makes the receipt of b's state and writes it in format ("json" or
// "markdown") to the file out, or to w when out is "".
func writeReceipt(ctx context.Context, g *Globals, b store.Backend, format, out string, w io.Writer) error {
	st, err := loadState(ctx, b)
	if err != nil {
		return err
	}
	client, err := g.client(ctx)
	if err != nil {
		return err
	}
	r, err := receipt.Build(ctx, client, st, time.Now())
	if err != nil {
		return err
	}
	data, err := receipt.Encode(r)
	if err != nil {
		return err
	}
	if format == "markdown" {
		var sb strings.Builder
		if err := receipt.WriteMarkdown(&sb, r); err != nil {
			return err
		}
		data = []byte(sb.String())
	}
	if out == "" {
		_, err := w.Write(data)
		return err
	}
	if err := atomicfile.Write(out, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// receiptFormat is the format apply --receipt writes FILE in: markdown for a .md name, else
// JSON.
func receiptFormat(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".md") {
		return "markdown"
	}
	return "json"
}
