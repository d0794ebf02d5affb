package controlplane

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	utilexec "k8s.io/client-go/util/exec"
)

// kubeadmEtcdPod is the etcd mirror pod kubeadm v1.37.2 writes on node
// (cmd/kubeadm/app/phases/etcd/local.go, arguments sorted as kubeadm
// sorts them), with its certificates under pki (kubeadm's
// <certificatesDir>/etcd) and listening for clients on listenClientURLs.
func kubeadmEtcdPod(node, ip, pki, listenClientURLs string) *corev1.Pod {
	p := staticPod(Etcd, node, "registry.k8s.io/etcd:3.6.16-0")
	p.Annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = "https://" + ip + ":2379"
	p.Spec.Containers[0].Command = []string{
		"etcd",
		"--advertise-client-urls=https://" + ip + ":2379",
		"--cert-file=" + pki + "/server.crt",
		"--client-cert-auth=true",
		"--data-dir=/var/lib/etcd",
		"--feature-gates=InitialCorruptCheck=true",
		"--initial-advertise-peer-urls=https://" + ip + ":2380",
		"--initial-cluster=" + node + "=https://" + ip + ":2380",
		"--key-file=" + pki + "/server.key",
		"--listen-client-urls=" + listenClientURLs,
		"--listen-metrics-urls=http://127.0.0.1:2381",
		"--listen-peer-urls=https://" + ip + ":2380",
		"--name=" + node,
		"--peer-cert-file=" + pki + "/peer.crt",
		"--peer-client-cert-auth=true",
		"--peer-key-file=" + pki + "/peer.key",
		"--peer-trusted-ca-file=" + pki + "/ca.crt",
		"--snapshot-count=10000",
		"--trusted-ca-file=" + pki + "/ca.crt",
		"--watch-progress-notify-interval=5s",
	}
	return &p
}

func TestEtcdctlCommand(t *testing.T) {
	const kubeadmPKI = "/etc/kubernetes/pki/etcd"
	kubeadmPod := kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://127.0.0.1:2379,https://10.0.0.11:2379")
	tlsFlags := func(pki string) []string {
		return []string{"--cacert=" + pki + "/ca.crt", "--cert=" + pki + "/healthcheck-client.crt", "--key=" + pki + "/healthcheck-client.key"}
	}
	commandOf := func(endpoint, pki string) []string {
		return slices.Concat([]string{"etcdctl", "--endpoints=" + endpoint}, tlsFlags(pki), EtcdHealthArgs())
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		want    []string
		wantErr string
	}{
		{name: "kubeadm's etcd", pod: kubeadmPod, want: commandOf("https://127.0.0.1:2379", kubeadmPKI)},
		{name: "another certificatesDir",
			pod:  kubeadmEtcdPod("cp-1", "10.0.0.11", "/srv/kubernetes/pki/etcd", "https://127.0.0.1:2379,https://10.0.0.11:2379"),
			want: commandOf("https://127.0.0.1:2379", "/srv/kubernetes/pki/etcd")},
		{name: "IPv6 cluster", pod: kubeadmEtcdPod("cp-1", "fd00::11", kubeadmPKI, "https://[::1]:2379,https://[fd00::11]:2379"),
			want: commandOf("https://[::1]:2379", kubeadmPKI)},
		{name: "loopback listed second, on another port",
			pod:  kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://10.0.0.11:2379, https://127.0.0.1:12379"),
			want: commandOf("https://127.0.0.1:12379", kubeadmPKI)},
		{name: "no loopback client URL", pod: kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://10.0.0.11:2379"),
			want: commandOf("https://127.0.0.1:2379", kubeadmPKI)},
		{name: "flags in args, with separate values", pod: func() *corev1.Pod {
			p := kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "")
			p.Spec.Containers[0].Command = []string{"etcd"}
			p.Spec.Containers[0].Args = []string{"--client-cert-auth", "-trusted-ca-file", "/pki/ca.crt", "--listen-client-urls", "https://127.0.0.1:3379"}
			return p
		}(), want: commandOf("https://127.0.0.1:3379", "/pki")},
		{name: "the last flag wins", pod: func() *corev1.Pod {
			p := kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://127.0.0.1:2379")
			p.Spec.Containers[0].Args = []string{"--trusted-ca-file=/override/ca.crt"}
			return p
		}(), want: commandOf("https://127.0.0.1:2379", "/override")},
		{name: "no trusted CA", pod: func() *corev1.Pod {
			p := kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://127.0.0.1:2379")
			p.Spec.Containers[0].Command = slices.DeleteFunc(p.Spec.Containers[0].Command,
				func(a string) bool { return strings.HasPrefix(a, "--trusted-ca-file") })
			return p
		}(), wantErr: "pod kube-system/etcd-cp-1 runs etcd without --trusted-ca-file"},
		{name: "no etcd container", pod: func() *corev1.Pod {
			p := kubeadmEtcdPod("cp-1", "10.0.0.11", kubeadmPKI, "https://127.0.0.1:2379")
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "backup"})
			p.Spec.Containers[0].Name = "server"
			return p
		}(), wantErr: "pod kube-system/etcd-cp-1 has no container named etcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.pod.DeepCopy()
			container, command, err := etcdctlCommand(tt.pod, EtcdHealthArgs()...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("etcdctlCommand: %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("etcdctlCommand: %v", err)
			}
			if container != Etcd {
				t.Errorf("container %q, want %q", container, Etcd)
			}
			if !slices.Equal(command, tt.want) {
				t.Errorf("command\n%q, want\n%q", command, tt.want)
			}
			if !slices.Equal(tt.pod.Spec.Containers[0].Command, before.Spec.Containers[0].Command) {
				t.Errorf("etcdctlCommand changed the pod's command: %q", tt.pod.Spec.Containers[0].Command)
			}
		})
	}
}

