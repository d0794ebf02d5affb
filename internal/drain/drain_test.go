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

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy/drainspec"
	"github.com/nodewave/nodewave/internal/metrics"
)

// podOpt shapes a test pod.
type podOpt func(*corev1.Pod)

func owned(kind, name string) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name,
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

// labelled adds a label to the pod.
func labelled(key, value string) podOpt { return func(p *corev1.Pod) { p.Labels[key] = value } }

// annotated adds an annotation to the pod.
func annotated(key, value string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[key] = value
	}
}

// setPhase plays the kubelet: the pod's phase becomes ph.
func setPhase(ctx context.Context, ns, name string, ph corev1.PodPhase) {
	Eventually(func() error {
		p := &corev1.Pod{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		p.Status.Phase = ph
		return env.Client.Status().Update(ctx, p)
	}).Should(Succeed())
}

// newPod is a Running, Ready pod on node in ns, owned by a ReplicaSet
// unless an option says otherwise.
func newPod(ns, name, node string, opts ...podOpt) *corev1.Pod {
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
	return p
}

// makePod creates newPod's pod, status included.
func makePod(ctx context.Context, ns, name, node string, opts ...podOpt) {
	p := newPod(ns, name, node, opts...)
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

// startDeleting deletes a pod gracefully: with no kubelet, it stays, terminating.
func startDeleting(ctx context.Context, ns, name string) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	Expect(env.Client.Delete(ctx, p, client.GracePeriodSeconds(300))).To(Succeed())
	Expect(terminating(ctx, ns, name)).To(BeTrue())
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

// newPDB creates a PodDisruptionBudget for the pods labelled app=app,
// without a status: as if the disruption controller had not seen it yet.
func newPDB(ctx context.Context, ns, name, app string) *policyv1.PodDisruptionBudget {
	b := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}
	Expect(env.Client.Create(ctx, b)).To(Succeed())
	return b
}

// pdb creates a PodDisruptionBudget for app and sets the status the
// disruption controller would, allowing `allowed` disruptions.
func pdb(ctx context.Context, ns, app string, allowed int32) *policyv1.PodDisruptionBudget {
	b := newPDB(ctx, ns, app+"-pdb", app)
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

// evictions reads nodewave_evictions_total{result}.
func evictions(result string) float64 {
	return testutil.ToFloat64(metrics.EvictionsTotal.WithLabelValues(result))
}

// counters snapshots every result of nodewave_evictions_total.
func counters() map[string]float64 {
	m := map[string]float64{}
	for _, r := range []string{metrics.EvictionEvicted, metrics.EvictionBlocked, metrics.EvictionError, metrics.EvictionDeleted} {
		m[r] = evictions(r)
	}
	return m
}

// moved is how much each result's counter moved since before.
func moved(before map[string]float64) map[string]float64 {
	m := map[string]float64{}
	for r, v := range counters() {
		if d := v - before[r]; d != 0 {
			m[r] = d
		}
	}
	return m
}

var _ = Describe("Drainer against kube-apiserver", func() {
	d := func() *Drainer { return &Drainer{Client: clientset} }
	all := Options{DeleteEmptyDirData: true, Force: true}

	It("counts the pods of a terminating namespace as terminating, not as errors", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "a", node)
		// envtest runs no namespace controller: the namespace stays
		// Terminating with its pod, and the API server takes no eviction in it.
		Expect(env.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		before := counters()

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Message: "1 pod terminating"}))
		Expect(moved(before)).To(BeEmpty())
	})

	It("evicts managed pods and reports them remaining until they are gone", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "a", node)
		makePod(ctx, ns, "b", node)
		makePod(ctx, ns, "elsewhere", "other-node")
		before := counters()

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"}))
		Expect(res.Owners).To(HaveLen(2), "the ReplicaSets of the two evicted pods: %v", res.Owners)
		Expect(res.Drained()).To(BeFalse())
		Expect(terminating(ctx, ns, "a")).To(BeTrue())
		Expect(terminating(ctx, ns, "b")).To(BeTrue())
		Expect(terminating(ctx, ns, "elsewhere")).To(BeFalse(), "a pod on another node was evicted")
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionEvicted: 2}))

		By("not evicting a terminating pod again")
		before = counters()
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Message: "2 pods terminating"}))
		Expect(moved(before)).To(BeEmpty())

		By("seeing the node drained once the kubelet is done")
		terminate(ctx, ns)
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Drained()).To(BeTrue())
		Expect(withoutOwners(res)).To(Equal(Result{}))
		Expect(exists(ctx, ns, "elsewhere")).To(BeTrue())
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
		makePod(ctx, ns, "agent-x", node, owned("DaemonSet", "agent"), withEmptyDir())
		makePod(ctx, ns, "static", node, unowned(), mirror())
		makePod(ctx, ns, "done", node, phase(corev1.PodSucceeded))
		makePod(ctx, ns, "crashed", node, unowned(), withEmptyDir(), phase(corev1.PodFailed))
		before := counters()

		for _, opts := range []Options{{}, all} {
			res, err := d().Drain(ctx, node, opts)
			Expect(err).NotTo(HaveOccurred())
			Expect(withoutOwners(res)).To(Equal(Result{}), "options %+v", opts)
			res, err = d().ForceDelete(ctx, node, opts)
			Expect(err).NotTo(HaveOccurred())
			Expect(withoutOwners(res)).To(Equal(Result{}), "options %+v", opts)
		}
		for _, name := range []string{"agent-x", "static", "done", "crashed"} {
			Expect(terminating(ctx, ns, name)).To(BeFalse(), name)
		}
		Expect(moved(before)).To(BeEmpty())
	})

	It("keeps pods with emptyDir unless deleteEmptyDirData, and unmanaged pods unless force", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "cache", node, withEmptyDir())
		makePod(ctx, ns, "solo", node, unowned())
		before := counters()

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(2))
		Expect(res.Evicted).To(BeZero())
		Expect(res.Blocked).To(BeZero())
		Expect(res.Message).To(ContainSubstring(fmt.Sprintf("pod %s/cache uses emptyDir (set drain.deleteEmptyDirData to evict it)", ns)))
		Expect(res.Message).To(ContainSubstring(fmt.Sprintf("pod %s/solo has no controller (set drain.force to evict it)", ns)))
		Expect(terminating(ctx, ns, "cache")).To(BeFalse())
		Expect(terminating(ctx, ns, "solo")).To(BeFalse())
		Expect(moved(before)).To(BeEmpty(), "a pod the options keep is not an eviction attempt")

		res, err = d().Drain(ctx, node, Options{DeleteEmptyDirData: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Kept: 1, Evicted: 1,
			Message: fmt.Sprintf("pod %s/solo has no controller (set drain.force to evict it); 1 pod terminating", ns)}))
		Expect(terminating(ctx, ns, "cache")).To(BeTrue())
		Expect(terminating(ctx, ns, "solo")).To(BeFalse())

		res, err = d().Drain(ctx, node, Options{Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Evicted: 1, Message: "2 pods terminating"}),
			"a terminating emptyDir pod is terminating, not kept")
		Expect(terminating(ctx, ns, "solo")).To(BeTrue())
	})

	It("keeps a pod whose DaemonSet is gone unless force", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "orphan", node, owned("DaemonSet", "deleted"))

		res, err := d().Drain(ctx, node, Options{DeleteEmptyDirData: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Kept: 1,
			Message: fmt.Sprintf("pod %s/orphan belongs to a DaemonSet that no longer exists (set drain.force to evict it)", ns)}))

		res, err = d().Drain(ctx, node, all)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(terminating(ctx, ns, "orphan")).To(BeTrue())
	})

	It("counts a terminating pod as remaining, whatever the options, and evicts nothing", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "leaving", node, unowned(), withEmptyDir())
		startDeleting(ctx, ns, "leaving")
		before := counters()

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Message: "1 pod terminating"}))
		res, err = d().ForceDelete(ctx, node, all)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Message: "1 pod terminating"}))
		Expect(moved(before)).To(BeEmpty())
		Expect(exists(ctx, ns, "leaving")).To(BeTrue())
	})

	It("counts evictions a PodDisruptionBudget refuses, names it, and succeeds once it allows", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "web", node)
		makePod(ctx, ns, "web2", node, func(p *corev1.Pod) { p.Labels["app"] = "web" })
		makePod(ctx, ns, "free", node)
		budget := pdb(ctx, ns, "web", 0)
		before := counters()

		start := time.Now()
		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second), "a blocked pass must not wait")
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 3, Evicted: 1, Blocked: 2,
			Message: fmt.Sprintf("2 pods blocked by PodDisruptionBudget %s/web-pdb; 1 pod terminating", ns)}))
		Expect(terminating(ctx, ns, "web")).To(BeFalse())
		Expect(terminating(ctx, ns, "web2")).To(BeFalse())
		Expect(terminating(ctx, ns, "free")).To(BeTrue())
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionBlocked: 2, metrics.EvictionEvicted: 1}))

		By("evicting one pod once the budget allows one disruption")
		setAllowed(ctx, budget, 1)
		res, err = d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(res.Blocked).To(Equal(1), "the API server decrements disruptionsAllowed with the first eviction")
		Expect(res.Remaining).To(Equal(3))
	})

	It("returns at once when a PodDisruptionBudget's status is not observed yet", func(ctx SpecContext) {
		// kube-apiserver answers 429 with Retry-After: 10 here; client-go
		// would retry 10 times, 10 s apart, unless told not to.
		ns, node := namespace(ctx)
		makePod(ctx, ns, "fresh", node)
		newPDB(ctx, ns, "fresh-pdb", "fresh")

		start := time.Now()
		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second), "a blocked pass must not wait")
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Blocked: 1,
			Message: fmt.Sprintf("1 pod blocked by PodDisruptionBudget %s/fresh-pdb", ns)}))
	}, SpecTimeout(30*time.Second))

	It("reports an eviction the API server fails without failing the pass", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "twice", node)
		makePod(ctx, ns, "ok", node)
		pdb(ctx, ns, "twice", 1)
		newPDB(ctx, ns, "twice-too", "twice")
		before := counters()

		res, err := d().Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(2))
		Expect(res.Evicted).To(Equal(1))
		Expect(res.Blocked).To(BeZero())
		Expect(res.Message).To(HavePrefix(fmt.Sprintf("pod %s/twice: ", ns)))
		Expect(res.Message).To(ContainSubstring("more than one PodDisruptionBudget"))
		Expect(res.Message).To(HaveSuffix("; 1 pod terminating"))
		Expect(terminating(ctx, ns, "twice")).To(BeFalse())
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionError: 1, metrics.EvictionEvicted: 1}))
	})

	It("ForceDelete deletes a pod a PodDisruptionBudget protects, under the same filters", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "db", node)
		pdb(ctx, ns, "db", 0)
		makePod(ctx, ns, "static", node, unowned(), mirror())
		makePod(ctx, ns, "solo", node, unowned())
		makePod(ctx, ns, "leaving", node)
		startDeleting(ctx, ns, "leaving")
		before := counters()

		res, err := d().ForceDelete(ctx, node, Options{GracePeriodSeconds: ptr.To[int64](0)})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Evicted).To(Equal(1))
		Expect(res.Blocked).To(BeZero())
		Expect(exists(ctx, ns, "db")).To(BeFalse(), "grace period 0 deletes at once")
		Expect(exists(ctx, ns, "static")).To(BeTrue())
		Expect(exists(ctx, ns, "leaving")).To(BeTrue(), "a terminating pod is left to finish")
		Expect(terminating(ctx, ns, "solo")).To(BeFalse(), "force is still needed for an unmanaged pod")
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionDeleted: 1}))

		res, err = d().ForceDelete(ctx, node, Options{GracePeriodSeconds: ptr.To[int64](0)})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Kept: 1,
			Message: fmt.Sprintf("pod %s/solo has no controller (set drain.force to evict it); 1 pod terminating", ns)}))

		By("using each pod's own grace period when none is set")
		res, err = d().ForceDelete(ctx, node, Options{Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Evicted: 1, Message: "2 pods terminating"}))
		Expect(terminating(ctx, ns, "solo")).To(BeTrue())
	})

	It("leaves the pods a drain rule or their own marker skips, and counts them nowhere", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "web", node)
		makePod(ctx, ns, "by-label", node, unowned(), withEmptyDir(), labelled(upgradev1alpha1.DrainBehaviorKey, "Skip"))
		makePod(ctx, ns, "by-rule", node, labelled("tier", "cache"))
		makePod(ctx, ns, "by-rule-but-drained", node, labelled("tier", "cache"), annotated(upgradev1alpha1.DrainBehaviorKey, "Drain"))
		opts := drainspec.Options(upgradev1alpha1.DrainSpec{DeleteEmptyDirData: ptr.To(false), Rules: []upgradev1alpha1.DrainRule{{Name: "cache",
			Behavior: upgradev1alpha1.DrainBehaviorSkip, PodSelector: &upgradev1alpha1.PodLabelSelector{
				MatchLabels: map[string]upgradev1alpha1.LabelValue{"tier": "cache"}}}}})
		before := counters()

		res, err := d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"}),
			"a skipped pod is not kept, even without a controller or with emptyDir")
		Expect(terminating(ctx, ns, "by-label")).To(BeFalse())
		Expect(terminating(ctx, ns, "by-rule")).To(BeFalse())
		Expect(terminating(ctx, ns, "by-rule-but-drained")).To(BeTrue(), "the pod's own marker wins over the rule")
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionEvicted: 2}))

		terminate(ctx, ns)
		res, err = d().ForceDelete(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Drained()).To(BeTrue(), "the skipped pods do not hold the node: %+v", res)
		Expect(exists(ctx, ns, "by-label")).To(BeTrue())
		Expect(terminating(ctx, ns, "by-rule")).To(BeFalse(), "ForceDelete leaves skipped pods too")
	})

	It("never evicts a pod waited for until it completes, holds the node until it has, and ForceDelete deletes it", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "report", node, unowned(), annotated(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted"))
		makePod(ctx, ns, "export", node, labelled("batch", "yes"))
		makePod(ctx, ns, "done", node, labelled("batch", "yes"), phase(corev1.PodSucceeded))
		opts := drainspec.Options(upgradev1alpha1.DrainSpec{Rules: []upgradev1alpha1.DrainRule{{Name: "batch",
			Behavior: upgradev1alpha1.DrainBehaviorWaitCompleted, PodSelector: &upgradev1alpha1.PodLabelSelector{
				MatchLabels: map[string]upgradev1alpha1.LabelValue{"batch": "yes"}}}}})
		before := counters()

		res, err := d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Waiting: 2,
			Message: fmt.Sprintf("2 pods waited for until they complete (%s/export, %s/report)", ns, ns)}),
			"a pod without a controller waited for is not blocked: it is never evicted anyway")
		Expect(terminating(ctx, ns, "report")).To(BeFalse())
		Expect(terminating(ctx, ns, "export")).To(BeFalse())
		Expect(moved(before)).To(BeEmpty())

		By("letting each go once it has finished")
		setPhase(ctx, ns, "export", corev1.PodFailed)
		res, err = d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Waiting: 1,
			Message: fmt.Sprintf("1 pod waited for until it completes (%s/report)", ns)}))

		By("deleting it at drain.timeout with ForceDelete, as any pod left: without a controller, only under drain.force")
		res, err = d().ForceDelete(ctx, node, Options{GracePeriodSeconds: ptr.To[int64](0), Rules: opts.Rules})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Kept: 1,
			Message: fmt.Sprintf("pod %s/report has no controller (set drain.force to evict it)", ns)}))
		Expect(terminating(ctx, ns, "report")).To(BeFalse())
		res, err = d().ForceDelete(ctx, node, Options{Force: true, GracePeriodSeconds: ptr.To[int64](0), Rules: opts.Rules})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Evicted: 1, Message: "1 pod terminating"}))
		Expect(exists(ctx, ns, "report")).To(BeFalse())
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionDeleted: 1}))
	})

	It("blocks on a pod whose marker or rule does not parse, naming the pod and the value, and ForceDelete leaves it", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "maybe", node, labelled(upgradev1alpha1.DrainBehaviorKey, "Maybe"))
		makePod(ctx, ns, "later", node, annotated(upgradev1alpha1.DrainOrderKey, "abc"))
		makePod(ctx, ns, "odd", node, labelled("odd", "yes"))
		opts := drainspec.Options(upgradev1alpha1.DrainSpec{Rules: []upgradev1alpha1.DrainRule{{Name: "odd", Namespaces: []string{ns},
			// A matchLabels key that admission lets through.
			PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"not a key": "x"}}}}})
		before := counters()

		for _, pass := range []func(context.Context, string, Options) (Result, error){d().Drain, d().ForceDelete} {
			res, err := pass(ctx, node, opts)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Remaining).To(Equal(3))
			Expect(res.Kept).To(Equal(3), "neither an eviction nor a deletion moves them")
			Expect(res.Message).To(ContainSubstring(fmt.Sprintf(
				`pod %s/maybe has label drain.upgrade.nodewave.io/behavior "Maybe", not one of Drain, Skip, WaitCompleted (fix or remove it)`, ns)))
			Expect(res.Message).To(ContainSubstring(fmt.Sprintf(
				`pod %s/later has annotation drain.upgrade.nodewave.io/order "abc", not a 32-bit integer (fix or remove it)`, ns)))
			Expect(res.Message).To(ContainSubstring(fmt.Sprintf(`pod %s/odd is in a namespace of drain rule "odd", whose podSelector does not parse: `, ns)))
		}
		for _, name := range []string{"maybe", "later", "odd"} {
			Expect(terminating(ctx, ns, name)).To(BeFalse(), name)
		}
		Expect(moved(before)).To(BeEmpty())
	})

	It("evicts in drain order: a lower order holds back the higher ones while any of its pods is on the node", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "first", node, annotated(upgradev1alpha1.DrainOrderKey, "-5"))
		makePod(ctx, ns, "web", node)
		makePod(ctx, ns, "web2", node, labelled("app", "web"))
		makePod(ctx, ns, "db", node, labelled(upgradev1alpha1.DrainOrderKey, "10"))
		// Skipped and finished pods of a lower order never hold anything back.
		makePod(ctx, ns, "logs", node, annotated(upgradev1alpha1.DrainBehaviorKey, "Skip"), annotated(upgradev1alpha1.DrainOrderKey, "-100"))
		makePod(ctx, ns, "old", node, annotated(upgradev1alpha1.DrainOrderKey, "-100"), phase(corev1.PodSucceeded))
		budget := pdb(ctx, ns, "web", 0)
		opts := Options{}

		res, err := d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 4, Evicted: 1, Held: 3,
			Message: "3 pods wait for the pods of drain order -5 to leave; 1 pod terminating"}))
		Expect(terminating(ctx, ns, "first")).To(BeTrue())
		Expect(terminating(ctx, ns, "web")).To(BeFalse())

		By("holding order 0 while the order -5 pod terminates")
		res, err = d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 4, Held: 3,
			Message: "3 pods wait for the pods of drain order -5 to leave; 1 pod terminating"}))

		By("holding order 10 while a PodDisruptionBudget refuses an order-0 pod")
		terminate(ctx, ns)
		res, err = d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 3, Blocked: 2, Held: 1,
			Message: fmt.Sprintf("2 pods blocked by PodDisruptionBudget %s/web-pdb; 1 pod waits for the pods of drain order 0 to leave", ns)}))
		Expect(terminating(ctx, ns, "db")).To(BeFalse())

		setAllowed(ctx, budget, 1)
		res, err = d().Drain(ctx, node, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 3, Evicted: 1, Blocked: 1, Held: 1,
			Message: fmt.Sprintf("1 pod blocked by PodDisruptionBudget %s/web-pdb; 1 pod waits for the pods of drain order 0 to leave; 1 pod terminating", ns)}))
		Expect(terminating(ctx, ns, "db")).To(BeFalse())

		By("evicting order 10 once order 0 is gone")
		Eventually(func() int {
			setAllowed(ctx, budget, 1)
			terminate(ctx, ns)
			res, err := d().Drain(ctx, node, opts)
			Expect(err).NotTo(HaveOccurred())
			return res.Held
		}).Should(BeZero())
		Expect(terminating(ctx, ns, "db")).To(BeTrue())
		Expect(exists(ctx, ns, "logs")).To(BeTrue())
	})

	It("ForceDelete deletes every pod left at once, whatever its drain order", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "first", node)
		makePod(ctx, ns, "last", node, annotated(upgradev1alpha1.DrainOrderKey, "10"))

		res, err := d().ForceDelete(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"}))
		Expect(terminating(ctx, ns, "last")).To(BeTrue())
	})

	It("fails the pass when the pods cannot be listed", func(ctx SpecContext) {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := d().Drain(cancelled, "any-node", Options{})
		Expect(err).To(MatchError(ContainSubstring("listing the pods of node any-node")))
	})
})

// withoutOwners is r without its Owners, for the tests that look at the
// counts and the message (OwnerOf has its own test).
func withoutOwners(r Result) Result {
	r.Owners = nil
	return r
}
