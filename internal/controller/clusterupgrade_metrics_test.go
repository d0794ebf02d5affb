package controller

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/metrics"
)

var _ = Describe("Metrics", func() {
	It("publishes a node draining with when it started, the drain timeout and the phase, and drops every series of a deleted ClusterUpgrade", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "met", 2)
		pdb := protectedPod(ctx, "met-test", "web", nodes[0])
		blockedBefore := sample(Default, "nodewave_evictions_total", map[string]string{"result": metrics.EvictionBlocked})
		cu := newCU("met", "met")
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 7 * time.Minute}
		createCU(ctx, cu)

		By("publishing the node stuck behind its PodDisruptionBudget in draining, with its state-since stamp")
		Eventually(func(g Gomega) {
			n := getNode(ctx, nodes[0])
			g.Expect(n.Labels[upgradev1alpha1.NodeStateLabel]).To(Equal(string(upgradev1alpha1.NodeDraining)))
			since, err := time.Parse(time.RFC3339, n.Annotations[upgradev1alpha1.StateSinceAnnotation])
			g.Expect(err).NotTo(HaveOccurred())
			mine := map[string]string{"cluster_upgrade": "met"}
			g.Expect(sample(g, "nodewave_node_state_since_timestamp_seconds", with(mine, "node", nodes[0], "state", "draining"))).
				To(BeNumerically("==", since.Unix()))
			g.Expect(seriesOf(g, "nodewave_node_state_since_timestamp_seconds", mine)).To(HaveLen(1), "only nodes in flight have a series")
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "draining"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "pending"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "upgraded"))).To(BeNumerically("==", 0))
			g.Expect(sample(g, "nodewave_cluster_upgrade_drain_timeout_seconds", mine)).To(BeNumerically("==", 420))
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Progressing"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Succeeded"))).To(BeNumerically("==", 0))
			g.Expect(sample(g, "nodewave_cluster_upgrade_stalled", with(mine, "reason", ""))).To(BeNumerically("==", 0))
			g.Expect(sample(g, "nodewave_cluster_upgrade_last_transition_timestamp_seconds", mine)).To(BeNumerically("==", since.Unix()))
			g.Expect(sample(g, "nodewave_evictions_total", map[string]string{"result": metrics.EvictionBlocked})).
				To(BeNumerically(">", blockedBefore), "evictions refused by the PodDisruptionBudget")
		}).Should(Succeed())

		By("dropping the series of nodes that left flight once the upgrade succeeds")
		setPDBStatus(ctx, pdb, 1)
		expectSucceeded(ctx, "met", nodes)
		Eventually(func(g Gomega) {
			mine := map[string]string{"cluster_upgrade": "met"}
			g.Expect(seriesOf(g, "nodewave_node_state_since_timestamp_seconds", mine)).To(BeEmpty())
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "upgraded"))).To(BeNumerically("==", 2))
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "draining"))).To(BeNumerically("==", 0))
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Succeeded"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Progressing"))).To(BeNumerically("==", 0))
			var latest time.Time
			for _, name := range nodes {
				t, err := time.Parse(time.RFC3339, getNode(ctx, name).Annotations[upgradev1alpha1.StateSinceAnnotation])
				g.Expect(err).NotTo(HaveOccurred())
				if t.After(latest) {
					latest = t
				}
			}
			g.Expect(sample(g, "nodewave_cluster_upgrade_last_transition_timestamp_seconds", mine)).To(BeNumerically("==", latest.Unix()))
		}).Should(Succeed())

		By("dropping every series of the ClusterUpgrade once it is deleted")
		Expect(env.Client.Delete(ctx, getCU(ctx, "met"))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(seriesOf(g, "", map[string]string{"cluster_upgrade": "met"})).To(BeEmpty())
		}).Should(Succeed())
	})

	It("publishes a halted upgrade as Failed and stalled, with the reason", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "methalt", 2)
		protectedPod(ctx, "methalt-test", "db", nodes[0])
		cu := newCU("methalt", "methalt")
		cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		createCU(ctx, cu)

		expectFailedNode(ctx, nodes[0], "DrainTimeout")
		Eventually(func(g Gomega) {
			mine := map[string]string{"cluster_upgrade": "methalt"}
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Failed"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_stalled", with(mine, "reason", upgradev1alpha1.ReasonTooManyFailures))).
				To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "failed"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_nodes", with(mine, "state", "pending"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_drain_timeout_seconds", mine)).To(BeNumerically("==", 2))
		}).Should(Succeed())
	})

	It("publishes an upgrade stopped by a pre-flight check as stalled, with the reason", func(ctx SpecContext) {
		createCU(ctx, newCU("metnonodes", "no-such-pool"))
		Eventually(func(g Gomega) {
			mine := map[string]string{"cluster_upgrade": "metnonodes"}
			g.Expect(sample(g, "nodewave_cluster_upgrade_stalled", with(mine, "reason", upgradev1alpha1.ReasonNoNodes))).
				To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_phase", with(mine, "phase", "Pending"))).To(BeNumerically("==", 1))
			g.Expect(sample(g, "nodewave_cluster_upgrade_drain_timeout_seconds", mine)).
				To(BeNumerically("==", upgradev1alpha1.DefaultDrainTimeout.Seconds()))
		}).Should(Succeed())
	})
})