func TestEtcdExec(t *testing.T) {
	pod := kubeadmEtcdPod("cp-1", "10.0.0.11", "/etc/kubernetes/pki/etcd", "https://127.0.0.1:2379,https://10.0.0.11:2379")
	wantArgv := []string{"etcdctl", "--endpoints=https://127.0.0.1:2379",
		"--cacert=/etc/kubernetes/pki/etcd/ca.crt",
		"--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt",
		"--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
		"endpoint", "status", "--cluster", "-w", "json"}
	const printed = `[{"Endpoint":"https://10.0.0.11:2379","Status":{"leader":1}}]` + "\n"

	t.Run("runs etcdctl in the etcd container and returns its output", func(t *testing.T) {
		var argv []string
		srv := newFakeExecServer(t, func(a []string) ([]byte, []byte, int) {
			argv = a
			return []byte(printed), []byte("a warning\n"), 0
		})
		out, err := EtcdExec(context.Background(), srv.config(), srv.clientset(t), pod, EtcdStatusArgs()...)
		if err != nil {
			t.Fatalf("EtcdExec: %v", err)
		}
		if string(out) != printed {
			t.Errorf("EtcdExec printed %q, want %q", out, printed)
		}
		if !slices.Equal(argv, wantArgv) {
			t.Errorf("ran\n%q, want\n%q", argv, wantArgv)
		}
		reqs := srv.recorded()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1: %+v", len(reqs), reqs)
		}
		r := reqs[0]
		if r.method != http.MethodGet || r.path != "/api/v1/namespaces/kube-system/pods/etcd-cp-1/exec" {
			t.Errorf("request %s %s, want a WebSocket GET of pods/exec of kube-system/etcd-cp-1", r.method, r.path)
		}
		if r.query.Get("container") != Etcd || r.query.Get("stdout") != "true" || r.query.Get("stderr") != "true" ||
			r.query.Has("stdin") || r.query.Has("tty") {
			t.Errorf("query %v: want container etcd, stdout and stderr, no stdin and no tty", r.query)
		}
	})

	t.Run("a non-zero exit returns the output and the exit", func(t *testing.T) {
		srv := newFakeExecServer(t, func([]string) ([]byte, []byte, int) {
			return []byte(printed), []byte("Failed to get the status of endpoint https://10.0.0.13:2379 (context deadline exceeded)\n"), 1
		})
		out, err := EtcdExec(context.Background(), srv.config(), srv.clientset(t), pod, EtcdStatusArgs()...)
		if string(out) != printed {
			t.Errorf("EtcdExec printed %q, want %q", out, printed)
		}
		var exit utilexec.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
			t.Fatalf("EtcdExec: %v, want an exec.ExitError with status 1", err)
		}
		for _, w := range []string{"etcdctl endpoint status --cluster -w json in kube-system/etcd-cp-1",
			"exit code 1", "(Failed to get the status of endpoint https://10.0.0.13:2379 (context deadline exceeded))"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("EtcdExec: %q\ndoes not say %q", err, w)
			}
		}
	})

	t.Run("falls back to SPDY when the WebSocket upgrade is refused, and says why it failed", func(t *testing.T) {
		srv := newFakeExecServer(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := EtcdExec(ctx, srv.config(), srv.clientset(t), pod, EtcdStatusArgs()...)
		if err == nil || !strings.Contains(err.Error(), `cannot create resource "pods/exec"`) {
			t.Errorf("EtcdExec refused pods/exec: %v, want the API server's reason", err)
		}
		reqs := srv.recorded()
		methods := make([]string, 0, len(reqs))
		for _, r := range reqs {
			methods = append(methods, r.method)
		}
		if !slices.Equal(methods, []string{http.MethodGet, http.MethodPost}) {
			t.Errorf("requests %q, want a WebSocket GET then a SPDY POST", methods)
		}
	})
}

func TestStderrSummary(t *testing.T) {
	const logLine = `{"level":"warn","ts":"2026-12-06T17:36:27.273912Z","logger":"client","msg":"retrying of unary invoker failed"}`
	for _, tt := range []struct{ name, stderr, want string }{
		{"etcdctl's words after the client's logs", logLine + "\n" + logLine + "\nError: unhealthy cluster\n", "Error: unhealthy cluster"},
		{"several lines", "Failed to get the status of endpoint https://a:2379 (x)\n" + logLine + "\nFailed to get the status of endpoint https://b:2379 (y)\n",
			"Failed to get the status of endpoint https://a:2379 (x); Failed to get the status of endpoint https://b:2379 (y)"},
		{"only logs: the last one", `{"n":1}` + "\n" + `{"n":2}` + "\n", `{"n":2}`},
		{"nothing", "\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := stderrSummary(tt.stderr); got != tt.want {
				t.Errorf("stderrSummary = %q, want %q", got, tt.want)
			}
		})
	}
}
