package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadClusterUpgrade(t *testing.T) {
	const good = `# a comment before the object
apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata:
  name: workers
spec:
  targetVersion: v1.37.2
  strategy:
    type: Concurrent
    maxUnavailable: 25%
`
	for _, tc := range []struct {
		name, data, wantErr string
	}{
		{name: "one ClusterUpgrade", data: good},
		{name: "with empty documents around it", data: "---\n# nothing\n---\n" + good + "---\n"},
		{name: "JSON", data: `{"apiVersion":"upgrade.nodewave.io/v1alpha1","kind":"ClusterUpgrade","metadata":{"name":"workers"},` +
			`"spec":{"targetVersion":"v1.37.2","strategy":{"type":"Concurrent","maxUnavailable":"25%"}}}`},
		{name: "an unknown field", data: strings.Replace(good, "  strategy:", "  stratgy:", 1), wantErr: `unknown field "spec.stratgy"`},
		{name: "another kind", data: strings.Replace(good, "kind: ClusterUpgrade", "kind: Node", 1),
			wantErr: `apiVersion and kind are "upgrade.nodewave.io/v1alpha1" and "Node", not "upgrade.nodewave.io/v1alpha1" and "ClusterUpgrade"`},
		{name: "two objects", data: good + "---\n" + good, wantErr: "holds 2 objects; plan reads exactly one ClusterUpgrade"},
		{name: "nothing", data: "# just a comment\n", wantErr: "holds 0 objects"},
		{name: "no name", data: strings.Replace(good, "  name: workers\n", "  labels: {a: b}\n", 1), wantErr: "metadata.name: Required value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cu.yaml")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			cu, err := readClusterUpgrade(path, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), path+": ") {
					t.Fatalf("error = %v, want one naming the file and saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cu.Name != "workers" || cu.Spec.TargetVersion != "v1.37.2" || cu.Spec.Strategy.MaxUnavailable.String() != "25%" {
				t.Fatalf("read %+v", cu)
			}
		})
	}
}

func TestReadClusterUpgradeFromStdin(t *testing.T) {
	cu, err := readClusterUpgrade("-", strings.NewReader(
		"apiVersion: upgrade.nodewave.io/v1alpha1\nkind: ClusterUpgrade\nmetadata: {name: piped}\nspec: {targetVersion: v1.37.2}\n"))
	if err != nil || cu.Name != "piped" {
		t.Fatalf("read %+v, %v", cu, err)
	}
}
