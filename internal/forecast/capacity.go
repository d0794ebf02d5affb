package forecast

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodewave/nodewave/internal/drainpolicy"
	"github.com/nodewave/nodewave/internal/plan"
)

// CapacityCaveat says what the capacity check leaves out. It is part of
// every report that shows the check.
const CapacityCaveat = "the capacity check sums requests per resource: it ignores node selectors and affinity, " +
	"taints and tolerations, topology spread, and whether each pod fits on one node, " +
	"and it counts only the selected nodes as room"

// Capacity is a room check: can the selected nodes that stay schedulable
// take the pods evicted from the largest wave?
type Capacity struct {
	// WaveSize is how many nodes the check drains at once: maxUnavailable,
	// or fewer when fewer nodes are to be drained. 0: nothing to drain.
	WaveSize int `json:"waveSize"`
	// Resources are the checks for cpu and memory.
	Resources []ResourceCheck `json:"resources,omitempty"`
}

// ResourceCheck is the room check for one resource.
type ResourceCheck struct {
	// Resource is cpu or memory.
	Resource corev1.ResourceName `json:"resource"`
	// Wave are the WaveSize nodes to drain whose evicted pods request the
	// most of Resource, counting only pods that come back elsewhere (a
	// controller other than a DaemonSet recreates them), in plan order.
	Wave []string `json:"wave"`
	// Moving is what those pods request.
	Moving resource.Quantity `json:"moving"`
	// Receivers is how many nodes can take them: the selected nodes
	// outside Wave that are Ready, schedulable, and neither in flight nor
	// failed.
	Receivers int `json:"receivers"`
	// Free is the allocatable of the receivers minus the requests of the
	// pods already on them (at least zero per node).
	Free resource.Quantity `json:"free"`
	// Enough is Moving <= Free.
	Enough bool `json:"enough"`
}

// capacity checks, for cpu and memory, the worst wave: the maxUnavailable
// nodes to drain whose pods to move request the most, against the free
// allocatable of every other selected node that stays schedulable. With
// spec.controlPlane it is the workers' check: drained are workers, and
// the control-plane nodes (tainted as a rule) are not counted as room.
func (w *world) capacity(drained []string) Capacity {
	c := Capacity{WaveSize: min(w.maxUnavailable, len(drained))}
	if c.WaveSize == 0 {
		return c
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		c.Resources = append(c.Resources, w.checkResource(res, drained, c.WaveSize))
	}
	return c
}

func (w *world) checkResource(res corev1.ResourceName, drained []string, size int) ResourceCheck {
	moving := map[string]resource.Quantity{}
	for _, name := range drained {
		var q resource.Quantity
		for _, jp := range w.pods[name] {
			if jp.verdict == drainpolicy.Evicted && recreated(jp.pod) {
				q.Add(jp.requests[res])
			}
		}
		moving[name] = q
	}
	byLoad := slices.Clone(drained)
	slices.SortStableFunc(byLoad, func(a, b string) int {
		qa, qb := moving[a], moving[b]
		return qb.Cmp(qa)
	})
	inWave := map[string]bool{}
	check := ResourceCheck{Resource: res}
	for _, name := range byLoad[:size] {
		inWave[name] = true
		check.Moving.Add(moving[name])
	}
	for _, n := range w.planNodes {
		if w.controlPlane[n.Name] {
			continue
		}
		if inWave[n.Name] {
			check.Wave = append(check.Wave, n.Name)
			continue
		}
		class := plan.Classify(n)
		if !n.Ready || n.Unschedulable || class == plan.ClassInFlight || class == plan.ClassFailed || class == plan.ClassBlocked {
			continue
		}
		check.Receivers++
		free := w.nodes[n.Name].Status.Allocatable[res].DeepCopy()
		for _, jp := range w.pods[n.Name] {
			if jp.pod.Status.Phase != corev1.PodSucceeded && jp.pod.Status.Phase != corev1.PodFailed {
				free.Sub(jp.requests[res])
			}
		}
		if free.Sign() > 0 {
			check.Free.Add(free)
		}
	}
	check.Enough = check.Moving.Cmp(check.Free) <= 0
	return check
}

// findings reports each check: a Blocker when the room is short, a Note
// when it is enough.
func (c Capacity) findings() []Finding {
	out := make([]Finding, 0, len(c.Resources))
	for _, r := range c.Resources {
		f := Finding{Severity: Note, Kind: KindCapacity, Subject: fmt.Sprintf("capacity (%s)", r.Resource), Nodes: r.Wave}
		verdict := "enough"
		if !r.Enough {
			short := r.Moving.DeepCopy()
			short.Sub(r.Free)
			f.Severity, verdict = Blocker, quantity(r.Resource, short)+" short: evicted pods will wait Pending"
		}
		f.Message = fmt.Sprintf("draining %s (the %s whose evicted pods request the most %s) moves %s of requests; "+
			"the other Ready, schedulable selected nodes (%d) have %s free: %s",
			names(r.Wave), count(len(r.Wave), "node"), r.Resource, quantity(r.Resource, r.Moving),
			r.Receivers, quantity(r.Resource, r.Free), verdict)
		out = append(out, f)
	}
	return out
}

// quantity formats q for people: CPU in cores ("2", "12.5 CPU"), memory
// in binary units ("1.5Gi").
func quantity(res corev1.ResourceName, q resource.Quantity) string {
	if res == corev1.ResourceCPU {
		return strconv.FormatFloat(float64(q.MilliValue())/1000, 'f', -1, 64) + " CPU"
	}
	b := float64(q.Value())
	for _, u := range []struct {
		name string
		size float64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if b >= u.size {
			return strconv.FormatFloat(math.Round(b/u.size*10)/10, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatFloat(b, 'f', -1, 64) + " bytes"
}
