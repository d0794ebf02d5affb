package drain

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestOwnerOfNamesTheWorkloadsThatKeepAReadyCount(t *testing.T) {
	pod := func(apiVersion, kind string, controller bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p", OwnerReferences: []metav1.OwnerReference{
			{APIVersion: apiVersion, Kind: kind, Name: "w", Controller: ptr.To(controller)}}}}
	}
	cases := []struct {
		pod  *corev1.Pod
		want string
	}{
		{pod("apps/v1", "ReplicaSet", true), "ReplicaSet/shop/w"},
		{pod("apps/v1", "StatefulSet", true), "StatefulSet/shop/w"},
		{pod("v1", "ReplicationController", true), "ReplicationController/shop/w"},
		{pod("apps/v1", "ReplicaSet", false), ""},                      // an owner, not the controller
		{pod("batch/v1", "Job", true), ""},                             // no ready count to wait for
		{pod("apps/v1", "DaemonSet", true), ""},                        // never evicted
		{pod("example.com/v1", "ReplicaSet", true), ""},                // someone else's kind
		{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare"}}, ""}, // a bare pod
	}
	for _, c := range cases {
		if got := OwnerOf(c.pod); got != c.want {
			t.Errorf("OwnerOf(%+v) = %q, want %q", c.pod.OwnerReferences, got, c.want)
		}
	}
}
