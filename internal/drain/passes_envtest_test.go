package drain

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy/drainspec"
)

// countingTransport counts the requests that read every namespace's pods:
// the LISTs and WATCHes of a node's pods.
type countingTransport struct {
	next      http.RoundTripper
	podsReads atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Path == "/api/v1/pods" {
		c.podsReads.Add(1)
	}
	return c.next.RoundTrip(req)
}

var _ = Describe("Passes against kube-apiserver", func() {
	It("reads a draining node's pods from one watch, and sees the node drained as soon as its last pod goes", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "a", node)
		makePod(ctx, ns, "b", node)
		counter := &countingTransport{}
		cfg := rest.CopyConfig(env.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
		cs, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())

		woken := make(chan string, 10)
		p := &Passes{Drainer: &Drainer{Client: cs}, Interval: 100 * time.Millisecond,
			Finished: func(owner string) { woken <- owner }}
		go func() { defer GinkgoRecover(); Expect(p.Start(ctx)).To(Succeed()) }()
		since := time.Now()

		// The first pass evicts both; with no kubelet they stay terminating.
		Eventually(func() *Outcome { return p.Request("cu", node, since, Options{}, false) }).
			Should(HaveField("Result", WithTransform(withoutOwners, Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"}))))
		Expect(terminating(ctx, ns, "a")).To(BeTrue())
		reads := counter.podsReads.Load()
		Expect(reads).To(BeNumerically("<=", 2), "one LIST and one WATCH (or one streaming WATCH)")

		// Passes every interval for a second: more passes, no more reads.
		var passes int
		var last *Outcome
		for range 10 {
			if o := p.Request("cu", node, since, Options{}, false); o != nil && o != last {
				passes++
				last = o
			}
			time.Sleep(100 * time.Millisecond)
		}
		Expect(passes).To(BeNumerically(">=", 3))
		Expect(withoutOwners(last.Result)).To(Equal(Result{Remaining: 2, Message: "2 pods terminating"}))
		Expect(last.Owners).To(HaveLen(2), "the owners of every pass of the drain, the first's too")
		Expect(counter.podsReads.Load()).To(Equal(reads), "the passes read the watched pods")
		Expect(woken).NotTo(Receive(), "pods left: no one is woken")

		// The kubelet lets them go: the owner is woken with no Request, and
		// the newest outcome is drained.
		terminate(ctx, ns)
		Eventually(woken).Should(Receive(Equal("cu")))
		Expect(p.Request("cu", node, since, Options{}, false).Drained()).To(BeTrue())
		Expect(counter.podsReads.Load()).To(Equal(reads))

		// Forgotten, the watch stops; a new drain lists again.
		p.Forget(node)
		makePod(ctx, ns, "c", node)
		since = time.Now()
		Eventually(func() *Outcome { return p.Request("cu", node, since, Options{}, false) }).
			Should(HaveField("Result.Evicted", 1))
		Expect(counter.podsReads.Load()).To(BeNumerically(">", reads))
	})
})

var _ = Describe("Passes looking after a watched pod changed", func() {
	It("sees the node drained when its last pod finishes, and looks at no other status change", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "batch", node)
		newPDB(ctx, ns, "batch-pdb", "batch") // no status yet: evictions refused
		woken := make(chan string, 10)
		p := &Passes{Drainer: &Drainer{Client: clientset}, Interval: time.Hour,
			Finished: func(owner string) { woken <- owner }}
		var ended atomic.Int32
		p.ended = func() { ended.Add(1) }
		go func() { defer GinkgoRecover(); Expect(p.Start(ctx)).To(Succeed()) }()
		since := time.Now()

		// One eviction pass (the next would wait an hour): blocked.
		Eventually(func() *Outcome { return p.Request("cu", node, since, Options{}, false) }).
			Should(HaveField("Result.Remaining", 1))
		Expect(ended.Load()).To(BeEquivalentTo(1))

		// A status change that leaves the pod running is not looked at.
		pod := &corev1.Pod{}
		Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "batch"}, pod)).To(Succeed())
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: "example.com/Probe", Status: corev1.ConditionTrue})
		Expect(env.Client.Status().Update(ctx, pod)).To(Succeed())
		Consistently(ended.Load, 500*time.Millisecond).Should(BeEquivalentTo(1), "no look, no pass")

		// The pod finishes: a look finds nothing left, and wakes the owner.
		pod.Status.Phase = corev1.PodSucceeded
		Expect(env.Client.Status().Update(ctx, pod)).To(Succeed())
		Eventually(woken).Should(Receive(Equal("cu")))
		Expect(p.Request("cu", node, since, Options{}, false).Drained()).To(BeTrue())
		Expect(ended.Load()).To(BeEquivalentTo(2), "one look")
	})
})

