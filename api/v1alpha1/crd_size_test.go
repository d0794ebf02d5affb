package v1alpha1_test

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/nodewave/nodewave/internal/testenv"
)

// crdJSONBudget is how large the CRD may grow, as compact JSON: what a
// plain `kubectl apply -f` stores in the last-applied-configuration
// annotation. The API server refuses more than 262,144 bytes of
// annotations on one object (all of them together); the budget keeps
// 32,144 bytes of them for the other annotations tools add beside it
// (Helm's, Argo CD's tracking id, kustomize's and controller-gen's own),
// and fails a change that grows the CRD towards the limit here rather
// than in a user's apply. The CRD was 203,023 bytes when the budget was
// set; one more embedded pod template, even trimmed, would cross it.
const crdJSONBudget = 230_000

func TestCRDFitsTheClientSideApplyAnnotation(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRD under config/crd/bases: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		compact, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes of YAML, %d bytes of compact JSON (budget %d)", filepath.Base(file), len(data), len(compact), crdJSONBudget)
		if len(compact) > crdJSONBudget {
			t.Errorf("%s is %d bytes of compact JSON, over its budget of %d: a plain `kubectl apply -f` would soon fail "+
				"(annotations are limited to 262,144 bytes); trim it in the Makefile's CRDTRIM paths, or see docs/design-decisions.md",
				filepath.Base(file), len(compact), crdJSONBudget)
		}
	}
}
