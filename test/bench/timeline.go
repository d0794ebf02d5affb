package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsSample is one scrape of the manager's /metrics: what
// docs/observability.md plots, as Prometheus would have stored it.
type metricsSample struct {
	// At is the scrape's time since the timeline began.
	At time.Duration
	// Nodes is nodewave_nodes by state, summed over ClusterUpgrades.
	Nodes map[string]float64
	// Steps is nodewave_node_upgrade_duration_seconds by step: the
	// cumulative buckets, by upper bound, +Inf last.
	Steps map[string][]bucket
	// Evictions is nodewave_evictions_total by result.
	Evictions map[string]float64
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	UpperBound float64
	Count      float64
}

// parseSample reads the series a timeline keeps from one /metrics body.
func parseSample(body io.Reader) (metricsSample, error) {
	s := metricsSample{Nodes: map[string]float64{}, Steps: map[string][]bucket{}, Evictions: map[string]float64{}}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(body)
	if err != nil {
		return s, err
	}
	for _, m := range families["nodewave_nodes"].GetMetric() {
		s.Nodes[label(m, "state")] += m.GetGauge().GetValue()
	}
	for _, m := range families["nodewave_evictions_total"].GetMetric() {
		s.Evictions[label(m, "result")] += m.GetCounter().GetValue()
	}
	for _, m := range families["nodewave_node_upgrade_duration_seconds"].GetMetric() {
		h := m.GetHistogram()
		var bs []bucket
		for _, b := range h.GetBucket() {
			bs = append(bs, bucket{UpperBound: b.GetUpperBound(), Count: float64(b.GetCumulativeCount())})
		}
		if len(bs) == 0 || !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
			bs = append(bs, bucket{UpperBound: math.Inf(1), Count: float64(h.GetSampleCount())})
		}
		s.Steps[label(m, "step")] = bs
	}
	return s, nil
}

// quantile estimates the q-quantile of a cumulative histogram the way
// PromQL's histogram_quantile does: linear interpolation inside the bucket
// that holds the rank, the lowest bucket starting at 0, and the upper bound
// of the last finite bucket when the rank falls in +Inf. NaN when empty.
func quantile(q float64, buckets []bucket) float64 {
	if len(buckets) < 2 || !math.IsInf(buckets[len(buckets)-1].UpperBound, 1) {
		return math.NaN()
	}
	total := buckets[len(buckets)-1].Count
	if total == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	rank := q * total
	b := slices.IndexFunc(buckets, func(b bucket) bool { return b.Count >= rank })
	if b == len(buckets)-1 {
		return buckets[len(buckets)-2].UpperBound
	}
	if b == 0 && buckets[0].UpperBound <= 0 {
		return buckets[0].UpperBound
	}
	start, end, count := 0.0, buckets[b].UpperBound, buckets[b].Count
	if b > 0 {
		start = buckets[b-1].UpperBound
		count -= buckets[b-1].Count
		rank -= buckets[b-1].Count
	}
	return start + (end-start)*(rank/count)
}

// timeline scrapes /metrics at a fixed interval until stopped.
type timeline struct {
	mu      sync.Mutex
	start   time.Time
	samples []metricsSample
	cancel  context.CancelFunc
	done    chan struct{}
}

// startTimeline scrapes url every interval from now on; a failed scrape
// (the manager not up yet) is skipped.
func startTimeline(ctx context.Context, url string, every time.Duration) *timeline {
	ctx, cancel := context.WithCancel(ctx)
	tl := &timeline{start: time.Now(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tl.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if s, err := scrapeSample(ctx, url); err == nil {
				s.At = time.Since(tl.start)
				tl.mu.Lock()
				tl.samples = append(tl.samples, s)
				tl.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return tl
}

// stop ends the scrapes and returns the samples.
func (tl *timeline) stop() []metricsSample {
	tl.cancel()
	<-tl.done
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.samples
}

func scrapeSample(ctx context.Context, url string) (metricsSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return metricsSample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return metricsSample{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return metricsSample{}, err
	}
	return parseSample(bytes.NewReader(body))
}
