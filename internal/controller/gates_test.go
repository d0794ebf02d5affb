package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

var _ = Describe("The replacements-ready gate", func() {
	It("holds new starts until the workloads the drain evicted are ready again, names them, and records them on the node", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "grr", 2)
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "grr"}})).To(Succeed())
		rs := makeReplicaSet(ctx, "grr", "web", 2)
		makeOwnedPod(ctx, "grr", "web-a", nodes[0], rs)
		// One short from the start, as it is once its pod is evicted: the
		// gate waits only for the workloads a drain evicted pods of, so
		// the first node starts.
		setReadyReplicas(ctx, rs, 1)

		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: time.Hour}) // held in upgrading, to be looked at
		cu := newCU("grr", "grr")
		cu.Spec.Health.ReplacementsReady = &upgradev1alpha1.ReplacementsReadySpec{}
		createCU(ctx, cu)
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgrading)
		By("the drain recorded the ReplicaSet it evicted a pod of, with when it ended")
		var rec evictedRecord
		Expect(json.Unmarshal([]byte(getNode(ctx, nodes[0]).Annotations[upgradev1alpha1.EvictedOwnersAnnotation]), &rec)).To(Succeed())
		Expect(rec.Owners).To(Equal([]string{"ReplicaSet/grr/web"}))
		Expect(rec.Drained).NotTo(BeZero())

		By("the ReplicaSet one short: the next node does not start, and Gated says why")
		kubelet.set(nodes[0], nodeagent.Behaviour{Delay: 100 * time.Millisecond})
		expectState(ctx, nodes[0], upgradev1alpha1.NodeUpgraded)
		Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(getCU(ctx, "grr").Status.Conditions, upgradev1alpha1.ConditionGated)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonReplacementsNotReady))
			g.Expect(c.Message).To(ContainSubstring("ReplicaSet/grr/web 1 of 2 ready"))
			g.Expect(c.LastTransitionTime.Time).To(BeTemporally("~", rec.Drained, time.Second))
		}).Should(Succeed())
		Consistently(func() string {
			return getNode(ctx, nodes[1]).Labels[upgradev1alpha1.NodeStateLabel]
		}).WithTimeout(3*time.Second).Should(BeEmpty(), "a node started while the gate was closed")
		gated := getCU(ctx, "grr")
		Expect(meta.IsStatusConditionTrue(gated.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(BeFalse())
		Expect(kstatusOf(Default, gated)).To(Equal(status.InProgressStatus), "a gate is progress that waits, not a failure")
		matchFixture("gated", gated)

		By("the ReplicaSet ready again: the gate opens, the rest go, Gated is gone")
		setReadyReplicas(ctx, rs, 2)
		expectSucceeded(ctx, "grr", nodes)
		Expect(meta.FindStatusCondition(getCU(ctx, "grr").Status.Conditions, upgradev1alpha1.ConditionGated)).To(BeNil())
	})

	It("stalls with ReplacementsNotReady once a workload is short for longer than the timeout, and goes on when it is back", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "gto", 2)
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gto"}})).To(Succeed())
		rs := makeReplicaSet(ctx, "gto", "db", 3)
		makeOwnedPod(ctx, "gto", "db-a", nodes[0], rs)
		setReadyReplicas(ctx, rs, 1)

		cu := newCU("gto", "gto")
		cu.Spec.Health.ReplacementsReady = &upgradev1alpha1.ReplacementsReadySpec{Timeout: &metav1.Duration{Duration: 2 * time.Second}}
		createCU(ctx, cu)
		Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(getCU(ctx, "gto").Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonReplacementsNotReady))
			g.Expect(c.Message).To(ContainSubstring("ReplicaSet/gto/db 1 of 3 ready"))
		}).Should(Succeed())
		stalled := getCU(ctx, "gto")
		Expect(kstatusOf(Default, stalled)).To(Equal(status.FailedStatus))
		matchFixture("gated-stalled", stalled)
		Expect(getNode(ctx, nodes[1]).Labels[upgradev1alpha1.NodeStateLabel]).To(BeEmpty())

		setReadyReplicas(ctx, rs, 3)
		expectSucceeded(ctx, "gto", nodes)
	})

	It("is off without spec.health.replacementsReady: nothing recorded, nothing waited for", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "goff", 2)
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "goff"}})).To(Succeed())
		rs := makeReplicaSet(ctx, "goff", "web", 2)
		makeOwnedPod(ctx, "goff", "web-a", nodes[0], rs)
		setReadyReplicas(ctx, rs, 0)
		createCU(ctx, newCU("goff", "goff"))
		expectSucceeded(ctx, "goff", nodes)
		Expect(getNode(ctx, nodes[0]).Annotations).NotTo(HaveKey(upgradev1alpha1.EvictedOwnersAnnotation))
	})
})

