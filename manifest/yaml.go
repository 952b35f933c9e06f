package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxAliases bounds how many aliases the walk resolves. Decoding into
// yaml.Node never expands aliases, so "billion laughs" documents cost nothing
// to decode; the bound keeps our own walk (and merge keys) linear too, and
// stops alias cycles such as `a: &x {b: *x}`, which yaml.v3 accepts.
const maxAliases = 1000

// decode parses data into the root mapping node of its single YAML document.
// It returns nil after recording an error when the document is missing,
// malformed, not a mapping, or followed by a second document.
func (p *parser) decode() *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(p.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(Pos{1, 1}, "", emptyMsg)
			return nil
		}
		p.syntaxError(err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntaxError(err)
		return nil
	default:
		p.add(Pos{next.Line, 1}, "", `a manifest is one YAML document; remove the "---" and what follows it`)
		return nil
	}
	if len(doc.Content) == 0 {
		p.add(Pos{1, 1}, "", emptyMsg)
		return nil
	}
	root := p.resolve(doc.Content[0])
	switch {
	case root == nil:
		return nil
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		p.add(Pos{1, 1}, "", emptyMsg)
		return nil
	case root.Kind != yaml.MappingNode:
		p.add(pos(doc.Content[0]), "", "the top level must be a mapping with version, target and uploads, not "+kindName(root))
		return nil
	}
	return root
}

const emptyMsg = `the manifest is empty; it needs version, target and uploads ("fiosync init" writes a starter)`

// resolve follows n through aliases to the node it stands for. It returns nil
// after recording an error once the alias budget is spent.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		p.aliases++
		if p.aliases > maxAliases {
			if !p.aliasErr {
				p.aliasErr = true
				p.add(pos(n), "", fmt.Sprintf("too many aliases (more than %d), or aliases that refer to each other", maxAliases))
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

// kindName describes a node's kind in the user's words, for "must be a
// string, not a list".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return "a string"
	}
	return "an alias"
}

var (
	yamlLineRE    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// syntaxError records a yaml.v3 parse error in our own format. yaml.v3 gives
// a line (sometimes not even that) and no column, so this finds a better
// place where it can: the tab that broke the indentation, the alias that
// names an unknown anchor, or the shortest prefix of the file that fails.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if l, c, ok := indentTab(p.data, line); ok {
		p.add(Pos{l, c}, "", "tabs are not allowed in indentation; indent with spaces")
		return
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		at := findAlias(p.data, m[1])
		p.add(at, "", fmt.Sprintf("alias %q refers to no anchor; define %q before using it", "*"+m[1], "&"+m[1]))
		return
	}
	if l := failingLine(p.data, msg); l > 0 {
		line = l
	}
	p.add(Pos{max(line, 1), 1}, "", "invalid YAML: "+msg)
}

// indentTab finds a tab in the leading whitespace of a line, at or before
// line+1 when line is known (yaml.v3 sometimes reports the line before).
func indentTab(data []byte, line int) (int, int, bool) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if line > 0 && i+1 > line+1 {
			break
		}
		for j, c := range l {
			if c == '\t' {
				return i + 1, j + 1, true
			}
			if c != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

// findAlias returns the position of the first "*name" in data.
func findAlias(data []byte, name string) Pos {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if j := bytes.Index(l, []byte("*"+name)); j >= 0 {
			return Pos{i + 1, len([]rune(string(l[:j]))) + 1}
		}
	}
	return Pos{1, 1}
}

// failingLine finds the line of a syntax error by parsing ever longer
// prefixes of data until one fails with the same message. yaml.v3's own line
// is unreliable: parser errors count from zero, scanner errors from one, and
// errors on the first line carry none. A manifest is short; the search gives
// up (returning 0) on large inputs and after maxSearchLines lines.
func failingLine(data []byte, msg string) int {
	const maxSearchLines, maxSearchBytes = 300, 16 << 10
	if len(data) > maxSearchBytes {
		return 0
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	n := 0
	for i := 0; i < len(lines) && i < maxSearchLines; i++ {
		n += len(lines[i])
		dec := yaml.NewDecoder(bytes.NewReader(data[:n]))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if err == nil {
				continue
			}
			text := err.Error()
			if m := yamlLineRE.FindStringSubmatch(text); m != nil {
				text = m[2]
			} else {
				text = strings.TrimPrefix(text, "yaml: ")
			}
			if text == msg {
				return i + 1
			}
			break
		}
	}
	return 0
}
