package receipt

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/fiosync/fiosync/internal/escape"
)

// WriteMarkdown writes r for reading, e.g. as a pull request comment: a table with one row
// per file, each address linking to the file's view_url, and the checksum of r's JSON form
// (call Encode first) at the end. Every text from the state or Frame.io goes through
// escape.Markdown; a view_url that is not http(s) is not linked.
func WriteMarkdown(w io.Writer, r *Receipt) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### fiosync delivery receipt\n\n")
	fmt.Fprintf(&b, "Project %s (account %s, workspace %s, project id %s). State lineage %s, serial %d. Generated %s.\n\n",
		escape.Markdown(r.Target.Project), escape.Markdown(r.Target.AccountID), escape.Markdown(r.Target.WorkspaceID),
		escape.Markdown(r.Target.ProjectID), escape.Markdown(r.State.Lineage), r.State.Serial, r.GeneratedAt.Format("2006-01-02 15:04:05Z"))
	fmt.Fprintf(&b, "%d files, %d bytes, %d verified by download.\n\n", r.Summary.Files, r.Summary.Bytes, r.Summary.Verified)
	b.WriteString("| address | size | BLAKE3 | file id | version stack | source | uploaded | verified |\n")
	b.WriteString("|---|---:|---|---|---|---|---|---|\n")
	for _, f := range r.Files {
		addr := escape.Markdown(f.Address)
		if link := linkTarget(f.ViewURL); link != "" {
			addr = "[" + addr + "](" + link + ")"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", addr, f.Size, cell(f.BLAKE3), cell(f.FileID),
			cell(f.VersionStackID), cell(f.Source), cell(f.UploadedAt), cell(f.VerifiedAt))
	}
	fmt.Fprintf(&b, "\nReceipt checksum (BLAKE3 of the JSON form's canonical content): %s\n", cell(r.Checksum))
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	if s == "" {
		return "—"
	}
	return escape.Markdown(s)
}

// linkTarget returns u as a markdown link destination, or "" when it is not an http(s) URL.
func linkTarget(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	s := p.String()
	s = strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20", "(", "%28", ")", "%29", "\n", "", "\r", "").Replace(s)
	return "<" + s + ">"
}
