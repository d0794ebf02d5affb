package docs

import (
	"strings"
)

// Command is one command line shown in a document: continuation lines
// joined, its trailing comment removed.
type Command struct {
	// Doc is the document's path, relative to the repository root.
	Doc string
	// Line is the 1-based line of the document where the command starts.
	Line int
	// Text is the command as a shell would read it, on one line.
	Text string
}

// shellLanguages are the info strings of fenced blocks whose every line is
// a command. In a console block or a block without a language, only lines
// that start with a "$ " prompt are commands; the rest is their output.
var shellLanguages = map[string]bool{"sh": true, "bash": true, "shell": true}

// Extract returns the commands of a Markdown document, in order.
func Extract(doc string, markdown string) []Command {
	var (
		out     []Command
		inBlock bool
		lang    string
		pending *Command // a command continued on the next line
	)
	for i, raw := range strings.Split(markdown, "\n") {
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(trimmed, "```") {
			if inBlock {
				inBlock, pending = false, nil
			} else {
				inBlock, lang = true, strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			}
			continue
		}
		if !inBlock {
			continue
		}
		var text string
		switch {
		case pending != nil:
			text = trimmed
		case shellLanguages[lang]:
			text = trimmed
		case (lang == "console" || lang == "") && strings.HasPrefix(trimmed, "$ "):
			text = strings.TrimSpace(strings.TrimPrefix(trimmed, "$ "))
		default:
			continue
		}
		text, continued := strings.CutSuffix(stripComment(text), `\`)
		text = strings.TrimSpace(text)
		if pending == nil {
			if text == "" {
				continue
			}
			out = append(out, Command{Doc: doc, Line: i + 1, Text: text})
			pending = &out[len(out)-1]
		} else if text != "" {
			pending.Text += " " + text
		}
		if !continued {
			pending = nil
		}
	}
	return out
}

// stripComment removes a shell comment: a # that starts a word outside
// quotes, and everything after it.
func stripComment(line string) string {
	var quote rune
	prev := ' '
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (prev == ' ' || prev == '\t'):
			return strings.TrimRight(line[:i], " \t")
		}
		prev = r
	}
	return line
}
