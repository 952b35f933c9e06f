package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

func (c *completionCmd) Help() string {
	return `Prints a completion script for the shell, made from fiosync's own commands and flags.
Load it in the shell's start-up file:

  bash:  source <(fiosync completion bash)            (in ~/.bashrc)
  zsh:   source <(fiosync completion zsh)             (in ~/.zshrc)
  fish:  fiosync completion fish | source             (in ~/.config/fish/config.fish)`
}

func (c *completionCmd) Run(io *stdio, k *kong.Context) error {
	cmds := completionTree(k.Model.Node, "")
	switch c.Shell {
	case "bash":
		writeBash(io.Out, cmds)
	case "zsh":
		// zsh runs bash completion functions through bashcompinit.
		fmt.Fprintln(io.Out, "#compdef fiosync")
		fmt.Fprintln(io.Out, "autoload -U +X bashcompinit && bashcompinit")
		writeBash(io.Out, cmds)
	case "fish":
		writeFish(io.Out, cmds)
	}
	return nil
}

// compCommand is one command as completion sees it.
type compCommand struct {
	path  string // "" for fiosync itself, "state rm" for a subcommand
	help  string
	subs  []*compCommand
	flags []compFlag
	files bool // takes positional arguments that are files (a plan file, a state file)
}

// compFlag is one flag: its names, whether it takes a value, and what the value is.
type compFlag struct {
	long  string
	short rune
	help  string
	value bool     // takes a value
	file  bool     // the value is a path
	enum  []string // the value is one of these
}

// completionTree builds command n at path and the commands below it from kong's model, with
// the flags each one accepts, its parents' included.
func completionTree(n *kong.Node, path string) *compCommand {
	c := &compCommand{path: path, help: n.Help}
	for _, group := range n.AllFlags(true) {
		for _, f := range group {
			cf := compFlag{long: f.Name, short: f.Short, help: f.Help, value: !f.IsBool() && !f.IsCounter()}
			if cf.value {
				if f.Enum != "" {
					cf.enum = f.EnumSlice()
				}
				cf.file = len(cf.enum) == 0 && (isPathFlag(f.Tag.Type, f.Name) || isPathFlag("", f.PlaceHolder))
			}
			c.flags = append(c.flags, cf)
		}
	}
	for _, p := range n.Positional {
		if isPathFlag(p.Tag.Type, p.Name) {
			c.files = true
		}
	}
	for _, child := range n.Children {
		if child.Type == kong.CommandNode && !child.Hidden {
			c.subs = append(c.subs, completionTree(child, strings.TrimSpace(path+" "+child.Name)))
		}
	}
	return c
}

// isPathFlag reports whether a flag or argument names a file, by its kong type or its name.
func isPathFlag(typ, name string) bool {
	if strings.Contains(typ, "path") || strings.Contains(typ, "file") || strings.Contains(typ, "dir") {
		return true
	}
	name = strings.ToLower(name)
	return strings.Contains(name, "file") || strings.Contains(name, "path") || name == "dir"
}

// walk calls fn for c and every command below it, parents first.
func (c *compCommand) walk(fn func(*compCommand)) {
	fn(c)
	for _, s := range c.subs {
		s.walk(fn)
	}
}

func (c *compCommand) subNames() []string {
	var out []string
	for _, s := range c.subs {
		out = append(out, s.path[strings.LastIndexByte(s.path, ' ')+1:])
	}
	return out
}