var _ = Describe("a drain pass over watched pods", func() {
	It("sorts every kind of pod as a pass over listed pods does, though the watch keeps only part of each pod", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		Expect(env.Client.Create(ctx, &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/agent:v1"}}}}},
		})).To(Succeed())
		makePod(ctx, ns, "web", node)
		makePod(ctx, ns, "cache", node, withEmptyDir())
		makePod(ctx, ns, "solo", node, unowned())
		makePod(ctx, ns, "agent", node, owned("DaemonSet", "agent"))
		makePod(ctx, ns, "orphan", node, owned("DaemonSet", "deleted"))
		makePod(ctx, ns, "static", node, mirror(), unowned())
		makePod(ctx, ns, "done", node, phase(corev1.PodSucceeded))
		makePod(ctx, ns, "leaving", node, unowned(), withEmptyDir())
		startDeleting(ctx, ns, "leaving")

		d := &Drainer{Client: clientset}
		watched := watchNodePods(clientset, node, func() {})
		defer watched.stop()
		Expect(watched.synced(ctx)).To(BeTrue())
		Expect(watched.list().Items).To(HaveLen(8))
		Expect(watched.list().Items[0].Spec.Containers).To(BeEmpty(), "the watch keeps only what a pass reads")

		type sorted struct {
			Evict, Blocked []string
			Errors         int
		}
		sort := func(ctx context.Context, client kubernetes.Interface, opts Options) sorted {
			n := &notes{}
			list, errs := d.helper(ctx, client, opts, n).GetPodsForDeletion(node)
			Expect(list).NotTo(BeNil())
			var s sorted
			for _, p := range list.Pods() {
				s.Evict = append(s.Evict, p.Name)
			}
			s.Blocked, s.Errors = n.blocked, len(errs)
			slices.Sort(s.Evict) // the watch's order is not the list's
			slices.Sort(s.Blocked)
			return s
		}
		for _, opts := range []Options{{}, {DeleteEmptyDirData: true}, {Force: true}, {DeleteEmptyDirData: true, Force: true}} {
			live := sort(ctx, clientset, opts)
			Expect(live.Evict).To(ContainElement("web"))
			Expect(sort(ctx, passClient{Interface: clientset, pods: watched, daemonSets: &d.daemonSets}, opts)).To(Equal(live), "options %+v", opts)
		}
	})
})

var _ = Describe("Passes with drain rules and pod markers", func() {
	It("evicts order 0 first and order 10 only once order 0 has left, leaves a Skip pod, and waits for a WaitCompleted pod until it succeeds", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "front-a", node, labelled("tier", "front"))
		makePod(ctx, ns, "front-b", node, labelled("tier", "front"))
		makePod(ctx, ns, "db-0", node, labelled("tier", "db"))
		makePod(ctx, ns, "db-1", node, labelled("tier", "db"))
		makePod(ctx, ns, "vector", node, labelled("tier", "logs"))
		// Its own markers win over the rule of every pod of the namespace.
		makePod(ctx, ns, "report", node, annotated(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted"),
			annotated(upgradev1alpha1.DrainOrderKey, "20"))
		opts := drainspec.Options(upgradev1alpha1.DrainSpec{Rules: []upgradev1alpha1.DrainRule{
			// The report's own markers win over this rule.
			{Name: "no-reports", PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"app": "report"}},
				Behavior: upgradev1alpha1.DrainBehaviorSkip},
			{Name: "logs", Namespaces: []string{ns}, Behavior: upgradev1alpha1.DrainBehaviorSkip,
				PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"tier": "logs"}}},
			{Name: "db-last", PodSelector: &upgradev1alpha1.PodLabelSelector{MatchLabels: map[string]upgradev1alpha1.LabelValue{"tier": "db"}},
				Order: ptr.To[int32](10)},
		}})

		woken := make(chan string, 10)
		p := &Passes{Drainer: &Drainer{Client: clientset}, Interval: 200 * time.Millisecond,
			Finished: func(owner string) { woken <- owner }}
		go func() { defer GinkgoRecover(); Expect(p.Start(ctx)).To(Succeed()) }()
		since := time.Now()
		request := func() *Outcome { return p.Request("cu", node, since, opts, false) }
		// isTerminating asks for a pass (a reconcile would, every poll
		// interval), and reports whether the pod is terminating.
		isTerminating := func(name string) func() bool {
			return func() bool { request(); return terminating(ctx, ns, name) }
		}

		By("evicting the pods of order 0 only")
		Eventually(request).Should(HaveField("Result.Evicted", 2))
		Expect(terminating(ctx, ns, "front-a")).To(BeTrue())
		Expect(terminating(ctx, ns, "front-b")).To(BeTrue())
		Eventually(func() Result { return withoutOwners(request().Result) }).Should(Equal(Result{Remaining: 5, Held: 2, Waiting: 1,
			Message: fmt.Sprintf("1 pod waited for until it completes (%s/report); 2 pods wait for the pods of drain order 0 to leave; 2 pods terminating", ns)}))
		Consistently(isTerminating("db-0"), time.Second).Should(BeFalse(), "an order-10 pod evicted while order-0 pods are on the node")
		Expect(terminating(ctx, ns, "db-1")).To(BeFalse())

		By("evicting the pods of order 10 once those of order 0 are gone")
		terminate(ctx, ns)
		Eventually(isTerminating("db-0")).Should(BeTrue())
		Eventually(isTerminating("db-1")).Should(BeTrue())

		By("holding the node for the pod waited for, never evicting it")
		terminate(ctx, ns)
		Eventually(func() Result { return withoutOwners(request().Result) }).Should(Equal(Result{Remaining: 1, Waiting: 1,
			Message: fmt.Sprintf("1 pod waited for until it completes (%s/report)", ns)}))
		Consistently(func() bool { return request().Drained() }, time.Second).Should(BeFalse())
		Expect(terminating(ctx, ns, "report")).To(BeFalse())
		Expect(woken).NotTo(Receive())

		By("seeing the node drained as soon as it succeeds, the skipped pod left on it")
		setPhase(ctx, ns, "report", corev1.PodSucceeded)
		Eventually(woken).Should(Receive(Equal("cu")))
		Expect(request().Drained()).To(BeTrue())
		Expect(exists(ctx, ns, "vector")).To(BeTrue())
		Expect(terminating(ctx, ns, "vector")).To(BeFalse())
		Expect(exists(ctx, ns, "report")).To(BeTrue(), "a finished pod is left alone")
	})
})
