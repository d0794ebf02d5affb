package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// APIRequestsTotal counts the manager's requests to the API server by
// verb and resource: what each kind of request costs the control plane
// at scale (client-go's rest_client_requests_total has only the HTTP
// method and the host).
var APIRequestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "nodewave_api_requests_total",
	Help: "Requests the manager sent to the Kubernetes API server, by verb (get, list, watch, create, update, patch, delete) " +
		"and resource (nodes, pods/eviction, jobs.batch, clusterupgrades.upgrade.nodewave.io/status, ...; the path for discovery).",
}, []string{"verb", "resource"})

// requestInfo parses a request's path as the API server does: the verb
// tells get from list and watch, the resource names the group and the
// subresource.
var requestInfo = &request.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// CountRequests wraps a client's transport (rest.Config.Wrap) so that
// every request it sends is counted in APIRequestsTotal.
func CountRequests(rt http.RoundTripper) http.RoundTripper {
	return &countingRoundTripper{next: rt}
}

type countingRoundTripper struct{ next http.RoundTripper }

func (c *countingRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	APIRequestsTotal.WithLabelValues(RequestKind(req)).Inc()
	return c.next.RoundTrip(req)
}

// WrappedRoundTripper lets client-go find the transport underneath.
func (c *countingRoundTripper) WrappedRoundTripper() http.RoundTripper { return c.next }

// RequestKind is a request's verb and resource as APIRequestsTotal labels
// them: "list", "pods"; "create", "pods/eviction"; "patch",
// "clusterupgrades.upgrade.nodewave.io/status". A request to no resource
// (discovery, /version) is labelled with its HTTP verb and its path.
func RequestKind(req *http.Request) (verb, resource string) {
	info, err := requestInfo.NewRequestInfo(req)
	if err != nil || !info.IsResourceRequest {
		return info.Verb, req.URL.Path
	}
	resource = info.Resource
	if info.APIGroup != "" {
		resource += "." + info.APIGroup
	}
	if info.Subresource != "" {
		resource += "/" + info.Subresource
	}
	return info.Verb, resource
}
