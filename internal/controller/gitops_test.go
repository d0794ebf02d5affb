package controller

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/testenv"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// updateFixturesEnv names the variable that makes the GitOps spec rewrite
// the status fixtures (the testdata of the Argo CD health check,
// config/argocd/resource_customizations/upgrade.nodewave.io/ClusterUpgrade)
// from what the reconciler wrote, instead of comparing them.
const updateFixturesEnv = "NODEWAVE_UPDATE_FIXTURES"

// The phases a GitOps tool sees, each from the real reconciler: what kstatus
// (Flux, `kubectl wait`, cli-utils) computes from it, and a fixture of it
// for the Argo CD health check's health_test.yaml (run by test/gitops),
// which must read the same objects the same way.
var _ = Describe("GitOps health of a ClusterUpgrade (kstatus)", func() {
	It("reads right in every phase, and matches the recorded fixtures", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "gitops", 2)
		kubelet.set(nodes[0], nodeagent.Behaviour{Never: true}) // stays upgrading until the test says

		By("a new object, before the first reconcile: observedGeneration -1")
		stopManagerBriefly(func() {
			createCU(ctx, newCU("gitops", "gitops"))
			cu := getCU(ctx, "gitops")
			Expect(cu.Status.ObservedGeneration).To(BeEquivalentTo(-1), "the CRD defaults it")
			Expect(cu.Status.Phase).To(BeEmpty())
			Expect(kstatusOf(Default, cu)).To(Equal(status.InProgressStatus))
			matchFixture("new", cu)
		})

		By("Progressing: a node in flight")
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "gitops")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseProgressing))
			g.Expect(cu.Status.UpgradingNodes).To(BeEquivalentTo(1))
			g.Expect(cu.Status.InProgress).To(ConsistOf(HaveField("State", upgradev1alpha1.NodeUpgrading)))
			g.Expect(kstatusOf(g, cu)).To(Equal(status.InProgressStatus))
		}).Should(Succeed())
		matchFixture("progressing", getCU(ctx, "gitops"))

		By("Paused: kstatus InProgress (Ready is False: the nodes are not all upgraded); Argo CD reads it as Suspended")
		updateCU(ctx, "gitops", func(c *upgradev1alpha1.ClusterUpgrade) { c.Spec.Paused = true })
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "gitops")
			g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation))
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePaused))
			g.Expect(kstatusOf(g, cu)).To(Equal(status.InProgressStatus))
		}).Should(Succeed())
		matchFixture("paused", getCU(ctx, "gitops"))

		By("a spec change not yet observed: generation ahead of observedGeneration")
		stopManagerBriefly(func() {
			updateCU(ctx, "gitops", func(c *upgradev1alpha1.ClusterUpgrade) {
				c.Spec.Paused = false
				c.Spec.Upgrade.Timeout = &metav1.Duration{Duration: time.Second}
			})
			cu := getCU(ctx, "gitops")
			Expect(cu.Generation).To(BeNumerically(">", cu.Status.ObservedGeneration))
			Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePaused), "the status still describes the old spec")
			Expect(kstatusOf(Default, cu)).To(Equal(status.InProgressStatus))
			matchFixture("generation-ahead", cu)
		})

		By("Failed: the node outlives upgrade.timeout, and the upgrade halts")
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "gitops")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
			g.Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
			g.Expect(kstatusOf(g, cu)).To(Equal(status.FailedStatus))
		}).Should(Succeed())
		matchFixture("failed", getCU(ctx, "gitops"))

		By("Succeeded: a spec change retries the failed node")
		kubelet.set(nodes[0], nodeagent.Behaviour{})
		updateCU(ctx, "gitops", func(c *upgradev1alpha1.ClusterUpgrade) {
			c.Spec.Upgrade.Timeout = &metav1.Duration{Duration: time.Minute}
		})
		matchFixture("succeeded", expectSucceeded(ctx, "gitops", nodes))

		By("Stalled before any node is touched: phase Pending, kstatus Failed")
		createCU(ctx, newCU("gitops-nonodes", "gitops-no-such-pool"))
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "gitops-nonodes")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePending))
			g.Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionStalled)).
				To(HaveField("Reason", upgradev1alpha1.ReasonNoNodes))
			g.Expect(kstatusOf(g, cu)).To(Equal(status.FailedStatus))
		}).Should(Succeed())
		matchFixture("stalled", getCU(ctx, "gitops-nonodes"))

		By("waiting for its maintenance window: Pending and Reconciling, kstatus InProgress")
		makeNodes(ctx, "gitops-window", 1)
		windowed := newCU("gitops-window", "gitops-window")
		opens := time.Now().UTC().Add(2 * time.Hour)
		windowed.Spec.Window = &upgradev1alpha1.MaintenanceWindow{
			Start: opens.Format("15:04"), End: opens.Add(time.Hour).Format("15:04"), TimeZone: "UTC",
		}
		createCU(ctx, windowed)
		Eventually(func(g Gomega) {
			cu := getCU(ctx, "gitops-window")
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhasePending))
			g.Expect(meta.FindStatusCondition(cu.Status.Conditions, upgradev1alpha1.ConditionReconciling)).
				To(HaveField("Reason", upgradev1alpha1.ReasonOutsideWindow))
			g.Expect(kstatusOf(g, cu)).To(Equal(status.InProgressStatus))
		}).Should(Succeed())
		matchFixture("outside-window", getCU(ctx, "gitops-window"))
	})

	It("admits the ClusterUpgrades of the Argo CD and Flux examples", func(ctx SpecContext) {
		for _, file := range []string{"config/argocd/node-upgrades/workers.yaml", "config/flux/node-upgrades/workers.yaml"} {
			data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), file))
			Expect(err).NotTo(HaveOccurred())
			cu := &upgradev1alpha1.ClusterUpgrade{}
			Expect(yaml.UnmarshalStrict(data, cu)).To(Succeed(), file)
			Expect(env.Client.Create(ctx, cu, client.DryRunAll)).To(Succeed(), file)
		}
	})
})

