package controlplane

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
)

// APIServerEndpointAnnotation is the annotation kubeadm puts on each
// kube-apiserver mirror pod: the host:port that API server advertises
// (its node's localAPIEndpoint).
const APIServerEndpointAnnotation = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"

// APIServerPort is the port kubeadm's API servers listen on unless
// localAPIEndpoint.bindPort says otherwise.
const APIServerPort = 6443

// readyzTimeout bounds one GET /readyz when neither the context nor the
// rest.Config sets a deadline.
const readyzTimeout = 10 * time.Second

// APIServerEndpoint returns the host:port of node's own API server: the
// APIServerEndpointAnnotation of its kube-apiserver mirror pod among pods
// (those of kube-system), as kubeadm finds it, else internalIP (the node's
// InternalIP) and APIServerPort. An annotation whose host is unspecified
// (0.0.0.0 or ::) keeps its port with internalIP. It returns "" when it
// knows neither.
func APIServerEndpoint(pods []corev1.Pod, node, internalIP string) string {
	port := strconv.Itoa(APIServerPort)
	for _, p := range mirrorPods(pods, node) {
		if p.Labels[ComponentLabel] != KubeAPIServer {
			continue
		}
		host, annotatedPort, err := net.SplitHostPort(p.Annotations[APIServerEndpointAnnotation])
		if err != nil || host == "" || annotatedPort == "" {
			continue
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			return net.JoinHostPort(host, annotatedPort)
		}
		port = annotatedPort
	}
	if internalIP == "" {
		return ""
	}
	return net.JoinHostPort(internalIP, port)
}

// APIServerReady asks the API server at endpoint (host:port, from
// APIServerEndpoint) whether it is ready: GET https://endpoint/readyz with
// config's credentials and certificate authority, so with the manager's
// own identity (/readyz is open to every authenticated user through
// kubeadm's system:public-info-viewer). config is not modified. It returns
// nil on 200 OK, or an error naming the endpoint and, for an API server
// that answers not ready, the checks that failed as /readyz lists them
// ("[-]etcd failed: reason withheld").
func APIServerReady(ctx context.Context, config *rest.Config, endpoint string) error {
	if endpoint == "" {
		return fmt.Errorf("no API server address to check")
	}
	c := rest.CopyConfig(config)
	c.Host = "https://" + endpoint
	c.APIPath = ""
	if c.Timeout == 0 {
		c.Timeout = readyzTimeout
	}
	client, err := rest.HTTPClientFor(c)
	if err != nil {
		return fmt.Errorf("API server %s: %w", endpoint, err)
	}
	url := c.Host + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("API server %s: %w", endpoint, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("API server %s: %w", endpoint, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return fmt.Errorf("API server %s is not ready: GET /readyz answered %s%s", endpoint, resp.Status, failedChecks(body))
}

// failedChecks returns the lines of a /readyz answer that name a failed
// check ("[-]etcd failed: reason withheld"), after ": " and joined by
// ", ", or the start of the answer when it names none.
func failedChecks(body []byte) string {
	var failed []string
	for line := range strings.Lines(string(body)) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "[-]") {
			failed = append(failed, line)
		}
	}
	if len(failed) == 0 {
		s := strings.Join(strings.Fields(string(body)), " ")
		if s == "" {
			return ""
		}
		return ": " + abbreviate(s, 200)
	}
	return ": " + strings.Join(failed, ", ")
}
