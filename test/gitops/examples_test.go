package gitops

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The defaults the CRD gives the durations of one node's upgrade.
const (
	defaultDrainTimeout   = 10 * time.Minute
	defaultUpgradeTimeout = 30 * time.Minute
	defaultSoak           = 30 * time.Second
)

// decodeStrict reads a YAML file into out, refusing fields out's type does
// not have: a misspelled Flux field fails here rather than being dropped
// by the API server.
func decodeStrict(t *testing.T, path string, out any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// buildClusterUpgrades runs kustomize on dir, as Flux and Argo CD do, and
// decodes what it yields as ClusterUpgrades, strictly.
func buildClusterUpgrades(t *testing.T, dir string) []*upgradev1alpha1.ClusterUpgrade {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	cus := make([]*upgradev1alpha1.ClusterUpgrade, 0, resources.Size())
	for _, r := range resources.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		cu := &upgradev1alpha1.ClusterUpgrade{}
		if err := yaml.UnmarshalStrict(data, cu); err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		if cu.APIVersion != upgradev1alpha1.GroupVersion.String() || cu.Kind != "ClusterUpgrade" {
			t.Fatalf("%s yields a %s %s; the example holds ClusterUpgrades only", dir, cu.APIVersion, cu.Kind)
		}
		cus = append(cus, cu)
	}
	if len(cus) == 0 {
		t.Fatalf("%s yields no ClusterUpgrade", dir)
	}
	return cus
}

// oneNodeAtMost is the longest one node may take before nodewave fails it:
// its drain, its upgrade and its soak.
func oneNodeAtMost(cu *upgradev1alpha1.ClusterUpgrade) time.Duration {
	or := func(d *metav1.Duration, def time.Duration) time.Duration {
		if d == nil {
			return def
		}
		return d.Duration
	}
	return or(cu.Spec.Drain.Timeout, defaultDrainTimeout) + or(cu.Spec.Upgrade.Timeout, defaultUpgradeTimeout) +
		or(cu.Spec.Health.SoakDuration, defaultSoak)
}

// TestFluxExample checks config/flux against the Flux API types and the
// rules docs/gitops.md gives: the Kustomization reads the GitRepository,
// waits for health with a timeout sized for a long upgrade, and the
// ClusterUpgrades it applies are never pruned.
func TestFluxExample(t *testing.T) {
	repo := &sourcev1.GitRepository{}
	decodeStrict(t, repoRoot+"/config/flux/gitrepository.yaml", repo)
	ks := &kustomizev1.Kustomization{}
	decodeStrict(t, repoRoot+"/config/flux/node-upgrades.yaml", ks)

	if repo.APIVersion != sourcev1.GroupVersion.String() || repo.Kind != sourcev1.GitRepositoryKind {
		t.Errorf("gitrepository.yaml is a %s %s", repo.APIVersion, repo.Kind)
	}
	if repo.Spec.URL == "" || repo.Spec.Interval.Duration <= 0 {
		t.Errorf("the GitRepository needs a url and an interval: %+v", repo.Spec)
	}
	if ks.APIVersion != kustomizev1.GroupVersion.String() || ks.Kind != kustomizev1.KustomizationKind {
		t.Errorf("node-upgrades.yaml is a %s %s", ks.APIVersion, ks.Kind)
	}
	ref := ks.Spec.SourceRef
	if ref.Kind != sourcev1.GitRepositoryKind || ref.Name != repo.Name || (ref.Namespace != "" && ref.Namespace != repo.Namespace) ||
		ks.Namespace != repo.Namespace {
		t.Errorf("the Kustomization's sourceRef %+v does not name the GitRepository %s/%s", ref, repo.Namespace, repo.Name)
	}
	if ks.Spec.Interval.Duration <= 0 {
		t.Error("the Kustomization has no interval")
	}
	if !ks.Spec.Wait {
		t.Error("the Kustomization must wait: true, or Flux reports Ready before any node is upgraded")
	}
	if ks.Spec.Timeout == nil {
		t.Fatal("the Kustomization has no timeout: it would default to its interval, far shorter than an upgrade")
	}
	if !ks.Spec.Prune {
		t.Error("the example shows prune: true with the ClusterUpgrade opted out")
	}

	cus := buildClusterUpgrades(t, filepath.Join(repoRoot, ks.Spec.Path))
	for _, cu := range cus {
		if cu.Annotations["kustomize.toolkit.fluxcd.io/prune"] != "disabled" {
			t.Errorf("ClusterUpgrade %s can be pruned: annotate it kustomize.toolkit.fluxcd.io/prune: disabled", cu.Name)
		}
		// Even one wave of nodes may take this long; a timeout shorter than
		// that fails the health check of every healthy upgrade.
		if ks.Spec.Timeout.Duration < oneNodeAtMost(cu) || ks.Spec.Timeout.Duration < time.Hour {
			t.Errorf("timeout %s is shorter than one node of %s may take (%s), or than an hour",
				ks.Spec.Timeout.Duration, cu.Name, oneNodeAtMost(cu))
		}
	}
}

// application is the part of an Argo CD Application the example uses.
// Decoding strictly into it catches a misspelled field.
type application struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Project string `json:"project"`
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision"`
			Path           string `json:"path"`
		} `json:"source"`
		Destination struct {
			Server string `json:"server"`
		} `json:"destination"`
		SyncPolicy struct {
			Automated struct {
				Prune    bool `json:"prune"`
				SelfHeal bool `json:"selfHeal"`
			} `json:"automated"`
		} `json:"syncPolicy"`
	} `json:"spec"`
}

// TestArgoCDExample checks config/argocd/application.yaml: it syncs a
// directory of ClusterUpgrades that Argo CD never prunes nor deletes with
// the Application.
func TestArgoCDExample(t *testing.T) {
	app := &application{}
	decodeStrict(t, repoRoot+"/config/argocd/application.yaml", app)
	if app.APIVersion != "argoproj.io/v1alpha1" || app.Kind != "Application" {
		t.Errorf("application.yaml is a %s %s", app.APIVersion, app.Kind)
	}
	if app.Spec.Project == "" || app.Spec.Source.RepoURL == "" || app.Spec.Destination.Server == "" {
		t.Errorf("the Application needs a project, a repoURL and a destination: %+v", app.Spec)
	}
	for _, cu := range buildClusterUpgrades(t, filepath.Join(repoRoot, app.Spec.Source.Path)) {
		if got := cu.Annotations["argocd.argoproj.io/sync-options"]; got != "Prune=false,Delete=false" {
			t.Errorf("ClusterUpgrade %s has sync-options %q, want Prune=false,Delete=false", cu.Name, got)
		}
	}
}

// TestExamplesApplyTheSameUpgrade keeps the two examples' ClusterUpgrades
// equal but for the annotation that protects them from their own tool.
func TestExamplesApplyTheSameUpgrade(t *testing.T) {
	flux := buildClusterUpgrades(t, repoRoot+"/config/flux/node-upgrades")
	argo := buildClusterUpgrades(t, repoRoot+"/config/argocd/node-upgrades")
	if len(flux) != len(argo) {
		t.Fatalf("flux has %d ClusterUpgrades, argocd %d", len(flux), len(argo))
	}
	for i := range flux {
		if flux[i].Name != argo[i].Name || !equality.Semantic.DeepEqual(flux[i].Spec, argo[i].Spec) {
			t.Errorf("the examples differ: %s and %s", flux[i].Name, argo[i].Name)
		}
	}
}
