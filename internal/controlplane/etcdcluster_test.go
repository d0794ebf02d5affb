package controlplane

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// updateGolden rewrites testdata/etcd-*/ from a run against a real etcd
// cluster: go test ./internal/controlplane/ -run RealCluster -update-golden.
var updateGolden = flag.Bool("update-golden", false, "write testdata/etcd-*/ from the real etcd cluster's output")

// etcdVersion is the etcd whose etcd and etcdctl the real-cluster test
// runs: hack/toolchain.sh kubeadm builds both into
// ~/.cache/nodewave/etcd-<version>/ (NODEWAVE_ETCD_DIR overrides it).
const etcdVersion = "v3.6.16"

// etcdBinaries returns the paths of etcd and etcdctl, or skips t, saying
// where they were looked for, when either is absent.
func etcdBinaries(t *testing.T) (etcd, etcdctl string) {
	t.Helper()
	dir := os.Getenv("NODEWAVE_ETCD_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("etcd binaries absent: no home directory to find ~/.cache/nodewave/etcd-%s in (%v)", etcdVersion, err)
		}
		dir = filepath.Join(home, ".cache", "nodewave", "etcd-"+etcdVersion)
	}
	etcd, etcdctl = filepath.Join(dir, "etcd"), filepath.Join(dir, "etcdctl")
	for _, p := range []string{etcd, etcdctl} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("etcd binaries absent: %v (build them with hack/toolchain.sh kubeadm, or set NODEWAVE_ETCD_DIR)", err)
		}
	}
	return etcd, etcdctl
}

// etcdMember is one member of a test cluster.
type etcdMember struct {
	name, clientURL, peerURL, dataDir, log string
	cmd                                    *exec.Cmd
}

// etcdCluster is a real etcd cluster on 127.0.0.1 that serves its clients
// as kubeadm's does: over TLS, asking them for a certificate from its CA.
// Its peers talk plain HTTP.
type etcdCluster struct {
	members []*etcdMember
	// pki holds ca.crt, server.crt/.key and the health-check client's
	// certificate, as kubeadm's <certificatesDir>/etcd does.
	pki string
}

// startEtcdCluster starts n members and waits until every one is healthy.
// Every process it starts is killed when t ends.
func startEtcdCluster(t *testing.T, etcd, etcdctl string, n int) *etcdCluster {
	t.Helper()
	dir := t.TempDir()
	c := &etcdCluster{pki: filepath.Join(dir, "pki", "etcd")}
	if err := os.MkdirAll(c.pki, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, "etcd-ca")
	writeFile(t, c.pki, "ca.crt", ca.pem)
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	crt, key := ca.issue(t, "127.0.0.1", loopback, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	writeFile(t, c.pki, "server.crt", crt)
	writeFile(t, c.pki, "server.key", key)
	crt, key = ca.issue(t, "kube-etcd-healthcheck-client", nil, x509.ExtKeyUsageClientAuth)
	writeFile(t, c.pki, healthcheckClientCert, crt)
	writeFile(t, c.pki, healthcheckClientKey, key)

	ports := freePorts(t, 2*n)
	initial := make([]string, 0, n)
	for i := range n {
		m := &etcdMember{
			name:      fmt.Sprintf("m%d", i),
			clientURL: fmt.Sprintf("https://127.0.0.1:%d", ports[2*i]),
			peerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
		}
		m.dataDir = filepath.Join(dir, m.name)
		m.log = filepath.Join(dir, m.name+".log")
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peerURL)
	}
	for _, m := range c.members {
		c.start(t, etcd, m, strings.Join(initial, ","))
	}
	c.waitHealthy(t, etcdctl, 90*time.Second)
	return c
}

