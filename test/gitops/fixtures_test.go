package gitops

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// repoRoot is the repository root, from this package's directory.
const repoRoot = "../.."

// healthDir is the Argo CD health check of ClusterUpgrade, in Argo CD's
// resource_customizations layout: health.lua, health_test.yaml and the
// testdata its cases read, which are also the fixtures recorded here.
const healthDir = repoRoot + "/config/argocd/resource_customizations/upgrade.nodewave.io/ClusterUpgrade"

// phase is one recorded ClusterUpgrade and how each GitOps tool must read it.
type phase struct {
	fixture string        // healthDir/testdata/<fixture>.yaml
	kstatus status.Status // Flux, kubectl wait, cli-utils
	// message is the condition whose message Argo CD must show; "" for
	// the waiting-for-the-controller message. The health status Argo CD
	// must show is in health_test.yaml.
	message string
}

// phases are the fixtures that internal/controller's GitOps spec records
// from the real reconciler, one per phase a GitOps tool sees.
var phases = []phase{
	{fixture: "new", kstatus: status.InProgressStatus},
	{fixture: "progressing", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "outside-window", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "paused", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "generation-ahead", kstatus: status.InProgressStatus},
	{fixture: "failed", kstatus: status.FailedStatus, message: "Stalled"},
	{fixture: "stalled", kstatus: status.FailedStatus, message: "Stalled"},
	{fixture: "succeeded", kstatus: status.CurrentStatus, message: "Ready"},
	{fixture: "canary-soaking", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "canary-paused", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "canary-failed", kstatus: status.FailedStatus, message: "Stalled"},
	{fixture: "gated", kstatus: status.InProgressStatus, message: "Ready"},
	{fixture: "gated-stalled", kstatus: status.FailedStatus, message: "Stalled"},
}

// loadFixture reads a recorded ClusterUpgrade as a GitOps tool gets it from
// the API server: unstructured, integers as int64.
func loadFixture(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(healthDir, "testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return decodeObject(t, data)
}

func decodeObject(t *testing.T, data []byte) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	return u
}

// typed converts a fixture to the API type, strictly: a fixture the types
// no longer describe fails here rather than passing unread.
func typed(t *testing.T, u *unstructured.Unstructured) *upgradev1alpha1.ClusterUpgrade {
	t.Helper()
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, cu, true); err != nil {
		t.Fatalf("%s: %v", u.GetName(), err)
	}
	return cu
}

// conditionMessage is the message of the named condition of u.
func conditionMessage(t *testing.T, u *unstructured.Unstructured, conditionType string) string {
	t.Helper()
	c := meta.FindStatusCondition(typed(t, u).Status.Conditions, conditionType)
	if c == nil {
		t.Fatalf("%s has no %s condition", u.GetName(), conditionType)
	}
	return c.Message
}

// TestFixturesCoverEveryPhase checks that the recorded fixtures hold what
// their names say, so a re-recording that went wrong is caught here.
func TestFixturesCoverEveryPhase(t *testing.T) {
	seen := map[upgradev1alpha1.Phase]bool{}
	for _, p := range phases {
		cu := typed(t, loadFixture(t, p.fixture))
		seen[cu.Status.Phase] = true
		behind := cu.Status.ObservedGeneration != cu.Generation
		if want := p.fixture == "new" || p.fixture == "generation-ahead"; behind != want {
			t.Errorf("%s: observedGeneration %d, generation %d", p.fixture, cu.Status.ObservedGeneration, cu.Generation)
		}
	}
	for _, ph := range []upgradev1alpha1.Phase{
		upgradev1alpha1.PhasePending, upgradev1alpha1.PhaseProgressing, upgradev1alpha1.PhasePaused,
		upgradev1alpha1.PhaseSucceeded, upgradev1alpha1.PhaseFailed,
	} {
		if !seen[ph] {
			t.Errorf("no fixture in phase %s", ph)
		}
	}
	if cu := typed(t, loadFixture(t, "new")); cu.Status.ObservedGeneration != -1 {
		t.Errorf("the new object's observedGeneration is %d, want -1", cu.Status.ObservedGeneration)
	}
}

// TestKstatusReadsEveryPhase is what Flux's health checks and `kubectl
// wait --for=jsonpath` users see: kstatus computed on each recorded phase.
func TestKstatusReadsEveryPhase(t *testing.T) {
	for _, p := range phases {
		t.Run(p.fixture, func(t *testing.T) {
			res, err := status.Compute(loadFixture(t, p.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != p.kstatus {
				t.Fatalf("kstatus %s (%s), want %s", res.Status, res.Message, p.kstatus)
			}
		})
	}
}