// A GitOps tool compares the spec it applied with the live one: the
// reconciler must not rewrite it.
var _ = Describe("the spec as applied (GitOps drift)", func() {
	It("is left as written: the finalizer is patched alone, and the generation stays 1", func(ctx SpecContext) {
		applied := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": upgradev1alpha1.GroupVersion.String(), "kind": "ClusterUpgrade",
			"metadata": map[string]any{"name": "gitops-as-applied"},
			"spec": map[string]any{
				"targetVersion": targetVersion,
				"nodeSelector":  map[string]any{"matchLabels": map[string]any{poolLabel: "gitops-as-applied"}},
				"drain":         map[string]any{"timeout": "10m"},
				"upgrade":       map[string]any{"type": "External", "timeout": "1h"},
			},
		}}
		Expect(env.Client.Create(ctx, applied)).To(Succeed())
		DeferCleanup(func(ctx context.Context) {
			Expect(client.IgnoreNotFound(env.Client.Delete(ctx, applied))).To(Succeed())
		})
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(applied.GroupVersionKind())
		Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(applied), live)).To(Succeed())
			g.Expect(live.GetFinalizers()).To(ContainElement(upgradev1alpha1.Finalizer))
			observed, _, _ := unstructured.NestedInt64(live.Object, "status", "observedGeneration")
			g.Expect(observed).To(BeNumerically(">=", 1), "reconciled")
		}).Should(Succeed())
		Expect(live.GetGeneration()).To(BeEquivalentTo(1), "the spec was written back")
		Expect(live.Object["spec"]).To(HaveKeyWithValue("drain", HaveKeyWithValue("timeout", "10m")))
		Expect(live.Object["spec"]).To(HaveKeyWithValue("upgrade", HaveKeyWithValue("timeout", "1h")))
	})
})

// fixturePath is where the fixture of a phase lives.
func fixturePath(name string) string {
	return filepath.Join(testenv.RepoRoot(), "config", "argocd", "resource_customizations",
		"upgrade.nodewave.io", "ClusterUpgrade", "testdata", name+".yaml")
}

// matchFixture checks that cu, as the reconciler wrote it, has the shape of
// the recorded fixture: the phase, how observedGeneration stands to
// generation, the conditions' types, statuses and reasons, and the counts.
// Times and messages may differ. With NODEWAVE_UPDATE_FIXTURES=1 it writes
// the fixture from cu instead.
func matchFixture(name string, cu *upgradev1alpha1.ClusterUpgrade) {
	GinkgoHelper()
	path := fixturePath(name)
	if os.Getenv(updateFixturesEnv) != "" {
		Expect(os.WriteFile(path, fixtureYAML(cu), 0o644)).To(Succeed())
		return
	}
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "no fixture: run `%s=1 make test-integration`", updateFixturesEnv)
	recorded := &upgradev1alpha1.ClusterUpgrade{}
	Expect(yaml.UnmarshalStrict(data, recorded)).To(Succeed(), path)
	Expect(statusShape(cu)).To(Equal(statusShape(recorded)),
		"%s no longer matches what the reconciler writes; if that is intended, regenerate it with `%s=1 make test-integration` "+
			"and check test/gitops (Argo CD's health check, health_test.yaml) still passes", path, updateFixturesEnv)
}

// fixtureYAML is cu as a GitOps tool reads it, without the fields that only
// identify one API server's copy (uid, resourceVersion, managedFields).
func fixtureYAML(cu *upgradev1alpha1.ClusterUpgrade) []byte {
	GinkgoHelper()
	out := &upgradev1alpha1.ClusterUpgrade{
		TypeMeta: metav1.TypeMeta{APIVersion: upgradev1alpha1.GroupVersion.String(), Kind: "ClusterUpgrade"},
		ObjectMeta: metav1.ObjectMeta{
			Name: cu.Name, Generation: cu.Generation, Finalizers: cu.Finalizers, CreationTimestamp: cu.CreationTimestamp,
		},
		Spec:   cu.Spec,
		Status: cu.Status,
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(out)
	Expect(err).NotTo(HaveOccurred())
	data, err := yaml.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	header := "# Recorded from the reconciler by internal/controller/gitops_test.go; regenerate with\n" +
		"# NODEWAVE_UPDATE_FIXTURES=1 make test-integration. Read by health_test.yaml (test/gitops).\n"
	return append([]byte(header), data...)
}

// shape is what a fixture must keep of the reconciler's status.
type shape struct {
	Phase                                            upgradev1alpha1.Phase
	GenerationsBehind                                int64
	Total, Upgraded, Upgrading, Pending, FailedNodes int32
	InProgress, Failed                               int
	Conditions                                       []string // sorted
}

func statusShape(cu *upgradev1alpha1.ClusterUpgrade) shape {
	st := cu.Status
	s := shape{
		Phase: st.Phase, GenerationsBehind: cu.Generation - st.ObservedGeneration,
		Total: st.TotalNodes, Upgraded: st.UpgradedNodes, Upgrading: st.UpgradingNodes, Pending: st.PendingNodes, FailedNodes: st.FailedNodes,
		InProgress: len(st.InProgress), Failed: len(st.Failed),
	}
	for _, c := range st.Conditions {
		s.Conditions = append(s.Conditions, c.Type+"="+string(c.Status)+"/"+c.Reason)
	}
	sort.Strings(s.Conditions)
	return s
}