// start runs m's etcd and arranges for it to be killed when t ends.
func (c *etcdCluster) start(t *testing.T, etcd string, m *etcdMember, initialCluster string) {
	t.Helper()
	log, err := os.Create(m.log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = log.Close() }()
	m.cmd = exec.Command(etcd,
		"--name="+m.name,
		"--data-dir="+m.dataDir,
		"--listen-client-urls="+m.clientURL,
		"--advertise-client-urls="+m.clientURL,
		"--listen-peer-urls="+m.peerURL,
		"--initial-advertise-peer-urls="+m.peerURL,
		"--initial-cluster="+initialCluster,
		"--initial-cluster-state=new",
		"--initial-cluster-token=nodewave-controlplane-test",
		"--cert-file="+filepath.Join(c.pki, "server.crt"),
		"--key-file="+filepath.Join(c.pki, "server.key"),
		"--trusted-ca-file="+filepath.Join(c.pki, "ca.crt"),
		"--client-cert-auth=true",
		// A busy two-core machine: slower heartbeats than the defaults
		// (100 ms, 1 s) keep the leader from changing under the test.
		"--heartbeat-interval=250",
		"--election-timeout=2500",
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	dieWithTest(m.cmd)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start etcd %s: %v", m.name, err)
	}
	t.Cleanup(func() { m.kill() })
}

// kill SIGKILLs m's etcd, if it runs, and reaps it.
func (m *etcdMember) kill() {
	if m.cmd == nil || m.cmd.Process == nil || m.cmd.ProcessState != nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	_ = m.cmd.Wait()
}

// pod is the etcd mirror pod kubeadm would write for member i: its
// command line names the cluster's certificates and its client URL.
func (c *etcdCluster) pod(i int) *corev1.Pod {
	return kubeadmEtcdPod("cp-"+c.members[i].name, "127.0.0.1", c.pki, c.members[i].clientURL)
}

// runLocally plays the kubelet of the pods' node: it runs the command an
// exec asks for on this machine, etcdctl being the real one.
func runLocally(etcdctl string) runFunc {
	return func(argv []string) ([]byte, []byte, int) {
		if len(argv) == 0 || argv[0] != "etcdctl" {
			return nil, []byte(fmt.Sprintf("exec: %q: executable file not found in $PATH", argv)), 126
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, etcdctl, argv[1:]...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return []byte(stdout.String()), []byte(stderr.String()), exit.ExitCode()
		case err != nil:
			return nil, []byte(err.Error()), 126
		}
		return []byte(stdout.String()), []byte(stderr.String()), 0
	}
}

// waitHealthy waits until etcdctl finds every member healthy. It writes
// its command line itself, not with the code under test.
func (c *etcdCluster) waitHealthy(t *testing.T, etcdctl string, timeout time.Duration) {
	t.Helper()
	argv := []string{"etcdctl", "--endpoints=" + c.members[0].clientURL,
		"--cacert=" + filepath.Join(c.pki, "ca.crt"),
		"--cert=" + filepath.Join(c.pki, healthcheckClientCert),
		"--key=" + filepath.Join(c.pki, healthcheckClientKey),
		"endpoint", "health", "--cluster"}
	run := runLocally(etcdctl)
	deadline := time.Now().Add(timeout)
	for {
		stdout, stderr, code := run(argv)
		if code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd cluster not healthy after %s: %s%s (logs in %s)", timeout, stdout, stderr, filepath.Dir(c.members[0].log))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// freePorts returns n distinct TCP ports free on 127.0.0.1 a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range listeners {
		_ = l.Close()
	}
	return ports
}

// etcdChecks runs, through EtcdExec in pod, the two etcdctl commands
// EtcdQuorum reads, and returns what they printed and EtcdExec's errors.
func etcdChecks(t *testing.T, srv *fakeExecServer, pod *corev1.Pod) (health, status []byte, healthErr, statusErr error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := srv.clientset(t)
	health, healthErr = EtcdExec(ctx, srv.config(), cs, pod, EtcdHealthArgs()...)
	t.Logf("endpoint health: %s (error: %v)", health, healthErr)
	status, statusErr = EtcdExec(ctx, srv.config(), cs, pod, EtcdStatusArgs()...)
	t.Logf("endpoint status: %s (error: %v)", status, statusErr)
	return health, status, healthErr, statusErr
}

// judge parses etcdctl's output and judges it.
func judge(t *testing.T, health, status []byte, expected int) (EtcdReport, error) {
	t.Helper()
	h, err := ParseEtcdHealth(health)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseEtcdStatus(status)
	if err != nil {
		t.Fatal(err)
	}
	return EtcdQuorum(h, s, expected)
}