var _ = Describe("The health checks", func() {
	It("hold every start while a check is false of an object, say which, and let the upgrade go once it is true", func(ctx SpecContext) {
		nodes := makeNodes(ctx, "gchk", 2)
		Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gchk"}})).To(Succeed())
		db := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "gchk", Name: "db"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/db:v1"}}}}},
		}
		Expect(env.Client.Create(ctx, db)).To(Succeed())
		cu := newCU("gchk", "gchk")
		cu.Spec.Health.Checks = []upgradev1alpha1.HealthCheck{{Name: "db-available", APIVersion: "apps/v1", Kind: "Deployment",
			Namespace: "gchk", ObjectName: "db", Expression: "object.status.availableReplicas >= object.spec.replicas"}}
		createCU(ctx, cu)

		By("no status yet: the expression cannot be evaluated, which holds like false")
		expectGated(ctx, "gchk", upgradev1alpha1.ReasonHealthCheckFailing, "check db-available: could not be evaluated (no such key: availableReplicas) of Deployment gchk/db")
		setAvailable(ctx, db, 1)
		expectGated(ctx, "gchk", upgradev1alpha1.ReasonHealthCheckFailing, "check db-available: is false of Deployment gchk/db")
		Consistently(func() string { return getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel] }).
			WithTimeout(2*time.Second).Should(BeEmpty(), "a node started while a check was false")

		setAvailable(ctx, db, 2)
		expectSucceeded(ctx, "gchk", nodes)
		Expect(meta.FindStatusCondition(getCU(ctx, "gchk").Status.Conditions, upgradev1alpha1.ConditionGated)).To(BeNil())
	})

	DescribeTable("stall the upgrade, touching no node, when a check cannot be judged",
		func(ctx SpecContext, name string, check upgradev1alpha1.HealthCheck, message string) {
			nodes := makeNodes(ctx, name, 1)
			cu := newCU(name, name)
			cu.Spec.Health.Checks = []upgradev1alpha1.HealthCheck{check}
			createCU(ctx, cu)
			Eventually(func(g Gomega) {
				c := meta.FindStatusCondition(getCU(ctx, name).Status.Conditions, upgradev1alpha1.ConditionStalled)
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonInvalidHealthCheck))
				g.Expect(c.Message).To(ContainSubstring(message))
			}).Should(Succeed())
			Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(BeEmpty())
			Expect(getNode(ctx, nodes[0]).Spec.Unschedulable).To(BeFalse())
		},
		Entry("an expression that does not compile", "gbad",
			upgradev1alpha1.HealthCheck{Name: "bad", APIVersion: "v1", Kind: "Namespace", ObjectName: "default", Expression: "object.status.phase =="},
			"spec.health.checks[0] (bad): its expression does not compile"),
		Entry("an expression that is not a bool", "gint",
			upgradev1alpha1.HealthCheck{Name: "int", APIVersion: "v1", Kind: "Namespace", ObjectName: "default", Expression: "1 + 1"},
			"spec.health.checks[0] (int): its expression does not compile: the expression is a int, not a bool"),
		Entry("a kind the API server does not serve", "gkind",
			upgradev1alpha1.HealthCheck{Name: "ceph", APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "rook-ceph", ObjectName: "rook-ceph",
				Expression: `object.status.ceph.health == "HEALTH_OK"`},
			"spec.health.checks[0] (ceph): cannot read its CephCluster objects"),
		Entry("an object that does not exist", "gmiss",
			upgradev1alpha1.HealthCheck{Name: "ns", APIVersion: "v1", Kind: "Namespace", ObjectName: "no-such-namespace", Expression: "true"},
			"spec.health.checks[0] (ns): Namespace no-such-namespace does not exist"),
		Entry("a selector that matches nothing", "gnone",
			upgradev1alpha1.HealthCheck{Name: "sel", APIVersion: "v1", Kind: "ConfigMap",
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"nodewave.test/none": "x"}}, Expression: "true"},
			"spec.health.checks[0] (sel): its labelSelector matches no ConfigMap"),
	)
})

// expectGated waits for cu's Gated condition with reason and a message
// that contains message.
func expectGated(ctx context.Context, cu, reason, message string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := meta.FindStatusCondition(getCU(ctx, cu).Status.Conditions, upgradev1alpha1.ConditionGated)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(reason))
		g.Expect(c.Message).To(ContainSubstring(message))
	}).Should(Succeed())
}

