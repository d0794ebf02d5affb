package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
)

// The files kubeadm writes beside etcd's CA (cmd/kubeadm/app/constants:
// EtcdHealthcheckClientCertName and EtcdHealthcheckClientKeyName under
// the certificates directory): the client certificate, signed by the etcd
// CA with CN kube-etcd-healthcheck-client, that kubeadm itself talks to
// etcd with when it checks the cluster's health before an upgrade. The
// etcd pod mounts that whole directory (<certificatesDir>/etcd).
const (
	healthcheckClientCert = "healthcheck-client.crt"
	healthcheckClientKey  = "healthcheck-client.key"
)

// defaultEtcdEndpoint is the client URL kubeadm's etcd listens on inside
// its node (--listen-client-urls=https://127.0.0.1:2379,https://<ip>:2379),
// used when the pod's command line names no loopback client URL.
const defaultEtcdEndpoint = "https://127.0.0.1:2379"

// EtcdExec runs etcdctl with args in pod, a kubeadm etcd pod, through
// pods/exec, and returns what it printed on its standard output. It
// reaches the member on the pod's own node through its loopback client URL
// (https://127.0.0.1:2379), with the certificates kubeadm put on that node:
// the CA of the pod's --trusted-ca-file and the health-check client
// certificate beside it (healthcheck-client.crt and .key), which the pod
// mounts. So it needs no secret, only pods/exec on kube-system's etcd pods,
// with the verbs get and create: a WebSocket exec is a GET, which
// Kubernetes 1.35 and later also authorize as create
// (AuthorizePodWebsocketUpgradeCreatePermission); SPDY's is a POST.
//
// The exec goes over WebSockets, falling back to SPDY when the API server
// or a proxy cannot upgrade the connection, as kubectl exec does; it ends
// when ctx does.
//
// When etcdctl exits non-zero, as it does with --cluster when a member is
// unhealthy or does not answer, EtcdExec returns what it printed anyway,
// and an error that wraps the exit (k8s.io/client-go/util/exec.ExitError)
// and quotes its standard error.
func EtcdExec(ctx context.Context, config *rest.Config, clientset kubernetes.Interface,
	pod *corev1.Pod, args ...string) ([]byte, error) {
	container, command, err := etcdctlCommand(pod, args...)
	if err != nil {
		return nil, err
	}
	req := clientset.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   command,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	executor, err := newExecutor(config, req.URL())
	if err != nil {
		return nil, fmt.Errorf("exec into %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	var stdout, stderr bytes.Buffer
	err = executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		msg := stderrSummary(stderr.String())
		if msg != "" {
			msg = " (" + msg + ")"
		}
		return stdout.Bytes(), fmt.Errorf("etcdctl %s in %s/%s: %w%s",
			strings.Join(args, " "), pod.Namespace, pod.Name, err, msg)
	}
	return stdout.Bytes(), nil
}

// stderrSummary is what etcdctl said on its standard error, for an error
// message: its own lines ("Failed to get the status of endpoint ...",
// "Error: unhealthy cluster") joined by "; ", without the client library's
// JSON log lines ({"level":"warn",...}) that come before them, unless
// there is nothing else.
func stderrSummary(stderr string) string {
	var said, logged []string
	for line := range strings.Lines(stderr) {
		switch line = strings.TrimSpace(line); {
		case line == "":
		case strings.HasPrefix(line, "{"):
			logged = append(logged, line)
		default:
			said = append(said, line)
		}
	}
	if len(said) == 0 && len(logged) > 0 {
		said = logged[len(logged)-1:]
	}
	return abbreviate(strings.Join(said, "; "), 500)
}

// newExecutor returns kubectl exec's executor for u: WebSockets first
// (RFC 6455 asks for GET), SPDY (POST) when the upgrade fails.
func newExecutor(config *rest.Config, u *url.URL) (remotecommand.Executor, error) {
	spdy, err := remotecommand.NewSPDYExecutor(config, "POST", u)
	if err != nil {
		return nil, err
	}
	ws, err := remotecommand.NewWebSocketExecutor(config, "GET", u.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// etcdctlCommand returns the container of pod that runs etcd and the
// command line that runs etcdctl with args in it, with the TLS flags and
// the endpoint read from etcd's own command line.
func etcdctlCommand(pod *corev1.Pod, args ...string) (string, []string, error) {
	c := componentContainer(pod, Etcd)
	if c == nil {
		return "", nil, fmt.Errorf("pod %s/%s has no container named %s", pod.Namespace, pod.Name, Etcd)
	}
	flags := commandLineFlags(slices.Concat(c.Command, c.Args))
	ca := flags["trusted-ca-file"]
	if ca == "" {
		return "", nil, fmt.Errorf("pod %s/%s runs etcd without --trusted-ca-file: not kubeadm's etcd, which asks its clients for certificates",
			pod.Namespace, pod.Name)
	}
	dir := path.Dir(ca)
	return c.Name, slices.Concat([]string{
		"etcdctl",
		"--endpoints=" + loopbackClientURL(flags["listen-client-urls"]),
		"--cacert=" + ca,
		"--cert=" + path.Join(dir, healthcheckClientCert),
		"--key=" + path.Join(dir, healthcheckClientKey),
	}, args), nil
}

// commandLineFlags reads the flags of a command line written as
// --name=value (kubeadm's form), --name value, or with one dash. The last
// one of a name wins, as with Go's flag package.
func commandLineFlags(argv []string) map[string]string {
	flags := map[string]string{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		if n, v, ok := strings.Cut(name, "="); ok {
			flags[n] = v
			continue
		}
		if i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
			flags[name] = argv[i+1]
			i++
			continue
		}
		flags[name] = ""
	}
	return flags
}

// loopbackClientURL returns the first loopback URL among etcd's
// comma-separated --listen-client-urls (https://127.0.0.1:2379, or
// https://[::1]:2379 in an IPv6 cluster), or defaultEtcdEndpoint.
func loopbackClientURL(listen string) string {
	for raw := range strings.SplitSeq(listen, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" {
			continue
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return u.Scheme + "://" + u.Host
		}
	}
	return defaultEtcdEndpoint
}
