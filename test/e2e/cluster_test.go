package e2e

import (
	"context"
	"fmt"
	"net"
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

// renderedConfig is config/default as `kubectl kustomize` renders it, one
// YAML document per object.
func renderedConfig() []string {
	return strings.Split(run(nil, kubectl, "kustomize", filepath.Join(root, "config", "default")), "\n---\n")
}

// installConfig applies config/default as `kubectl apply -k` would, except
// the manager's Deployment: the suite runs the manager itself.
func installConfig() {
	var keep []string
	for _, doc := range renderedConfig() {
		if !strings.Contains(doc, "\nkind: Deployment\n") && !strings.HasPrefix(doc, "kind: Deployment\n") {
			keep = append(keep, doc)
		}
	}
	cmd := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-")
	cmd.Stdin = strings.NewReader(strings.Join(keep, "\n---\n"))
	cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(cmd.Run()).To(Succeed())
}

// labelGroups splits the workers into groups of ten, a (worker-000..009)
// to e (worker-040..049), so scenarios can select a group each.
func labelGroups(ctx context.Context) {
	for i := range workers {
		n := &corev1.Node{}
		Expect(admin.Get(ctx, client.ObjectKey{Name: fmt.Sprintf("worker-%03d", i)}, n)).To(Succeed())
		patch := client.MergeFrom(n.DeepCopy())
		n.Labels[groupLabel] = string(rune('a' + i/10))
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
	name, binary, kubeconfig string
	args                     []string // beyond the defaults, e.g. leader election
	cmd                      *exec.Cmd
	starts                   int
}

var managerBinary string

// managerMetrics is the address the suite's manager serves its metrics on
// (HTTPS, secured as in a cluster); "" when the suite runs no manager.
var managerMetrics string

// freeLocalAddr is a loopback host:port free now.
func freeLocalAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { Expect(l.Close()).To(Succeed()) }()
	return l.Addr().String()
}

// newManagerProcess returns a manager named name (for its log files) that
// runs with args on top of the suite's defaults. The binary is built once.
func newManagerProcess(name, kubeconfig string, args ...string) *managerProcess {
	if managerBinary == "" {
		managerBinary = filepath.Join(GinkgoT().TempDir(), "manager")
		run(nil, "go", "build", "-o", managerBinary, "./cmd")
	}
	return &managerProcess{name: name, binary: managerBinary, kubeconfig: kubeconfig, args: args}
}

func (m *managerProcess) start() {
	m.starts++
	args := append([]string{"--kubeconfig", m.kubeconfig, "--job-namespace", jobNamespace,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--leader-elect=false"}, m.args...)
	m.cmd = exec.Command(m.binary, args...)
	log, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("nodewave-e2e-%s-%d.log", m.name, m.starts)))
	Expect(err).NotTo(HaveOccurred())
	m.cmd.Stdout, m.cmd.Stderr = log, log
	Expect(m.cmd.Start()).To(Succeed())
	GinkgoWriter.Printf("%s started (pid %d), log %s\n", m.name, m.cmd.Process.Pid, log.Name())
}

// kill SIGKILLs the manager and waits for it to be gone.
func (m *managerProcess) kill() {
	Expect(m.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
	_ = m.cmd.Wait()
}

// stop ends the manager as Kubernetes stops a pod (SIGTERM) and waits.
func (m *managerProcess) stop() {
	if m.cmd != nil && m.cmd.Process != nil && m.cmd.ProcessState == nil {
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

// groupsOf selects the workers of the given groups.
func groupsOf(groups ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: groupLabel, Operator: metav1.LabelSelectorOpIn, Values: groups}}}
}
