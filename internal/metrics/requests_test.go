package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestRequestKind(t *testing.T) {
	tests := []struct {
		method, url            string
		wantVerb, wantResource string
	}{
		{"GET", "/api/v1/nodes", "list", "nodes"},
		{"GET", "/api/v1/nodes?watch=true&resourceVersion=10", "watch", "nodes"},
		{"GET", "/api/v1/nodes/worker-1", "get", "nodes"},
		{"PATCH", "/api/v1/nodes/worker-1", "patch", "nodes"},
		{"GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dw", "list", "pods"},
		{"POST", "/api/v1/namespaces/default/pods/web-1/eviction", "create", "pods/eviction"},
		{"DELETE", "/api/v1/namespaces/default/pods/web-1", "delete", "pods"},
		{"POST", "/apis/batch/v1/namespaces/nodewave-system/jobs", "create", "jobs.batch"},
		{"GET", "/apis/apps/v1/namespaces/w/replicasets/web-1", "get", "replicasets.apps"},
		{"PUT", "/apis/upgrade.nodewave.io/v1alpha1/clusterupgrades/cu/status", "update", "clusterupgrades.upgrade.nodewave.io/status"},
		{"PATCH", "/apis/upgrade.nodewave.io/v1alpha1/clusterupgrades/cu/status", "patch", "clusterupgrades.upgrade.nodewave.io/status"},
		{"GET", "/apis/coordination.k8s.io/v1/namespaces/s/leases/l", "get", "leases.coordination.k8s.io"},
		{"GET", "/version", "get", "/version"},
		{"GET", "/apis/upgrade.nodewave.io/v1alpha1", "get", "/apis/upgrade.nodewave.io/v1alpha1"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.url, nil)
		verb, resource := RequestKind(req)
		if verb != tt.wantVerb || resource != tt.wantResource {
			t.Errorf("%s %s: got %s %s, want %s %s", tt.method, tt.url, verb, resource, tt.wantVerb, tt.wantResource)
		}
	}
}

// TestCountRequests sends a client-go clientset's requests through the
// wrapper, as the manager's rest.Config does, to a server that answers
// every request, and reads the counter.
func TestCountRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/eviction"):
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`))
		case r.URL.Path == "/api/v1/nodes":
			_, _ = w.Write([]byte(`{"kind":"NodeList","apiVersion":"v1","items":[]}`))
		default:
			_, _ = w.Write([]byte(`{"kind":"Node","apiVersion":"v1","metadata":{"name":"w"}}`))
		}
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL}
	cfg.Wrap(CountRequests)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := func(verb, resource string) float64 {
		return testutil.ToFloat64(APIRequestsTotal.WithLabelValues(verb, resource))
	}
	lists, patches, evictions := before("list", "nodes"), before("patch", "nodes"), before("create", "pods/eviction")
	ctx := t.Context()
	for range 2 {
		if _, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Nodes().Patch(ctx, "w", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("default").EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		verb, resource string
		was, want      float64
	}{{"list", "nodes", lists, 2}, {"patch", "nodes", patches, 1}, {"create", "pods/eviction", evictions, 1}} {
		if got := before(c.verb, c.resource) - c.was; got != c.want {
			t.Errorf("%s %s counted %v times, want %v", c.verb, c.resource, got, c.want)
		}
	}
}
