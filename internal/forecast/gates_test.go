package forecast

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestGateWordsSayEachGate(t *testing.T) {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	if got := gateWords(cu); got != nil {
		t.Fatalf("no gates: %v", got)
	}
	cu.Spec.Health.ReplacementsReady = &upgradev1alpha1.ReplacementsReadySpec{}
	cu.Spec.Health.Checks = []upgradev1alpha1.HealthCheck{
		{Name: "ceph", APIVersion: "ceph.rook.io/v1", Kind: "CephCluster", Namespace: "rook-ceph", ObjectName: "rook-ceph",
			Expression: `object.status.ceph.health == "HEALTH_OK"`},
		{Name: "db", APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop",
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "db"}}, Expression: "object.status.availableReplicas >= 1"},
		{Name: "node", APIVersion: "v1", Kind: "Node", ObjectName: "cp-0", Expression: "true"},
	}
	cu.Spec.Health.Prometheus = &upgradev1alpha1.PrometheusGate{URL: "http://prometheus:9090", AlertNames: "Kube.*", FiringOnly: true}
	want := []string{
		"the workloads the drains evicted pods of are back to their ready replicas (stalls after 10m0s)",
		`check ceph: object.status.ceph.health == "HEALTH_OK" of CephCluster rook-ceph/rook-ceph`,
		"check db: object.status.availableReplicas >= 1 of every Deployment matching tier=db in shop",
		"check node: true of Node cp-0",
		`no alert matching "Kube.*" firing in http://prometheus:9090`,
	}
	if diff := cmp.Diff(want, gateWords(cu)); diff != "" {
		t.Fatalf("gate words (-want +got):\n%s", diff)
	}
}
