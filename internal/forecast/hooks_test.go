package forecast

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestHookWordsNameEachHookAndItsNodes(t *testing.T) {
	node := func(name string, hooks ...string) corev1.Node {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"other": "x"}}}
		for _, h := range hooks {
			n.Annotations[h] = ""
		}
		return n
	}
	pre, post := upgradev1alpha1.PreDrainHookPrefix, upgradev1alpha1.PostUpgradeHookPrefix
	if got := hookWords([]corev1.Node{node("a"), node("b")}); got != nil {
		t.Fatalf("no hooks: %v", got)
	}
	got := hookWords([]corev1.Node{
		node("w-4", pre+"ceph-noout"), node("w-1", pre+"ceph-noout", post+"smoke"),
		node("w-3", pre+"ceph-noout"), node("w-2", pre+"ceph-noout", pre+"backup"),
	})
	want := []string{
		"pre-drain hook backup holds 1 node until its annotation pre-drain.hook.upgrade.nodewave.io/backup is removed: w-2",
		"pre-drain hook ceph-noout holds 4 nodes until its annotation pre-drain.hook.upgrade.nodewave.io/ceph-noout is removed: w-1, w-2, w-3 and 1 more",
		"post-upgrade hook smoke holds 1 node until its annotation post-upgrade.hook.upgrade.nodewave.io/smoke is removed: w-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("hook words (-want +got):\n%s", diff)
	}
}

func TestHookJobWordsSayEachHookJob(t *testing.T) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if got := hookJobWords(cu); got != nil {
		t.Fatalf("no hooks: %v", got)
	}
	cu.Spec.Hooks = &upgradev1alpha1.HooksSpec{
		PreDrain:    &upgradev1alpha1.HookJob{},
		PostUpgrade: &upgradev1alpha1.HookJob{Timeout: &metav1.Duration{Duration: time.Minute}, FailurePolicy: upgradev1alpha1.HookIgnore},
	}
	want := []string{
		"spec.hooks.preDrain runs a Job before each node's drain (timeout 10m0s, failurePolicy Fail)",
		"spec.hooks.postUpgrade runs a Job before each node's uncordon (timeout 1m0s, failurePolicy Ignore)",
	}
	if diff := cmp.Diff(want, hookJobWords(cu)); diff != "" {
		t.Fatalf("hook Job words (-want +got):\n%s", diff)
	}
}
