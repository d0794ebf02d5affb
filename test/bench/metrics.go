package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	nwmetrics "github.com/nodewave/nodewave/internal/metrics"
)

// planOrder numbers spans in nodewave's plan order: zone, then name.
func planOrder(spans []span, zones map[string]string) {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(zones[a.Node], zones[b.Node]), cmp.Compare(a.Node, b.Node))
	})
	for i := range spans {
		spans[i].Order = i
	}
}

// managerMetrics is what the bench reads from the manager's /metrics.
type managerMetrics struct {
	// Requests counts API requests by verb and resource ("list pods",
	// "create pods/eviction"), from nodewave_api_requests_total.
	Requests map[string]float64
	// RequestsByMethod counts them by HTTP method, from client-go's
	// rest_client_requests_total: the same requests, counted apart, as a
	// check on the first.
	RequestsByMethod map[string]float64
	// Evicted counts the accepted evictions (nodewave_evictions_total,
	// result evicted).
	Evicted float64
	// Reconciles is controller_runtime_reconcile_total; ReconcileP99 is
	// estimated from controller_runtime_reconcile_time_seconds' buckets.
	Reconciles   float64
	ReconcileP99 time.Duration
}

func scrape(url string) (managerMetrics, error) {
	m := managerMetrics{Requests: map[string]float64{}, RequestsByMethod: map[string]float64{}}
	resp, err := http.Get(url)
	if err != nil {
		return m, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return m, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return m, err
	}
	if f := families["rest_client_requests_total"]; f != nil {
		for _, metric := range f.GetMetric() {
			m.RequestsByMethod[label(metric, "method")] += metric.GetCounter().GetValue()
		}
	}
	if f := families["nodewave_api_requests_total"]; f != nil {
		for _, metric := range f.GetMetric() {
			m.Requests[label(metric, "verb")+" "+label(metric, "resource")] += metric.GetCounter().GetValue()
		}
	}
	if f := families["nodewave_evictions_total"]; f != nil {
		for _, metric := range f.GetMetric() {
			if label(metric, "result") == nwmetrics.EvictionEvicted {
				m.Evicted += metric.GetCounter().GetValue()
			}
		}
	}
	if f := families["controller_runtime_reconcile_total"]; f != nil {
		for _, metric := range f.GetMetric() {
			if label(metric, "controller") == "clusterupgrade" {
				m.Reconciles += metric.GetCounter().GetValue()
			}
		}
	}
	if f := families["controller_runtime_reconcile_time_seconds"]; f != nil {
		for _, metric := range f.GetMetric() {
			if label(metric, "controller") == "clusterupgrade" {
				m.ReconcileP99 = histogramQuantile(metric.GetHistogram(), 0.99)
			}
		}
	}
	return m, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// histogramQuantile is the upper bound of the bucket holding quantile q.
func histogramQuantile(h *dto.Histogram, q float64) time.Duration {
	total := float64(h.GetSampleCount())
	for _, b := range h.GetBucket() {
		if float64(b.GetCumulativeCount()) >= q*total {
			if math.IsInf(b.GetUpperBound(), 1) {
				break
			}
			return time.Duration(b.GetUpperBound() * float64(time.Second))
		}
	}
	return time.Duration(math.Inf(1))
}

// processStats reads a process's peak resident memory and CPU time.
func processStats(pid int) (peakRSS int64, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			peakRSS = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	// utime and stime are fields 14 and 15 of stat, 12 and 13 after the
	// command; in clock ticks of 1/100 s on Linux.
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return peakRSS, time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
