package drain

import (
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nodewave/nodewave/internal/metrics"
)

// The answers below are the ones kube-apiserver v1.37 writes in
// pkg/registry/core/pod/storage/eviction.go; envtest cannot produce all of
// them (a budget's status cannot be made negative through the API), so a
// fake clientset plays them.

// tooManyRequests is a 429 with the given DisruptionBudget causes.
func tooManyRequests(causes ...string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	for _, c := range causes {
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes,
			metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: c})
	}
	return err
}

// fakeWith is a fake clientset holding objs whose evictions answer
// answer(pod name).
func fakeWith(answer func(name string) error, objs ...runtime.Object) *fake.Clientset {
	c := fake.NewClientset(objs...)
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		return true, nil, answer(a.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction).Name)
	})
	return c
}

var _ = Describe("Drainer with the API server's error answers", func() {
	const ns, node = "shop", "node-fake"

	It("finds the budget's name in the cause, or in the namespace's budgets, or says it is unknown", func(ctx SpecContext) {
		budget := &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cart-pdb"},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cart"}}},
		}
		nilSelector := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "matches-nothing"}}
		c := fakeWith(func(name string) error {
			switch name {
			case "web":
				return tooManyRequests("The disruption budget web-pdb needs 2 healthy pods and has 2 currently")
			case "cart", "lonely":
				return tooManyRequests() // no cause: find the budget by selector
			case "gone":
				return apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, name)
			}
			return fmt.Errorf("unexpected eviction of %s", name)
		}, newPod(ns, "web", node), newPod(ns, "cart", node), newPod(ns, "lonely", node), newPod(ns, "gone", node),
			budget, nilSelector)
		before := counters()

		res, err := (&Drainer{Client: c}).Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(withoutOwners(res)).To(Equal(Result{Remaining: 3, Blocked: 3, Message: "1 pod blocked: eviction refused with 429 Too Many Requests; " +
			"1 pod blocked by PodDisruptionBudget shop/cart-pdb; 1 pod blocked by PodDisruptionBudget shop/web-pdb"}))
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionBlocked: 3}), "a pod already gone is no attempt that failed")
	})

	It("counts a 403 from a budget whose status is inconsistent as blocked, and other errors as errors", func(ctx SpecContext) {
		c := fakeWith(func(name string) error {
			if name == "negative" {
				err := apierrors.NewForbidden(policyv1.Resource("poddisruptionbudget"), "neg-pdb", errors.New("pdb disruptions allowed is negative"))
				err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
					Message: "The disruption budget neg-pdb does not allow evicting pods currently: pdb disruptions allowed is negative"})
				return err
			}
			return apierrors.NewInternalError(errors.New("etcd is on fire"))
		}, newPod(ns, "negative", node), newPod(ns, "broken", node))
		before := counters()

		res, err := (&Drainer{Client: c}).Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(2))
		Expect(res.Blocked).To(Equal(1))
		Expect(res.Message).To(Equal("1 pod blocked by PodDisruptionBudget shop/neg-pdb; pod shop/broken: " +
			"Internal error occurred: etcd is on fire"))
		Expect(moved(before)).To(Equal(map[string]float64{metrics.EvictionBlocked: 1, metrics.EvictionError: 1}))
	})

	It("keeps a DaemonSet's pod it cannot check, and counts it", func(ctx SpecContext) {
		c := fakeWith(func(string) error { return nil },
			newPod(ns, "agent-a", node, owned("DaemonSet", "agent")), newPod(ns, "agent-b", node, owned("DaemonSet", "agent")))
		c.PrependReactor("get", "daemonsets", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "daemonsets"}, "agent", errors.New("no RBAC"))
		})

		res, err := (&Drainer{Client: c}).Drain(ctx, node, Options{Force: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(2))
		Expect(res.Evicted).To(BeZero())
		Expect(res.Message).To(ContainSubstring("shop/agent-a"))
		Expect(res.Message).To(ContainSubstring("no RBAC"))
	})

	It("fails the pass when the pods cannot be listed", func(ctx SpecContext) {
		c := fake.NewClientset()
		c.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewServiceUnavailable("down")
		})
		_, err := (&Drainer{Client: c}).Drain(ctx, node, Options{})
		Expect(err).To(HaveOccurred())
		Expect(apierrors.IsServiceUnavailable(err)).To(BeTrue(), "the cause stays inspectable: %v", err)
	})
})

var _ = Describe("helpers", func() {
	It("reads the budget's name from every cause kube-apiserver writes", func() {
		for msg, want := range map[string]string{
			"The disruption budget web is still being processed by the server.":                                            "web",
			"The disruption budget web.v2 needs 3 healthy pods and has 2 currently":                                        "web.v2",
			"The disruption budget a does not allow evicting pods currently":                                               "a",
			"The disruption budget web-pdb does not allow evicting pods currently because it failed sync: boom":            "web-pdb",
			"The disruption budget web-pdb does not allow evicting pods currently (InsufficientPods): not enough pods":     "web-pdb",
			"The disruption budget web-pdb does not allow evicting pods currently: too many pending evictions not confirm": "web-pdb",
			"something else entirely": "",
		} {
			Expect(budgetInError(tooManyRequests(msg))).To(Equal(want), msg)
		}
		Expect(budgetInError(errors.New("plain"))).To(BeEmpty())
		Expect(budgetInError(apierrors.NewTooManyRequestsError("throttled"))).To(BeEmpty())
	})

	It("counts the pods a kubectl filter error names", func() {
		Expect(podsNamedIn(errors.New(`cannot delete daemonsets.apps "x" is forbidden: no: ns/a, ns/b, other/c`))).To(Equal(3))
		Expect(podsNamedIn(errors.New(`cannot delete boom: ns/a`))).To(Equal(1))
		Expect(podsNamedIn(errors.New(`no separator`))).To(Equal(1))
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
		long := shorten(string(make([]byte, 500)))
		Expect(len(long)).To(BeNumerically("<=", maxErrorLen+len("…")))
	})

	It("skips only finished pods", func() {
		Expect(skipFinished(corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}).Delete).To(BeFalse())
		Expect(skipFinished(corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}).Delete).To(BeFalse())
		Expect(skipFinished(corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}).Delete).To(BeTrue())
	})
})