// setAvailable writes what the Deployment controller would.
func setAvailable(ctx context.Context, d *appsv1.Deployment, available int32) {
	GinkgoHelper()
	Eventually(func() error {
		cur := &appsv1.Deployment{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(d), cur); err != nil {
			return err
		}
		cur.Status.Replicas, cur.Status.AvailableReplicas, cur.Status.ReadyReplicas = *cur.Spec.Replicas, available, available
		return env.Client.Status().Update(ctx, cur)
	}).Should(Succeed())
}

// makeReplicaSet creates a ReplicaSet of replicas that no controller runs
// here: its status is what setReadyReplicas writes.
func makeReplicaSet(ctx context.Context, ns, name string, replicas int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}}}}},
	}
	Expect(env.Client.Create(ctx, rs)).To(Succeed())
	return rs
}

// setReadyReplicas writes what the ReplicaSet controller would.
func setReadyReplicas(ctx context.Context, rs *appsv1.ReplicaSet, ready int32) {
	GinkgoHelper()
	Eventually(func() error {
		cur := &appsv1.ReplicaSet{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(rs), cur); err != nil {
			return err
		}
		cur.Status.Replicas, cur.Status.ReadyReplicas, cur.Status.AvailableReplicas = *cur.Spec.Replicas, ready, ready
		return env.Client.Status().Update(ctx, cur)
	}).Should(Succeed())
}

// makeOwnedPod creates a Running, Ready pod on node controlled by rs.
func makeOwnedPod(ctx context.Context, ns, name, node string, rs *appsv1.ReplicaSet) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: rs.Spec.Selector.MatchLabels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name,
				UID: rs.UID, Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}}},
	}
	Expect(env.Client.Create(ctx, p)).To(Succeed())
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	Expect(env.Client.Status().Update(ctx, p)).To(Succeed())
}

var _ = Describe("The alerts gate", func() {
	It("holds new starts while a matching alert is active, pending ones too unless firingOnly, and goes on once it is not", func(ctx SpecContext) {
		alerts := &alertsServer{}
		srv := httptest.NewServer(alerts)
		DeferCleanup(srv.Close)
		alerts.set(`{"labels":{"alertname":"KubeNodeNotReady"},"state":"pending"}`, `{"labels":{"alertname":"Watchdog"},"state":"firing"}`)

		nodes := makeNodes(ctx, "galert", 1)
		cu := newCU("galert", "galert")
		cu.Spec.Health.Prometheus = &upgradev1alpha1.PrometheusGate{URL: srv.URL, AlertNames: "Kube.*"}
		createCU(ctx, cu)
		expectGated(ctx, "galert", upgradev1alpha1.ReasonAlertFiring, "alerts active in "+srv.URL+": KubeNodeNotReady pending")
		Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(BeEmpty())

		By("firingOnly: a pending alert does not hold; Watchdog never matched")
		updateCU(ctx, "galert", func(c *upgradev1alpha1.ClusterUpgrade) { c.Spec.Health.Prometheus.FiringOnly = true })
		expectSucceeded(ctx, "galert", nodes)
	})

	It("holds while Prometheus cannot be read, and stalls after its timeout", func(ctx SpecContext) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close() // nothing listens there now
		nodes := makeNodes(ctx, "gunread", 1)
		cu := newCU("gunread", "gunread")
		cu.Spec.Health.Prometheus = &upgradev1alpha1.PrometheusGate{URL: url, Timeout: &metav1.Duration{Duration: 3 * time.Second}}
		createCU(ctx, cu)
		expectGated(ctx, "gunread", upgradev1alpha1.ReasonAlertsUnreadable, "cannot read the alerts of "+url)
		Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(getCU(ctx, "gunread").Status.Conditions, upgradev1alpha1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonAlertsUnreadable))
		}).Should(Succeed())
		Expect(getNode(ctx, nodes[0]).Labels[upgradev1alpha1.NodeStateLabel]).To(BeEmpty())
	})
})

// alertsServer answers /api/v1/alerts as Prometheus does, with the alerts
// set last.
type alertsServer struct {
	mu     sync.Mutex
	alerts []string
}

func (a *alertsServer) set(alerts ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = alerts
}

func (a *alertsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/alerts" {
		http.NotFound(w, r)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"success","data":{"alerts":[%s]}}`, strings.Join(a.alerts, ","))
}
