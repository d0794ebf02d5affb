package controlplane

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
)

const testToken = "manager-token"

// fakeAPIServer is a TLS server that answers GET /readyz with status and
// body for the bearer token testToken, and 401 for anything else.
func fakeAPIServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer "+testToken:
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case r.Method != http.MethodGet || r.URL.Path != "/readyz":
			http.Error(w, "not found", http.StatusNotFound)
		default:
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// configTrusting is a manager's rest.Config whose Host is elsewhere (a
// port nothing listens on), that trusts srv's certificate and sends
// testToken.
func configTrusting(srv *httptest.Server) *rest.Config {
	return &rest.Config{
		Host:            "https://127.0.0.1:1",
		BearerToken:     testToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})},
	}
}

func endpointOf(srv *httptest.Server) string { return srv.Listener.Addr().String() }

func TestAPIServerReady(t *testing.T) {
	const notReady = "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]poststarthook/start-informers ok\n" +
		"[-]poststarthook/rbac/bootstrap-roles failed: not finished\nreadyz check failed\n"
	ready := fakeAPIServer(t, http.StatusOK, "ok")
	tests := []struct {
		name     string
		srv      *httptest.Server
		config   func(*rest.Config)
		endpoint string
		// want are substrings of the error; none for no error.
		want []string
		// notWant must not be in the error.
		notWant string
	}{
		{name: "ready", srv: ready},
		{name: "not ready names the failed checks", srv: fakeAPIServer(t, http.StatusInternalServerError, notReady),
			want: []string{"is not ready: GET /readyz answered 500 Internal Server Error: " +
				"[-]etcd failed: reason withheld, [-]poststarthook/rbac/bootstrap-roles failed: not finished"},
			notWant: "ping"},
		{name: "an answer without checks is quoted", srv: fakeAPIServer(t, http.StatusServiceUnavailable, "shutting\ndown\n"),
			want: []string{"answered 503 Service Unavailable: shutting down"}},
		{name: "the manager's credentials are sent", srv: ready,
			config: func(c *rest.Config) { c.BearerToken = "someone-else" }, want: []string{"401 Unauthorized"}},
		{name: "the config's CA is trusted, and only it", srv: ready,
			config: func(c *rest.Config) { c.CAData = newTestCA(t, "another-ca").pem },
			want:   []string{"certificate"}},
		{name: "no endpoint", srv: ready, endpoint: "-", want: []string{"no API server address to check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configTrusting(tt.srv)
			if tt.config != nil {
				tt.config(cfg)
			}
			before := rest.CopyConfig(cfg)
			endpoint := endpointOf(tt.srv)
			if tt.endpoint == "-" {
				endpoint = ""
			}
			err := APIServerReady(context.Background(), cfg, endpoint)
			if cfg.Host != before.Host || cfg.APIPath != before.APIPath || cfg.Timeout != before.Timeout {
				t.Errorf("APIServerReady changed the config: %+v, was %+v", cfg, before)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("APIServerReady: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("APIServerReady: nil, want an error saying %q", tt.want)
			}
			for _, w := range append(tt.want, endpoint) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("APIServerReady: %q\ndoes not say %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("APIServerReady: %q\nsays %q", err, tt.notWant)
			}
		})
	}
}

// An API server that does not answer holds APIServerReady no longer than
// its context.
func TestAPIServerReadyHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := APIServerReady(ctx, configTrusting(srv), endpointOf(srv))
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("APIServerReady on a server that never answers: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("APIServerReady took %s, past its context's 200ms", took)
	}
}

func TestAPIServerEndpoint(t *testing.T) {
	annotated := func(endpoint string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Annotations[APIServerEndpointAnnotation] = endpoint }
	}
	apiserver := func(node string, opts ...func(*corev1.Pod)) corev1.Pod {
		return staticPod(KubeAPIServer, node, "registry.k8s.io/kube-apiserver:v1.37.2", opts...)
	}
	tests := []struct {
		name, internalIP string
		pods             []corev1.Pod
		want             string
	}{
		{"annotation", "10.0.0.11", []corev1.Pod{apiserver("cp-1", annotated("10.0.0.21:6443"))}, "10.0.0.21:6443"},
		{"annotation with another port", "10.0.0.11", []corev1.Pod{apiserver("cp-1", annotated("10.0.0.11:8443"))}, "10.0.0.11:8443"},
		{"IPv6 annotation", "fd00::11", []corev1.Pod{apiserver("cp-1", annotated("[fd00::21]:6443"))}, "[fd00::21]:6443"},
		{"no annotation: InternalIP", "10.0.0.11", []corev1.Pod{apiserver("cp-1")}, "10.0.0.11:6443"},
		{"no pod: InternalIP", "10.0.0.11", nil, "10.0.0.11:6443"},
		{"IPv6 InternalIP", "fd00::11", nil, "[fd00::11]:6443"},
		{"another node's annotation is not this node's", "10.0.0.11",
			[]corev1.Pod{apiserver("cp-2", annotated("10.0.0.12:6443"))}, "10.0.0.11:6443"},
		{"another component's annotation is not the API server's", "10.0.0.11",
			[]corev1.Pod{staticPod(Etcd, "cp-1", "registry.k8s.io/etcd:3.6.16-0", annotated("10.0.0.99:6443"))}, "10.0.0.11:6443"},
		{"not a mirror pod", "10.0.0.11",
			[]corev1.Pod{apiserver("cp-1", annotated("10.0.0.21:6443"), func(p *corev1.Pod) {
				delete(p.Annotations, corev1.MirrorPodAnnotationKey)
			})}, "10.0.0.11:6443"},
		{"annotation without a port", "10.0.0.11", []corev1.Pod{apiserver("cp-1", annotated("10.0.0.21"))}, "10.0.0.11:6443"},
		{"unspecified address keeps its port", "10.0.0.11", []corev1.Pod{apiserver("cp-1", annotated("0.0.0.0:8443"))}, "10.0.0.11:8443"},
		{"hostname annotation", "10.0.0.11", []corev1.Pod{apiserver("cp-1", annotated("cp-1.example.com:6443"))}, "cp-1.example.com:6443"},
		{"nothing known", "", []corev1.Pod{apiserver("cp-1")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := APIServerEndpoint(tt.pods, "cp-1", tt.internalIP); got != tt.want {
				t.Errorf("APIServerEndpoint = %q, want %q", got, tt.want)
			}
		})
	}
}
