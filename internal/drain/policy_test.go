package drain

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodewave/nodewave/internal/drainpolicy"
)

func terminatingPod() podOpt {
	return func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }
}

func TestJudge(t *testing.T) {
	strict := Options{}                                     // force off, emptyDir kept
	loose := Options{Force: true, DeleteEmptyDirData: true} // everything may go
	onlyEmptyDir := Options{DeleteEmptyDirData: true}       // the defaults of spec.drain
	dsExists := func(_, name string) bool { return name == "logs" }
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		opts Options
		want drainpolicy.Verdict
		why  string
	}{
		{"a ReplicaSet's pod is evicted", newPod("ns", "web", "n"), strict, drainpolicy.Evicted, ""},
		{"a mirror pod stays", newPod("ns", "etcd", "n", unowned(), mirror()), strict, drainpolicy.Stays, ""},
		{"a DaemonSet's pod stays", newPod("ns", "agent", "n", owned("DaemonSet", "logs")), strict, drainpolicy.Stays, ""},
		{"a succeeded pod stays, even without a controller", newPod("ns", "done", "n", unowned(), phase(corev1.PodSucceeded)), strict, drainpolicy.Stays, ""},
		{"a failed pod stays", newPod("ns", "crashed", "n", phase(corev1.PodFailed)), strict, drainpolicy.Stays, ""},
		{"a finished orphan DaemonSet pod stays", newPod("ns", "old", "n", owned("DaemonSet", "gone"), phase(corev1.PodFailed)), strict, drainpolicy.Stays, ""},
		{"a terminating pod is leaving", newPod("ns", "bye", "n", terminatingPod()), strict, drainpolicy.Leaving, ""},
		{"a terminating pod without a controller is leaving, not blocked", newPod("ns", "bye", "n", unowned(), terminatingPod()), strict, drainpolicy.Leaving, ""},
		{"a terminating DaemonSet pod stays", newPod("ns", "agent", "n", owned("DaemonSet", "logs"), terminatingPod()), strict, drainpolicy.Stays, ""},
		{"no controller blocks without force", newPod("ns", "solo", "n", unowned()), onlyEmptyDir, drainpolicy.Blocked,
			"has no controller (set drain.force to evict it)"},
		{"no controller is evicted with force", newPod("ns", "solo", "n", unowned()), loose, drainpolicy.Evicted, ""},
		{"an orphan DaemonSet pod blocks without force", newPod("ns", "old", "n", owned("DaemonSet", "gone")), onlyEmptyDir, drainpolicy.Blocked,
			"belongs to a DaemonSet that no longer exists (set drain.force to evict it)"},
		{"an orphan DaemonSet pod is evicted with force", newPod("ns", "old", "n", owned("DaemonSet", "gone")), loose, drainpolicy.Evicted, ""},
		{"emptyDir blocks without deleteEmptyDirData", newPod("ns", "cache", "n", withEmptyDir()), Options{Force: true}, drainpolicy.Blocked,
			"uses emptyDir (set drain.deleteEmptyDirData to evict it)"},
		{"emptyDir is evicted with deleteEmptyDirData", newPod("ns", "cache", "n", withEmptyDir()), onlyEmptyDir, drainpolicy.Evicted, ""},
		{"no controller is named before emptyDir", newPod("ns", "both", "n", unowned(), withEmptyDir()), strict, drainpolicy.Blocked,
			"has no controller (set drain.force to evict it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := drainpolicy.Judge(tc.pod, tc.opts, dsExists)
			if j.Verdict != tc.want || j.Why != tc.why {
				t.Fatalf("drainpolicy.Judge = %s %q, want %s %q", j.Verdict, j.Why, tc.want, tc.why)
			}
		})
	}
}
