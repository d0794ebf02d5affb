package drain

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

var _ = Describe("Drainer's memory of DaemonSets", func() {
	const ns, node = "shop", "node-a"

	It("GETs a DaemonSet once per 30 s across passes and nodes, remembers NotFound, not other errors", func(ctx SpecContext) {
		agent := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"}}
		c := fakeWith(func(string) error { return nil }, agent,
			newPod(ns, "agent-a", node, owned("DaemonSet", "agent")),
			newPod(ns, "orphan-a", node, owned("DaemonSet", "gone")))
		// (The fake clientset does not select by field: every pass sees
		// every pod, whichever node it drains.)
		gets := map[string]int{}
		var fail error
		c.PrependReactor("get", "daemonsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
			name := a.(k8stesting.GetAction).GetName()
			gets[name]++
			if fail != nil {
				return true, nil, fail
			}
			return false, nil, nil
		})
		now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
		d := &Drainer{Client: c}
		d.daemonSets.now = func() time.Time { return now }

		res, err := d.Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Remaining).To(Equal(1), "the orphan stays without force; the DaemonSet's pod is not counted")
		Expect(res.Message).To(ContainSubstring("no longer exists"))
		_, err = d.Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		_, err = d.Drain(ctx, "node-b", Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(gets).To(Equal(map[string]int{"agent": 1, "gone": 1}), "three passes over two nodes, one GET each")

		now = now.Add(daemonSetMemory)
		fail = apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "daemonsets"}, "agent", errors.New("no RBAC"))
		res, err = d.Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Message).To(ContainSubstring("no RBAC"), "after 30 s it asks again")
		Expect(gets).To(Equal(map[string]int{"agent": 2, "gone": 2}))
		_, err = d.Drain(ctx, node, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(gets).To(Equal(map[string]int{"agent": 3, "gone": 3}), "an error other than NotFound is not remembered")
	})
})
