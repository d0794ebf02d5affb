package docs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtract(t *testing.T) {
	doc := "intro `kubectl not-a-block`\n" + // 1
		"```sh\n" + // 2
		"make demo     # a comment\n" + // 3
		"# a whole-line comment\n" + // 4
		"\n" + // 5
		"helm install x charts/nodewave \\\n" + // 6
		"  --set 'a={b}' \\\n" + // 7
		"  --set c=d\n" + // 8
		"sed -i 's|^#- ../p|- ../p|' f   # sed's # is quoted\n" + // 9
		"```\n" + // 10
		"```console\n" + // 11
		"$ kubectl get cu\n" + // 12
		"NAME   TARGET\n" + // 13
		"$ echo $?\n" + // 14
		"0\n" + // 15
		"```\n" + // 16
		"```\n" + // 17
		"$ kubectl nodewave status w # plain block, prompt\n" + // 18
		"NODE  ZONE\n" + // 19
		"```\n" + // 20
		"```yaml\n" + // 21
		"$ not: a command\n" + // 22
		"```\n" + // 23
		"  ```sh\n" + // 24
		"  kubectl create clusterrolebinding b \\\n" + // 25
		"    --clusterrole=r\n" + // 26
		"  ```\n" // 27
	want := []Command{
		{"d.md", 3, "make demo"},
		{"d.md", 6, "helm install x charts/nodewave --set 'a={b}' --set c=d"},
		{"d.md", 9, "sed -i 's|^#- ../p|- ../p|' f"},
		{"d.md", 12, "kubectl get cu"},
		{"d.md", 14, "echo $?"},
		{"d.md", 18, "kubectl nodewave status w"},
		{"d.md", 25, "kubectl create clusterrolebinding b --clusterrole=r"},
	}
	if diff := cmp.Diff(want, Extract("d.md", doc)); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

func TestStripComment(t *testing.T) {
	for in, want := range map[string]string{
		"kubectl get pdb -A   # ALLOWED DISRUPTIONS": "kubectl get pdb -A",
		"# all comment":                     "",
		`echo "a # b" # c`:                  `echo "a # b"`,
		"echo a#b":                          "echo a#b",
		"kubectl get cu -o jsonpath='{.a}'": "kubectl get cu -o jsonpath='{.a}'",
	} {
		if got := stripComment(in); got != want {
			t.Errorf("stripComment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDemoLines(t *testing.T) {
	script := `#!/usr/bin/env bash
TARGET="${TARGET:-v1.37.2}"
TARGET_2="${TARGET_2:-v9}"
OTHER="${SOMETHING:-x}"
  # a comment
  kubectl nodewave status "workers-$TARGET" $TARGET_2 ${TARGET} $OTHER
`
	want := []string{
		`TARGET=${TARGET:-v1.37.2}`,
		`TARGET_2=${TARGET_2:-v9}`,
		`OTHER=${SOMETHING:-x}`,
		"kubectl nodewave status workers-v1.37.2 v9 v1.37.2 $OTHER",
	}
	if diff := cmp.Diff(want, DemoLines(script)); diff != "" {
		t.Errorf("DemoLines (-want +got):\n%s", diff)
	}
}

func TestE2ELines(t *testing.T) {
	src := "package e2e\n" +
		"var table = []struct{ line string; n int }{\n" +
		"\t{line: \"kubectl get cu\"},\n" +
		"\t{line: `kubectl get cu <name> -o jsonpath='{.a}'`, n: 1},\n" +
		"}\n" +
		"var other = map[string]string{\"line\": \"not a field\"}\n"
	got, err := E2ELines("x.go", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kubectl get cu", "kubectl get cu <name> -o jsonpath='{.a}'"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("E2ELines (-want +got):\n%s", diff)
	}
}

func TestCover(t *testing.T) {
	r := Runners{
		E2E: map[string]bool{"kubectl get cu <name>": true},
		Demo: []string{
			"kubectl get clusterupgrades -w > >(awk '{print}') &",
			"kubectl nodewave status workers-v1.37.2",
			"kubectl get nodes -o wide | sort",
		},
		HelmDocs: map[string]bool{"docs/helm.md": true},
		Allowed:  map[string]string{"make demo": "it is the demo"},
	}
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{Command{Doc: "a.md", Text: "kubectl get cu <name>"}, "e2e"},
		{Command{Doc: "a.md", Text: "kubectl get cu"}, ""},
		{Command{Doc: "a.md", Text: "kubectl get clusterupgrades -w"}, "demo"},
		{Command{Doc: "a.md", Text: "kubectl nodewave status workers-v1.37.2"}, "demo"},
		{Command{Doc: "a.md", Text: "kubectl get nodes -o wide"}, "demo"},
		// A prefix of a demo line that goes on with arguments is another command.
		{Command{Doc: "a.md", Text: "kubectl get nodes"}, ""},
		{Command{Doc: "a.md", Text: "kubectl nodewave status"}, ""},
		{Command{Doc: "docs/helm.md", Text: "helm install nodewave charts/nodewave"}, "chart"},
		{Command{Doc: "docs/other.md", Text: "helm install nodewave charts/nodewave"}, ""},
		{Command{Doc: "a.md", Text: "make demo"}, "allowed"},
		{Command{Doc: "a.md", Text: "make test"}, ""},
	} {
		if got := r.Cover(tc.c); got != tc.want {
			t.Errorf("Cover(%q in %s) = %q, want %q", tc.c.Text, tc.c.Doc, got, tc.want)
		}
	}
}
