package drain

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewave/nodewave/internal/metrics"
)

// podOpt shapes a test pod.
type podOpt func(*corev1.Pod)

func owned(kind, name string) podOpt {
	return func(p *corev1.Pod) {
		apiVersion := "apps/v1"
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name,
			UID: "00000000-0000-0000-0000-000000000002", Controller: ptr.To(true)}}
	}
}

func unowned() podOpt { return func(p *corev1.Pod) { p.OwnerReferences = nil } }

func withEmptyDir() podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	}
}

func mirror() podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} }
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// makePod creates a Running, Ready pod on node in ns, owned by a ReplicaSet
// unless an option says otherwise.
func makePod(ctx context.Context, ns, name, node string, opts ...podOpt) {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.com/app:v1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	owned("ReplicaSet", "rs-"+name)(p)
	for _, o := range opts {
		o(p)
	}
	st := p.Status
	Expect(env.Client.Create(ctx, p)).To(Succeed())
	p.Status = st
	Expect(env.Client.Status().Update(ctx, p)).To(Succeed())
}

// terminate plays the kubelet: pods being deleted go away.
func terminate(ctx context.Context, ns string) {
	pods := &corev1.PodList{}
	Expect(env.Client.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
	for i := range pods.Items {
		if pods.Items[i].DeletionTimestamp != nil {
			Expect(client.IgnoreNotFound(env.Client.Delete(ctx, &pods.Items[i], client.GracePeriodSeconds(0)))).To(Succeed())
		}
	}
}

func exists(ctx context.Context, ns, name string) bool {
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.Pod{})
	Expect(client.IgnoreNotFound(err)).To(Succeed())
	return !apierrors.IsNotFound(err)
}

func terminating(ctx context.Context, ns, name string) bool {
	p := &corev1.Pod{}
	Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed())
	return p.DeletionTimestamp != nil
}

// pdb creates a PodDisruptionBudget for app and sets the status the
// disruption controller would, allowing `allowed` disruptions.
func pdb(ctx context.Context, ns, app string, allowed int32) *policyv1.PodDisruptionBudget {
	b := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app + "-pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	Expect(env.Client.Create(ctx, b)).To(Succeed())
	setAllowed(ctx, b, allowed)
	return b
}

func setAllowed(ctx context.Context, b *policyv1.PodDisruptionBudget, allowed int32) {
	Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
			return err
		}
		b.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: b.Generation, DisruptionsAllowed: allowed,
			CurrentHealthy: 1, DesiredHealthy: 1 - allowed, ExpectedPods: 1}
		return env.Client.Status().Update(ctx, b)
	}).Should(Succeed())
}

var nsCount int

// namespace creates a fresh namespace and node name for one test.
func namespace(ctx context.Context) (string, string) {
	nsCount++
	ns := fmt.Sprintf("drain-%d", nsCount)
	Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	return ns, "node-" + ns
}

var _ = Describe("Drainer", func() {
	d := func() *Drainer { return &Drainer{Client: clientset} }
	all := Options{DeleteEmptyDirData: true, Force: true}

	It("evicts managed pods and reports them remaining until they are gone", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "a", node)
		makePod(ctx, ns, "b", node)
		makePod(ctx, ns, "elsewhere", "other-node")
		evicted := testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionEvicted))

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"}))
		Expect(terminating(ctx, ns, "a")).To(BeTrue())
		Expect(terminating(ctx, ns, "elsewhere")).To(BeFalse(), "a pod on another node was evicted")
		Expect(testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionEvicted)) - evicted).To(Equal(2.0))

		By("not evicting a terminating pod again")
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(BeZero())
		Expect(res.Remaining).To(Equal(2))

		terminate(ctx, ns)
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Drained()).To(BeTrue())
		Expect(res.Message).To(BeEmpty())
	})

	It("leaves DaemonSet, mirror and finished pods alone", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/agent:v1"}}}}},
		}
		Expect(env.Client.Create(ctx, ds)).To(Succeed())
		makePod(ctx, ns, "agent-x", node, owned("DaemonSet", "agent"))
		makePod(ctx, ns, "static", node, unowned(), mirror())
		makePod(ctx, ns, "done", node, phase(corev1.PodSucceeded))
		makePod(ctx, ns, "crashed", node, unowned(), phase(corev1.PodFailed))

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(Equal(Result{}))
		for _, name := range []string{"agent-x", "static", "done", "crashed"} {
			Expect(terminating(ctx, ns, name)).To(BeFalse(), name)
		}
	})

	It("keeps pods with emptyDir unless deleteEmptyDirData, and unmanaged pods unless force", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "cache", node, withEmptyDir())
		makePod(ctx, ns, "solo", node, unowned())

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(2))
		Expect(res.Evicted).To(BeZero())
		Expect(res.Message).To(ContainSubstring(fmt.Sprintf("pod %s/cache uses emptyDir (set drain.deleteEmptyDirData to evict it)", ns)))
		Expect(res.Message).To(ContainSubstring(fmt.Sprintf("pod %s/solo has no controller (set drain.force to evict it)", ns)))
		Expect(terminating(ctx, ns, "cache")).To(BeFalse())
		Expect(terminating(ctx, ns, "solo")).To(BeFalse())

		res, err = d().Drain(ctx, node, Options{DeleteEmptyDirData: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(terminating(ctx, ns, "cache")).To(BeTrue())
		Expect(terminating(ctx, ns, "solo")).To(BeFalse())

		res, err = d().Drain(ctx, node, all)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(terminating(ctx, ns, "solo")).To(BeTrue())
	})

	It("counts evictions a PodDisruptionBudget refuses, names it, and succeeds once it allows", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "web", node)
		budget := pdb(ctx, ns, "web", 0)
		blocked := testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionBlocked))

		start := time.Now()
		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second), "a blocked pass must not wait")
		Expect(res).To(Equal(Result{Remaining: 1, Blocked: 1, Message: fmt.Sprintf("1 pod blocked by PodDisruptionBudget %s/web-pdb", ns)}))
		Expect(terminating(ctx, ns, "web")).To(BeFalse())
		Expect(testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionBlocked)) - blocked).To(Equal(1.0))

		setAllowed(ctx, budget, 1)
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(terminating(ctx, ns, "web")).To(BeTrue())
	})

	It("ForceDelete deletes a pod a PodDisruptionBudget protects, but still not a DaemonSet's", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "db", node)
		pdb(ctx, ns, "db", 0)
		makePod(ctx, ns, "static", node, unowned(), mirror())
		deleted := testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionDeleted))

		res, err := d().ForceDelete(ctx, node, Options{GracePeriodSeconds: ptr.To[int64](0)})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Blocked).To(BeZero())
		Expect(exists(ctx, ns, "db")).To(BeFalse(), "grace period 0 deletes at once")
		Expect(exists(ctx, ns, "static")).To(BeTrue())
		Expect(testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(metrics.EvictionDeleted)) - deleted).To(Equal(1.0))
	})

	It("shortens a long message", func() {
		n := &notes{}
		for i := range 5 {
			n.blocked = append(n.blocked, fmt.Sprintf("pod ns/p%d has no controller (set drain.force to evict it)", i))
		}
		n.blockedBy("ns/web")
		n.blockedBy("ns/web")
		n.terminating = 1
		Expect(n.String()).To(Equal("2 pods blocked by PodDisruptionBudget ns/web; " +
			"pod ns/p0 has no controller (set drain.force to evict it); pod ns/p1 has no controller (set drain.force to evict it); " +
			"and 3 more; 1 pod terminating"))
	})
})
