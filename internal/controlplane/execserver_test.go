package controlplane

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// execRequest is one request the fake API server received.
type execRequest struct {
	method, path string
	query        url.Values
}

// runFunc plays the container runtime: it runs argv and returns what it
// printed and its exit code.
type runFunc func(argv []string) (stdout, stderr []byte, exitCode int)

// fakeExecServer is an API server that serves pods/exec over WebSockets
// (remote command protocol v5, which client-go's executor speaks first),
// running each command with run, and answers 403 to anything else, SPDY
// among it. It records every request.
type fakeExecServer struct {
	*httptest.Server
	run runFunc

	mu       sync.Mutex
	requests []execRequest
}

func newFakeExecServer(t *testing.T, run runFunc) *fakeExecServer {
	t.Helper()
	f := &fakeExecServer{run: run}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// config is a manager's rest.Config for the server, and clientset a
// clientset from it.
func (f *fakeExecServer) config() *rest.Config { return &rest.Config{Host: f.URL} }

func (f *fakeExecServer) clientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(f.config())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (f *fakeExecServer) recorded() []execRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]execRequest(nil), f.requests...)
}

func (f *fakeExecServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, execRequest{method: r.Method, path: r.URL.Path, query: r.URL.Query()})
	f.mu.Unlock()
	if f.run == nil || !wsstream.IsWebSocketRequest(r) {
		forbidden(w)
		return
	}
	q := r.URL.Query()
	channel := func(requested string, c wsstream.ChannelType) wsstream.ChannelType {
		if q.Get(requested) == "true" {
			return c
		}
		return wsstream.IgnoreChannel
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommand.StreamProtocolV5Name: {Binary: true, Channels: []wsstream.ChannelType{
			remotecommand.StreamStdIn:  channel("stdin", wsstream.ReadChannel),
			remotecommand.StreamStdOut: channel("stdout", wsstream.WriteChannel),
			remotecommand.StreamStdErr: channel("stderr", wsstream.WriteChannel),
			remotecommand.StreamErr:    wsstream.WriteChannel,
			remotecommand.StreamResize: wsstream.ReadChannel,
		}},
	})
	_, streams, err := conn.Open(w, r)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	stdout, stderr, code := f.run(q["command"])
	_, _ = streams[remotecommand.StreamStdOut].Write(stdout)
	_, _ = streams[remotecommand.StreamStdErr].Write(stderr)
	status := metav1.Status{Status: metav1.StatusSuccess}
	if code != 0 {
		// What the kubelet sends for a command that exits non-zero.
		status = metav1.Status{
			Status: metav1.StatusFailure,
			Reason: remotecommand.NonZeroExitCodeReason,
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
				{Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(code)},
			}},
			Message: "command terminated with non-zero exit code",
		}
	}
	b, _ := json.Marshal(status)
	_, _ = streams[remotecommand.StreamErr].Write(b)
}

// forbidden answers as the API server does when RBAC refuses pods/exec.
func forbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Reason:   metav1.StatusReasonForbidden,
		Code:     http.StatusForbidden,
		Message: `pods "etcd-cp-1" is forbidden: User "system:serviceaccount:nodewave-system:nodewave" ` +
			`cannot create resource "pods/exec" in API group "" in the namespace "kube-system"`,
	})
}
