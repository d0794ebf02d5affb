package chart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// schemaLeaves lists the dotted paths of the values that values.schema.json
// describes, down to the values it treats as a whole (resources, lists).
func schemaLeaves(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir(), "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		Properties map[string]*node `json:"properties"`
	}
	var root node
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	var leaves []string
	var walk func(prefix string, n *node)
	walk = func(prefix string, n *node) {
		if len(n.Properties) == 0 {
			leaves = append(leaves, prefix)
			return
		}
		for name, child := range n.Properties {
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			walk(path, child)
		}
	}
	walk("", &root)
	sort.Strings(leaves)
	return leaves
}

// TestEveryValueHasADefaultAndADoc: every value the schema knows has a
// default in values.yaml (so `helm show values` shows it) and a row in
// docs/helm.md. (The schema refuses keys it does not know, and the
// rendering tests render values.yaml, so values.yaml holds no other key.)
func TestEveryValueHasADefaultAndADoc(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(data, &defaults); err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "helm.md"))
	if err != nil {
		t.Fatal(err)
	}
	leaves := schemaLeaves(t)
	if len(leaves) < 20 {
		t.Fatalf("only %d values found in values.schema.json: %v", len(leaves), leaves)
	}
	for _, path := range leaves {
		var v any = defaults
		for _, part := range strings.Split(path, ".") {
			m, _ := v.(map[string]any)
			var ok bool
			if v, ok = m[part]; !ok {
				t.Errorf("values.yaml has no default for %s", path)
				break
			}
		}
		if !strings.Contains(string(docs), "| `"+path+"` |") {
			t.Errorf("docs/helm.md's table has no row for %s", path)
		}
	}
}

// helmCommand is one `helm` command line of the docs.
type helmCommand struct {
	doc, line        string
	verb, release    string
	chart, namespace string
	values           map[string]any
	createNamespace  bool
}

// docHelmCommands reads the `helm` command lines of the sh code blocks of
// a doc (continuation lines joined), and parses their arguments as the
// helm CLI does; --set as Helm's strvals parses it. A flag it does not
// know fails the test: the docs show only what the tests can run.
func docHelmCommands(t *testing.T, doc string) []helmCommand {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), doc))
	if err != nil {
		t.Fatal(err)
	}
	var commands []helmCommand
	inBlock, line := false, ""
	for _, raw := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(raw, "```sh"):
			inBlock = true
			continue
		case strings.HasPrefix(raw, "```"):
			inBlock = false
			continue
		case !inBlock:
			continue
		}
		line += strings.TrimSpace(raw)
		if strings.HasSuffix(line, "\\") {
			line = strings.TrimSuffix(line, "\\") + " "
			continue
		}
		if strings.HasPrefix(line, "helm ") {
			commands = append(commands, parseHelm(t, doc, line))
		}
		line = ""
	}
	return commands
}

// parseHelm parses one helm command line.
func parseHelm(t *testing.T, doc, line string) helmCommand {
	t.Helper()
	words := shellWords(t, line)
	if i := slices.Index(words, ">"); i >= 0 {
		words = words[:i]
	}
	if i := slices.IndexFunc(words, func(w string) bool { return strings.HasPrefix(w, "#") }); i >= 0 {
		words = words[:i]
	}
	c := helmCommand{doc: doc, line: line, verb: words[1], values: map[string]any{}}
	var positional []string
	for i := 2; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-n" || w == "--namespace":
			i++
			c.namespace = words[i]
		case w == "--set":
			i++
			if err := strvals.ParseInto(words[i], c.values); err != nil {
				t.Errorf("%s: %q: --set %s: %v", doc, line, words[i], err)
			}
		case w == "--create-namespace":
			c.createNamespace = true
		case strings.HasPrefix(w, "-"):
			t.Errorf("%s: %q: the docs test does not know flag %s", doc, line, w)
		default:
			positional = append(positional, w)
		}
	}
	if len(positional) > 0 {
		c.release = positional[0]
	}
	if len(positional) > 1 {
		c.chart = positional[1]
	}
	return c
}

// shellWords splits a command line as sh would, for the quoting the docs
// use ('...' and "...").
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// TestDocsHelmCommandsRun: every helm command of the README and
// docs/helm.md is one the tests run. install and template render the
// chart with the command's release, namespace and --set values (through
// Helm's --set parser and the values schema); the README shows the brief's
// two commands, which TestHelmOnAnAPIServer and
// TestChartInstallsWhatKustomizeInstalls run against an API server and
// config/default.
func TestDocsHelmCommandsRun(t *testing.T) {
	c := loadChart(t)
	seen := map[string]bool{}
	for _, doc := range []string{"README.md", filepath.Join("docs", "helm.md")} {
		commands := docHelmCommands(t, doc)
		if len(commands) == 0 {
			t.Errorf("%s shows no helm command", doc)
		}
		for _, cmd := range commands {
			seen[cmd.line] = true
			if cmd.release != "nodewave" || cmd.namespace != "nodewave-system" {
				t.Errorf("%s: %q: want release nodewave in namespace nodewave-system, as the tests run it", doc, cmd.line)
			}
			switch cmd.verb {
			case "install", "template", "upgrade":
				if cmd.chart != "charts/nodewave" {
					t.Errorf("%s: %q: chart %q, want charts/nodewave", doc, cmd.line, cmd.chart)
				}
				if _, err := renderChart(c, cmd.release, cmd.namespace, cmd.values); err != nil {
					t.Errorf("%s: %q does not render: %v", doc, cmd.line, err)
				}
				if cmd.verb == "install" && !cmd.createNamespace {
					t.Errorf("%s: %q: without --create-namespace the namespace must exist", doc, cmd.line)
				}
			case "uninstall":
			default:
				t.Errorf("%s: %q: the docs test does not know helm %s", doc, cmd.line, cmd.verb)
			}
		}
	}
	for _, line := range []string{
		"helm install nodewave charts/nodewave -n nodewave-system --create-namespace",
		"helm template nodewave charts/nodewave -n nodewave-system --set namespace.create=true > nodewave.yaml",
	} {
		if !seen[line] {
			t.Errorf("the docs do not show %q", line)
		}
	}
}
