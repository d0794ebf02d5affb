package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// alertsGate runs spec.health.prometheus against a real Prometheus, built
// from the Go module proxy (hack/toolchain.sh prometheus): it scrapes a
// target of this test whose metric the test sets, and a rule fires on it.
// While the alert fires no node starts and Gated says which alert; once it
// is resolved the upgrade goes on.
func alertsGate(ctx SpecContext) {
	const name, target = "e2e-alerts", "v1.36.13"
	nodes := []string{"worker-040", "worker-041"}
	var trigger atomic.Int32
	trigger.Store(1)
	targetURL := serveTrigger(&trigger)
	promURL := startPrometheus(targetURL)

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

	By("resolving it: the upgrade goes on")
	trigger.Store(0)
	Eventually(func() []string { return activeAlerts(ctx, promURL) }).WithTimeout(time.Minute).
		ShouldNot(ContainElement(HavePrefix("NodewaveE2ETrigger")))
	expectUpgraded(ctx, name, nodes, 1)
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

// startPrometheus starts Prometheus scraping target every second with a
// rule that fires while nodewave_e2e_trigger is 1, waits until it is
// ready, and stops it (and removes its data) when the spec ends. It
// returns its URL.
func startPrometheus(target string) string {
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
`, target)), 0o600)).To(Succeed())
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/alerts", nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return []string{err.Error()}
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
	var out []string
	for _, a := range body.Data.Alerts {
		out = append(out, a.Labels["alertname"]+" "+a.State)
	}
	return out
}