// writeBash writes a bash completion function: it finds the command among the words so far,
// then offers that command's subcommands, flags or a flag's values.
func writeBash(w io.Writer, root *compCommand) {
	fmt.Fprint(w, `# fiosync completion for bash (and zsh through bashcompinit): fiosync completion bash
_fiosync() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local path="" i word skip=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then skip=""; continue; fi
        case "$path|$word" in
`)
	// A word that is a subcommand of the path so far extends the path.
	root.walk(func(c *compCommand) {
		for _, s := range c.subNames() {
			fmt.Fprintf(w, "            %s) path=%s ;;\n", shQuote(c.path+"|"+s), shQuote(strings.TrimSpace(c.path+" "+s)))
		}
	})
	fmt.Fprint(w, `            *)
                case "$path|$word" in
`)
	// A flag that takes a value makes the next word its value, not a command.
	root.walk(func(c *compCommand) {
		var names []string
		for _, f := range c.flags {
			if f.value {
				names = append(names, shQuote(c.path+"|--"+f.long))
				if f.short != 0 {
					names = append(names, shQuote(c.path+"|-"+string(f.short)))
				}
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(w, "                    %s) skip=1 ;;\n", strings.Join(names, "|"))
		}
	})
	fmt.Fprint(w, `                esac ;;
        esac
    done
    case "$path|$prev" in
`)
	root.walk(func(c *compCommand) {
		for _, f := range c.flags {
			if !f.value {
				continue
			}
			names := shQuote(c.path + "|--" + f.long)
			if f.short != 0 {
				names += "|" + shQuote(c.path+"|-"+string(f.short))
			}
			switch {
			case len(f.enum) > 0:
				fmt.Fprintf(w, "        %s) COMPREPLY=($(compgen -W %s -- \"$cur\")); return ;;\n", names, shQuote(strings.Join(f.enum, " ")))
			case f.file:
				fmt.Fprintf(w, "        %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", names)
			default:
				fmt.Fprintf(w, "        %s) COMPREPLY=(); return ;;\n", names)
			}
		}
	})
	fmt.Fprint(w, `    esac
    case "$path" in
`)
	root.walk(func(c *compCommand) {
		var flags []string
		for _, f := range c.flags {
			flags = append(flags, "--"+f.long)
			if f.short != 0 {
				flags = append(flags, "-"+string(f.short))
			}
		}
		slices.Sort(flags)
		fmt.Fprintf(w, "        %s)\n", shQuote(c.path))
		fmt.Fprintf(w, "            if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W %s -- \"$cur\")); return; fi\n", shQuote(strings.Join(flags, " ")))
		switch {
		case len(c.subs) > 0:
			fmt.Fprintf(w, "            COMPREPLY=($(compgen -W %s -- \"$cur\")) ;;\n", shQuote(strings.Join(c.subNames(), " ")))
		case c.files:
			fmt.Fprint(w, "            COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n")
		default:
			fmt.Fprint(w, "            COMPREPLY=() ;;\n")
		}
	})
	fmt.Fprint(w, `    esac
}
complete -o default -F _fiosync fiosync
`)
}

// writeFish writes fish completions: one complete line per subcommand and per flag, each
// under a condition on the subcommands seen so far.
func writeFish(w io.Writer, root *compCommand) {
	fmt.Fprintln(w, "# fiosync completion for fish: fiosync completion fish | source")
	fmt.Fprintln(w, "complete -c fiosync -f")
	root.walk(func(c *compCommand) {
		cond := fishCondition(c)
		for _, s := range c.subs {
			fmt.Fprintf(w, "complete -c fiosync -n %s -a %s -d %s\n", fishQuote(cond), fishQuote(s.path[strings.LastIndexByte(s.path, ' ')+1:]), fishQuote(firstLine(s.help)))
		}
		for _, f := range c.flags {
			line := "complete -c fiosync -n " + fishQuote(cond) + " -l " + f.long
			if f.short != 0 {
				line += " -s " + string(f.short)
			}
			switch {
			case len(f.enum) > 0:
				line += " -x -a " + fishQuote(strings.Join(f.enum, " "))
			case f.file:
				line += " -r -F"
			case f.value:
				line += " -x"
			}
			fmt.Fprintln(w, line+" -d "+fishQuote(firstLine(f.help)))
		}
		if c.files && len(c.subs) == 0 {
			fmt.Fprintf(w, "complete -c fiosync -n %s -F\n", fishQuote(cond))
		}
	})
}

// fishCondition is true when the words so far select exactly command c: each word of its
// path seen, and none of its subcommands yet.
func fishCondition(c *compCommand) string {
	var parts []string
	if c.path == "" {
		parts = append(parts, "__fish_use_subcommand")
	} else {
		for _, word := range strings.Fields(c.path) {
			parts = append(parts, "__fish_seen_subcommand_from "+word)
		}
		if subs := c.subNames(); len(subs) > 0 {
			parts = append(parts, "not __fish_seen_subcommand_from "+strings.Join(subs, " "))
		}
	}
	return strings.Join(parts, "; and ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// shQuote quotes s for sh: in single quotes, each quote inside closed, escaped and reopened.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fishQuote quotes s for fish: single quotes, with \ and ' escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
