package drain

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/drainpolicy"
)

// drainpolicy.Judge is what a forecast uses to foresee the drain; these specs hold it
// to what Drain really does with each kind of pod, under each option, so
// the two cannot drift apart.
var _ = Describe("drainpolicy.Judge agrees with Drain", func() {
	cases := []struct {
		name      string
		opts      []podOpt
		terminate bool
	}{
		{name: "managed"},
		{name: "solo", opts: []podOpt{unowned()}},
		{name: "cache", opts: []podOpt{withEmptyDir()}},
		{name: "solo-cache", opts: []podOpt{unowned(), withEmptyDir()}},
		{name: "agent", opts: []podOpt{owned("DaemonSet", "agent"), withEmptyDir()}},
		{name: "orphan", opts: []podOpt{owned("DaemonSet", "deleted")}},
		{name: "static", opts: []podOpt{unowned(), mirror()}},
		{name: "done", opts: []podOpt{unowned(), phase(corev1.PodSucceeded)}},
		{name: "crashed", opts: []podOpt{withEmptyDir(), phase(corev1.PodFailed)}},
		{name: "leaving", opts: []podOpt{unowned()}, terminate: true},
		{name: "skipped", opts: []podOpt{unowned(), labelled(upgradev1alpha1.DrainBehaviorKey, "Skip")}},
		{name: "skipped-leaving", opts: []podOpt{labelled(upgradev1alpha1.DrainBehaviorKey, "Skip")}, terminate: true},
		{name: "awaited", opts: []podOpt{withEmptyDir(), annotated(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted")}},
		{name: "awaited-done", opts: []podOpt{annotated(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted"), phase(corev1.PodSucceeded)}},
		{name: "unsure", opts: []podOpt{labelled(upgradev1alpha1.DrainBehaviorKey, "Maybe")}},
		{name: "misordered", opts: []podOpt{labelled(upgradev1alpha1.DrainOrderKey, "ten")}},
		{name: "ordered", opts: []podOpt{unowned(), annotated(upgradev1alpha1.DrainOrderKey, "-7")}},
		{name: "agent-awaited", opts: []podOpt{owned("DaemonSet", "agent"), annotated(upgradev1alpha1.DrainBehaviorKey, "WaitCompleted")}},
	}
	rules := []drainpolicy.Rule{
		{Name: "wait-cache", Pods: labels.SelectorFromSet(labels.Set{"app": "cache"}), Behavior: drainpolicy.BehaviorWaitCompleted},
		{Name: "skip-solo", Pods: labels.SelectorFromSet(labels.Set{"app": "solo"}), Behavior: drainpolicy.BehaviorSkip},
		{Name: "orphans-last", Pods: labels.SelectorFromSet(labels.Set{"app": "orphan"}), Order: 3},
	}
	for _, opts := range []Options{{}, {DeleteEmptyDirData: true}, {Force: true}, {DeleteEmptyDirData: true, Force: true},
		{Rules: rules}, {Force: true, Rules: rules}} {
		for _, tc := range cases {
			It(fmt.Sprintf("on a %s pod with %+v", tc.name, opts), func(ctx SpecContext) {
				ns, node := namespace(ctx)
				makeDaemonSet(ctx, ns, "agent")
				makePod(ctx, ns, tc.name, node, tc.opts...)
				if tc.terminate {
					startDeleting(ctx, ns, tc.name)
				}
				pod := &corev1.Pod{}
				Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tc.name}, pod)).To(Succeed())
				j := drainpolicy.Judge(pod, opts, func(namespace, name string) bool {
					err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &appsv1.DaemonSet{})
					Expect(client.IgnoreNotFound(err)).To(Succeed())
					return !apierrors.IsNotFound(err)
				})

				res, err := (&Drainer{Client: clientset}).Drain(ctx, node, opts)
				Expect(err).NotTo(HaveOccurred())
				switch j.Verdict {
				case drainpolicy.Stays:
					Expect(withoutOwners(res)).To(Equal(Result{}))
				case drainpolicy.Leaving:
					Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Message: "1 pod terminating"}))
				case drainpolicy.Blocked:
					Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Kept: 1, Message: fmt.Sprintf("pod %s/%s %s", ns, tc.name, j.Why)}))
				case drainpolicy.Evicted:
					Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Evicted: 1, Message: "1 pod terminating"}))
				case drainpolicy.Skipped:
					Expect(withoutOwners(res)).To(Equal(Result{}))
				case drainpolicy.WaitedFor:
					Expect(withoutOwners(res)).To(Equal(Result{Remaining: 1, Waiting: 1,
						Message: fmt.Sprintf("1 pod waited for until it completes (%s/%s)", ns, tc.name)}))
				default:
					Fail("unknown verdict " + string(j.Verdict))
				}
			})
		}
	}
})

// makeDaemonSet creates a DaemonSet; with no controller running, it makes
// no pods.
func makeDaemonSet(ctx context.Context, ns, name string) {
	podLabels := map[string]string{"app": name}
	Expect(env.Client.Create(ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: podLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/agent:v1"}}}}},
	})).To(Succeed())
}
