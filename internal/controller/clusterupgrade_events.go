package controller

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// nodeEvent records one node transition twice, so both `kubectl describe
// node` and `kubectl describe clusterupgrade` show it: regarding the Node
// (related to the ClusterUpgrade) and regarding the ClusterUpgrade (related
// to the Node).
func (r *ClusterUpgradeReconciler) nodeEvent(s *scope, n *corev1.Node, eventType, reason, action, format string, args ...any) {
	if r.Recorder == nil {
		return
	}
	note := fmt.Sprintf(format, args...)
	r.Recorder.Eventf(n, s.cu, eventType, reason, action, "%s", note)
	r.Recorder.Eventf(s.cu, n, eventType, reason, action, "%s", note)
}
