package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNodeWritesKeepTheNewest: the pass and the taint writers write the
// same node at once, and the one whose write the API server made first
// may record it last. The overlay must still show the newest write: an
// older one would show a node cordoned by the pass as never cordoned.
func TestNodeWritesKeepTheNewest(t *testing.T) {
	node := func(rv string, unschedulable bool) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "u", ResourceVersion: rv},
			Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	}
	var w nodeWrites
	now := time.Now()
	w.wrote(node("102", true), now)  // the pass's cordon, recorded first
	w.wrote(node("101", false), now) // a taint write the server made before it, recorded after
	got := w.overlay(node("100", false))
	if got.ResourceVersion != "102" || !got.Spec.Unschedulable {
		t.Fatalf("overlay shows resourceVersion %s, unschedulable %v; want the newest write, 102, cordoned",
			got.ResourceVersion, got.Spec.Unschedulable)
	}
}
