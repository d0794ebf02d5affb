package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// installConfig applies config/default as `kubectl apply -k` would, except
// the manager's Deployment: the suite runs the manager itself.
func installConfig() {
	rendered := run(nil, kubectl, "kustomize", filepath.Join(root, "config", "default"))
	var keep []string
	for _, doc := range strings.Split(rendered, "\n---\n") {
		if !strings.Contains(doc, "\nkind: Deployment\n") && !strings.HasPrefix(doc, "kind: Deployment\n") {
			keep = append(keep, doc)
		}
	}
	cmd := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-")
	cmd.Stdin = strings.NewReader(strings.Join(keep, "\n---\n"))
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Run()).To(Succeed())
}

// labelGroups splits the workers into group a (worker-000..009) and group b
// (worker-010..019), so scenarios can select either half.
func labelGroups(ctx context.Context) {
	for i := range workers {
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: fmt.Sprintf("worker-%03d", i)}, n)).To(Succeed())
		patch := client.MergeFrom(n.DeepCopy())
		n.Labels[groupLabel] = map[bool]string{true: "a", false: "b"}[i < workers/2]
		Expect(admin.Patch(ctx, n, patch)).To(Succeed())
	}
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the
// manager's ServiceAccount with a token from the TokenRequest API, so the
// manager has exactly the permissions config/rbac grants it.
func serviceAccountKubeconfig() string {
	token := run(nil, kubectl, "--kubeconfig", kubeconfig, "-n", jobNamespace,
		"create", "token", "nodewave-controller-manager", "--duration", "24h")
	path := filepath.Join(GinkgoT().TempDir(), "manager.kubeconfig")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: {server: %q, certificate-authority: %q}
users:
- name: nodewave-controller-manager
  user: {token: %q}
contexts:
- name: sim
  context: {cluster: sim, user: nodewave-controller-manager}
current-context: sim
`, adminCfg.Host, adminCfg.CAFile, token)
	Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
	return path
}

// managerProcess is the nodewave manager, built from ./cmd and run as a
// process, so it can be SIGKILLed like a crashing pod.
type managerProcess struct {
	binary, kubeconfig string
	cmd                *exec.Cmd
	starts             int
}

func newManagerProcess(kubeconfig string) *managerProcess {
	bin := filepath.Join(GinkgoT().TempDir(), "manager")
	run(nil, "go", "build", "-o", bin, "./cmd")
	return &managerProcess{binary: bin, kubeconfig: kubeconfig}
}

func (m *managerProcess) start() {
	m.starts++
	m.cmd = exec.Command(m.binary, "--kubeconfig", m.kubeconfig, "--job-namespace", jobNamespace,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--leader-elect=false")
	log, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("nodewave-e2e-manager-%d.log", m.starts)))
	Expect(err).NotTo(HaveOccurred())
	m.cmd.Stdout, m.cmd.Stderr = log, log
	Expect(m.cmd.Start()).To(Succeed())
	GinkgoWriter.Printf("manager started (pid %d), log %s\n", m.cmd.Process.Pid, log.Name())
}

// kill SIGKILLs the manager and waits for it to be gone.
func (m *managerProcess) kill() {
	Expect(m.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
	_ = m.cmd.Wait()
}

func (m *managerProcess) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		_ = m.cmd.Wait()
	}
}

// nodeNames lists workers i..j-1.
func nodeNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("worker-%03d", i))
	}
	return names
}

// selectorOf is a label selector for one label.
func selectorOf(key, value string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
}