// TestEtcdQuorumOnRealClusterWhenBinariesPresent checks a real three-member
// etcd cluster with client certificates, as kubeadm runs it, through the
// whole path nodewave takes: EtcdExec builds the etcdctl command line from
// a kubeadm etcd pod, a fake API server runs it here as the kubelet would
// in the pod, and EtcdQuorum judges what the real etcdctl printed. It is
// skipped, saying so, when etcd and etcdctl are not built.
func TestEtcdQuorumOnRealClusterWhenBinariesPresent(t *testing.T) {
	etcd, etcdctl := etcdBinaries(t)
	c := startEtcdCluster(t, etcd, etcdctl, 3)
	srv := newFakeExecServer(t, runLocally(etcdctl))

	health, status, healthErr, statusErr := etcdChecks(t, srv, c.pod(0))
	if healthErr != nil || statusErr != nil {
		t.Fatalf("etcdctl on three healthy members: %v; %v", healthErr, statusErr)
	}
	report, err := judge(t, health, status, 3)
	if err != nil {
		t.Fatalf("EtcdQuorum on three healthy members: %v", err)
	}
	if report.Members != 3 || report.Healthy != 3 || report.Leader == 0 {
		t.Fatalf("EtcdQuorum on three healthy members: %+v, want 3 members, 3 healthy and a leader", report)
	}
	leader := -1
	for i, m := range c.members {
		if report.LeaderEndpoint == m.clientURL {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatalf("EtcdQuorum's leader %s is not one of the members", report)
	}
	t.Logf("healthy: %s", report)
	if _, err := judge(t, health, status, 4); err == nil || !strings.Contains(err.Error(), "3 members answered endpoint status, 4 expected") {
		t.Errorf("EtcdQuorum expecting four etcd pods of three members: %v, want an error saying so", err)
	}
	if *updateGolden {
		writeGolden(t, "etcd-healthy", health, status, "")
	}

	// Kill a follower, so that the two left keep their leader, and ask
	// from a member still up.
	down := (leader + 1) % 3
	c.members[down].kill()
	asker := (leader + 2) % 3
	killed := c.members[down].clientURL
	health, status, healthErr, statusErr = etcdChecks(t, srv, c.pod(asker))
	// etcdctl exits 1 and says why on its standard error; EtcdExec keeps
	// its last words, not the client library's log lines.
	for _, e := range []struct {
		err  error
		want string
	}{
		{healthErr, "command terminated with exit code 1 (Error: unhealthy cluster)"},
		{statusErr, "command terminated with exit code 1 (Failed to get the status of endpoint " + killed},
	} {
		if e.err == nil || !strings.Contains(e.err.Error(), e.want) {
			t.Errorf("EtcdExec with %s killed: %v, want an error saying %q", killed, e.err, e.want)
		}
	}
	report, err = judge(t, health, status, 3)
	if err == nil {
		t.Fatalf("EtcdQuorum with %s killed: nil error, %s", killed, report)
	}
	t.Logf("one member down: %v", err)
	if want := killed + " is unhealthy"; !strings.Contains(err.Error(), want) {
		t.Errorf("EtcdQuorum with %s killed: %q\ndoes not say %q", killed, err, want)
	}
	for i, m := range c.members {
		if i != down && strings.Contains(err.Error(), m.clientURL+" is unhealthy") {
			t.Errorf("EtcdQuorum with %s killed calls %s unhealthy too: %q", killed, m.clientURL, err)
		}
	}
	if !strings.Contains(err.Error(), "2 members answered endpoint status, 3 expected") {
		t.Errorf("EtcdQuorum with one member of three killed: %q\ndoes not count 2 of 3 members", err)
	}
	if report.Members != 2 || report.Healthy != 2 {
		t.Errorf("EtcdQuorum with one member of three killed: %+v, want 2 members, 2 healthy", report)
	}
	if *updateGolden {
		writeGolden(t, "etcd-member-down", health, status, killed)
	}
}

// writeGolden writes what etcdctl printed under testdata/name/, and the
// client URL of the member that was killed, if any.
func writeGolden(t *testing.T, name string, health, status []byte, killed string) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"health.json": health, "status.json": status}
	if killed != "" {
		files["killed"] = []byte(killed + "\n")
	}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
