package observability

import (
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// checkScrapeAuthorization checks how the ServiceMonitor's endpoint ep (in
// namespace ns) authenticates to the manager, in the objects built: with
// `authorization` (type Bearer) and credentials from a Secret key, not the
// deprecated bearerTokenFile or bearerTokenSecret; the Secret a
// kubernetes.io/service-account-token Secret in the ServiceMonitor's
// namespace (the Prometheus operator reads credentials there only) for a
// ServiceAccount of the build that a ClusterRoleBinding binds to the
// metrics-reader ClusterRole, the one that grants get on /metrics.
func checkScrapeAuthorization(t *testing.T, built map[string][]byte, ns string, ep monitoringv1.Endpoint) {
	t.Helper()
	if ep.BearerTokenFile != "" || ep.BearerTokenSecret != nil { //nolint:staticcheck // checking they are not used
		t.Errorf("ServiceMonitor endpoint uses the deprecated bearerTokenFile %q / bearerTokenSecret %v; use authorization",
			ep.BearerTokenFile, ep.BearerTokenSecret) //nolint:staticcheck // as above
	}
	if err := ep.HTTPConfigWithoutTLS.Validate(); err != nil {
		t.Errorf("ServiceMonitor endpoint: %v", err)
	}
	a := ep.Authorization
	if a == nil || a.Credentials == nil {
		t.Fatalf("ServiceMonitor endpoint has no authorization credentials: the manager authenticates every scrape")
	}
	if a.Type != "Bearer" {
		t.Errorf("ServiceMonitor authorization type %q, want Bearer", a.Type)
	}
	raw := built["Secret/"+a.Credentials.Name]
	if raw == nil {
		t.Fatalf("ServiceMonitor authorization reads Secret %q, which the build does not have: %v", a.Credentials.Name, keys(built))
	}
	secret := &corev1.Secret{}
	if err := yaml.UnmarshalStrict(raw, secret); err != nil {
		t.Fatal(err)
	}
	if secret.Namespace != ns {
		t.Errorf("Secret %s in namespace %q, the ServiceMonitor in %q: the Prometheus operator reads credentials from the ServiceMonitor's namespace only",
			secret.Name, secret.Namespace, ns)
	}
	if secret.Type != corev1.SecretTypeServiceAccountToken || a.Credentials.Key != corev1.ServiceAccountTokenKey {
		t.Errorf("Secret %s type %q, key %q: want a %s Secret's %q key, which the API server fills with the ServiceAccount's token",
			secret.Name, secret.Type, a.Credentials.Key, corev1.SecretTypeServiceAccountToken, corev1.ServiceAccountTokenKey)
	}
	sa := secret.Annotations[corev1.ServiceAccountNameKey]
	if built["ServiceAccount/"+sa] == nil {
		t.Fatalf("Secret %s is for ServiceAccount %q, which the build does not have", secret.Name, sa)
	}

	if !metricsReaderBound(t, built, secret.Namespace, sa) {
		t.Errorf("no ClusterRoleBinding binds ServiceAccount %s/%s to a ClusterRole that grants get on /metrics", secret.Namespace, sa)
	}
}

// metricsReaderBound tells whether a ClusterRoleBinding of the build binds
// the ServiceAccount ns/sa to a ClusterRole of the build that grants get on
// /metrics.
func metricsReaderBound(t *testing.T, built map[string][]byte, ns, sa string) bool {
	t.Helper()
	readers := map[string]bool{}
	for k, b := range built {
		if !strings.HasPrefix(k, "ClusterRole/") {
			continue
		}
		role := &rbacv1.ClusterRole{}
		if err := yaml.UnmarshalStrict(b, role); err != nil {
			t.Fatal(err)
		}
		for _, r := range role.Rules {
			for _, u := range r.NonResourceURLs {
				for _, v := range r.Verbs {
					if u == "/metrics" && v == "get" {
						readers[role.Name] = true
					}
				}
			}
		}
	}
	bound := false
	for k, b := range built {
		if !strings.HasPrefix(k, "ClusterRoleBinding/") {
			continue
		}
		binding := &rbacv1.ClusterRoleBinding{}
		if err := yaml.UnmarshalStrict(b, binding); err != nil {
			t.Fatal(err)
		}
		if binding.RoleRef.Kind != "ClusterRole" || !readers[binding.RoleRef.Name] {
			continue
		}
		for _, s := range binding.Subjects {
			bound = bound || (s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == ns)
		}
	}
	return bound
}
