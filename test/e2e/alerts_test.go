package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// alertsGate runs spec.health.prometheus against a real Prometheus, built
// from the Go module proxy (hack/toolchain.sh prometheus): it scrapes a
// target of this test whose metric the test sets, and a rule fires on it.
// While the alert fires no node starts and Gated says which alert; once it
// is resolved the upgrade goes on. The same Prometheus scrapes the
// manager as a ServiceMonitor does (HTTPS, a ServiceAccount's token that
// the API server authenticates, bound to the metrics-reader role), and its
// gated metric agrees with the condition.
func alertsGate(ctx SpecContext) {
	const name, target = "e2e-alerts", "v1.36.13"
	nodes := []string{"worker-040", "worker-041"}
	var trigger atomic.Int32
	trigger.Store(1)
	targetURL := serveTrigger(&trigger)
	promURL := startPrometheus(targetURL, managerScrape(ctx))

	By("the rule fires in Prometheus")
	Eventually(func() []string { return activeAlerts(ctx, promURL) }).WithTimeout(time.Minute).
		Should(ContainElement("NodewaveE2ETrigger firing"))

	cu := clusterUpgrade(name, target, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelHostname, Operator: metav1.LabelSelectorOpIn, Values: nodes}}}, upgradev1alpha1.ExternalUpgrade)
	cu.Spec.Health.Prometheus = &upgradev1alpha1.PrometheusGate{URL: promURL, AlertNames: "NodewaveE2E.*"}
	startUpgrade(ctx, cu, 1)

	By("no node starts while it fires, and Gated names it")
	Eventually(func(g Gomega) {
		c := meta.FindStatusCondition(getCU(ctx, g, name).Status.Conditions, upgradev1alpha1.ConditionGated)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(upgradev1alpha1.ReasonAlertFiring))
		g.Expect(c.Message).To(ContainSubstring("NodewaveE2ETrigger firing"))
	}).WithTimeout(time.Minute).Should(Succeed())
	Consistently(func(g Gomega) {
		for _, n := range nodes {
			node := &corev1.Node{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Name: n}, node)).To(Succeed())
			g.Expect(node.Labels[upgradev1alpha1.NodeStateLabel]).NotTo(BeElementOf("cordoned", "draining", "upgrading", "verifying"),
				"%s started while the alert fired", n)
			g.Expect(node.Spec.Unschedulable).To(BeFalse())
		}
	}).WithTimeout(5 * time.Second).Should(Succeed())

	By("Prometheus scrapes the manager, whose gated metric names the gate")
	gated := fmt.Sprintf(`nodewave_cluster_upgrade_gated{cluster_upgrade=%q,gate=%q}`, name, upgradev1alpha1.ReasonAlertFiring)
	Eventually(func() []string { return query(ctx, promURL, gated) }).WithTimeout(time.Minute).Should(Equal([]string{"1"}),
		"Prometheus does not see the manager's gated metric (scrape the targets page for why: %s/api/v1/targets)", promURL)

	By("resolving it: the upgrade goes on")
	trigger.Store(0)
	Eventually(func() []string { return activeAlerts(ctx, promURL) }).WithTimeout(time.Minute).
		ShouldNot(ContainElement(HavePrefix("NodewaveE2ETrigger")))
	// Open, the gate has no name: the series is the one with gate="".
	open := fmt.Sprintf(`nodewave_cluster_upgrade_gated{cluster_upgrade=%q,gate=""}`, name)
	Eventually(func() []string { return query(ctx, promURL, open) }).WithTimeout(time.Minute).Should(Equal([]string{"0"}),
		"the manager's gated metric did not drop once the alert was resolved")
	expectUpgraded(ctx, name, nodes, 1)
}

// managerScrape is the scrape configuration of the suite's manager as a
// ServiceMonitor of config/prometheus gives it: HTTPS (its certificate is
// self-signed here), with the token of a ServiceAccount bound to
// config/rbac's metrics-reader role, which the manager has the API server
// authenticate and authorize on each scrape. "" without a manager.
func managerScrape(ctx context.Context) string {
	if managerMetrics == "" {
		return ""
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: jobNamespace, Name: "e2e-prometheus"}}
	Expect(admin.Create(ctx, sa)).To(Succeed())
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-prometheus-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "nodewave-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: jobNamespace, Name: sa.Name}},
	}
	Expect(admin.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func(ctx context.Context) {
		Expect(admin.Delete(ctx, binding)).To(Succeed())
		Expect(admin.Delete(ctx, sa)).To(Succeed())
	})
	token := filepath.Join(GinkgoT().TempDir(), "token")
	Expect(os.WriteFile(token, []byte(run(nil, kubectl, "--kubeconfig", kubeconfig, "-n", jobNamespace,
		"create", "token", sa.Name, "--duration", "1h")), 0o600)).To(Succeed())
	return fmt.Sprintf(`- job_name: nodewave-manager
  scheme: https
  tls_config: {insecure_skip_verify: true}
  authorization: {credentials_file: %q}
  static_configs:
  - targets: [%q]
`, token, managerMetrics)
}

// query asks Prometheus for an instant vector and returns its values.
func query(ctx context.Context, url, expr string) []string {
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := promGet(ctx, url+"/api/v1/query?query="+neturl.QueryEscape(expr), &body); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, r := range body.Data.Result {
		out = append(out, fmt.Sprint(r.Value[1]))
	}
	return out
}

// promGet GETs a Prometheus API URL into body; an error only when
// Prometheus does not answer (the caller's Eventually asks again).
func promGet(ctx context.Context, url string, body any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	Expect(json.NewDecoder(resp.Body).Decode(body)).To(Succeed())
	return nil
}

// serveTrigger serves nodewave_e2e_trigger, trigger's value, for
// Prometheus to scrape, until the spec ends; it returns host:port.
func serveTrigger(trigger *atomic.Int32) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = fmt.Fprintf(w, "# TYPE nodewave_e2e_trigger gauge\nnodewave_e2e_trigger %d\n", trigger.Load())
	})}
	go func() { _ = srv.Serve(l) }()
	DeferCleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// startPrometheus starts Prometheus scraping target every second, and
// with the scrape configurations of more, with a rule that fires while
// nodewave_e2e_trigger is 1, waits until it is ready, and stops it (and
// removes its data) when the spec ends. It returns its URL.
func startPrometheus(target, more string) string {
	bin := run(nil, "hack/toolchain.sh", "prometheus")
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
- name: e2e
  interval: 1s
  rules:
  - alert: NodewaveE2ETrigger
    expr: nodewave_e2e_trigger == 1
`), 0o600)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
- job_name: e2e-trigger
  static_configs:
  - targets: [%q]
%s`, target, more)), 0o600)).To(Succeed())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			GinkgoWriter.Printf("prometheus stopped: %v\n", err)
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			GinkgoWriter.Printf("prometheus killed after 10 s: %v\n", <-done)
		}
	})
	url := "http://" + addr
	Eventually(func() (int, error) {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}).WithTimeout(time.Minute).Should(Equal(http.StatusOK), "Prometheus did not become ready")
	return url
}

// activeAlerts asks Prometheus for its active alerts, as "name state".
func activeAlerts(ctx context.Context, url string) []string {
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := promGet(ctx, url+"/api/v1/alerts", &body); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, a := range body.Data.Alerts {
		out = append(out, a.Labels["alertname"]+" "+a.State)
	}
	return out
}