// promSeries is one series the manager's registry serves: its metric name,
// its labels and its value (a counter's or a gauge's).
type promSeries struct {
	name   string
	labels map[string]string
	value  float64
}

// seriesOf gathers the manager's registry (what /metrics serves) and
// returns the series of metric name ("" for any) that carry every label of
// match.
func seriesOf(g Gomega, name string, match map[string]string) []promSeries {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var out []promSeries
	for _, f := range families {
		if name != "" && f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			s := promSeries{name: f.GetName(), labels: map[string]string{}, value: m.GetGauge().GetValue() + m.GetCounter().GetValue()}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			if matches(s.labels, match) {
				out = append(out, s)
			}
		}
	}
	return out
}

// sample is the value of the one series of name that matches, failing g
// when there is not exactly one.
func sample(g Gomega, name string, match map[string]string) float64 {
	s := seriesOf(g, name, match)
	g.Expect(s).To(HaveLen(1), "series of %s matching %v", name, match)
	if len(s) != 1 {
		return 0
	}
	return s[0].value
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// with returns a copy of m with more label pairs.
func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestStatusMetrics(t *testing.T) {
	opens := metav1.NewTime(time.Date(2030, 1, 7, 21, 0, 0, 0, time.UTC))
	stalled := func(status metav1.ConditionStatus) []metav1.Condition {
		return []metav1.Condition{{Type: upgradev1alpha1.ConditionStalled, Status: status, Reason: upgradev1alpha1.ReasonConflict}}
	}
	for _, c := range []struct {
		name   string
		spec   upgradev1alpha1.ClusterUpgradeSpec
		status upgradev1alpha1.ClusterUpgradeStatus
		want   metrics.UpgradeStatus
	}{
		{name: "before the first reconcile: no phase, the default drain timeout",
			want: metrics.UpgradeStatus{DrainTimeout: upgradev1alpha1.DefaultDrainTimeout}},
		{name: "stalled, with its reason and the spec's drain timeout",
			spec:   upgradev1alpha1.ClusterUpgradeSpec{Drain: upgradev1alpha1.DrainSpec{Timeout: &metav1.Duration{Duration: time.Minute}}},
			status: upgradev1alpha1.ClusterUpgradeStatus{Phase: upgradev1alpha1.PhasePending, Conditions: stalled(metav1.ConditionTrue)},
			want: metrics.UpgradeStatus{Phase: upgradev1alpha1.PhasePending, StalledReason: upgradev1alpha1.ReasonConflict,
				DrainTimeout: time.Minute}},
		{name: "a Stalled condition that is False is no stall",
			status: upgradev1alpha1.ClusterUpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, Conditions: stalled(metav1.ConditionFalse)},
			want:   metrics.UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, DrainTimeout: upgradev1alpha1.DefaultDrainTimeout}},
		{name: "waiting outside the maintenance window",
			status: upgradev1alpha1.ClusterUpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, NextWindowOpens: &opens},
			want: metrics.UpgradeStatus{Phase: upgradev1alpha1.PhaseProgressing, DrainTimeout: upgradev1alpha1.DefaultDrainTimeout,
				NextWindowOpens: opens.Time}},
	} {
		cu := &upgradev1alpha1.ClusterUpgrade{Spec: c.spec, Status: c.status}
		if got := statusMetrics(cu); got != c.want {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, got, c.want)
		}
	}
}
