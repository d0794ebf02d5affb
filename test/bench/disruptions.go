package main

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// disruptions watches the workloads' pods and counts, per workload (the
// pod's controlling owner: a ReplicaSet, a StatefulSet), how many of its
// pods began to terminate after start: during an upgrade, only drains end
// pods, so each is an accepted eviction (or a drain's deletion). A pod
// evicted, rescheduled onto a node still to go and evicted again counts
// twice: once for the pod, once for its replacement. DaemonSet pods and
// pods without a controller are never evicted and are left out.
type disruptions struct {
	mu sync.Mutex
	// started is true from start on; before it nothing is counted.
	started bool
	// ended counts each workload's pods that began to terminate.
	ended map[string]int
	// seen holds the pods already counted.
	seen map[types.UID]bool
	// live is each workload's pods that are not terminating, by UID.
	live map[string]map[types.UID]bool
}

func watchDisruptions(ctx context.Context, cs kubernetes.Interface) *disruptions {
	d := &disruptions{ended: map[string]int{}, seen: map[types.UID]bool{},
		live: map[string]map[types.UID]bool{}}
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { d.pod(obj.(*corev1.Pod), false) },
		UpdateFunc: func(_, obj any) { d.pod(obj.(*corev1.Pod), false) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				d.pod(p, true)
			}
		},
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return d
}

// workload is the key of a pod's controlling owner, "" for none or a
// DaemonSet.
func workload(p *corev1.Pod) string {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind != "DaemonSet" {
			return p.Namespace + "/" + ref.Kind + "/" + ref.Name
		}
	}
	return ""
}

func (d *disruptions) pod(p *corev1.Pod, deleted bool) {
	w := workload(p)
	if w == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !deleted && p.DeletionTimestamp == nil {
		if d.live[w] == nil {
			d.live[w] = map[types.UID]bool{}
		}
		d.live[w][p.UID] = true
		return
	}
	delete(d.live[w], p.UID)
	if d.started && !d.seen[p.UID] {
		d.seen[p.UID] = true
		d.ended[w]++
	}
}

// start begins counting.
func (d *disruptions) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started = true
}

// disruptionStats is what the bench reports of the workloads' disruption.
type disruptionStats struct {
	// Pods is the workloads' pods at the end; Ended how many pods
	// (replacements included) terminated during the upgrade.
	Pods, Ended int
	// PerPod is Ended over Pods: 1 means each pod was evicted once.
	PerPod float64
	// Workloads counts the workloads; per workload, the disruptions are its
	// ended pods over its replicas: the mean, the worst, and how many
	// workloads lost more pods than they have replicas.
	Workloads              int
	PerWorkloadMean        float64
	PerWorkloadMax         float64
	WorkloadsOverOnePerPod int
	// Worst names the workload of PerWorkloadMax.
	Worst string
}

// stats sums up, once the upgrade is done: each workload's replicas are
// its live pods then (every eviction replaced), not at the start, when the
// simulated cluster may still be creating some.
func (d *disruptions) stats() disruptionStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	replicas := map[string]int{}
	for w, pods := range d.live {
		replicas[w] = len(pods)
	}
	return disruptionSummary(replicas, d.ended)
}

// disruptionSummary sums up the ended pods of each workload against its
// replicas at the start.
func disruptionSummary(replicas, ended map[string]int) disruptionStats {
	var s disruptionStats
	var per []float64
	for w, n := range replicas {
		if n == 0 {
			continue
		}
		s.Pods += n
		s.Ended += ended[w]
		r := float64(ended[w]) / float64(n)
		if len(per) == 0 || r > s.PerWorkloadMax || (r == s.PerWorkloadMax && w < s.Worst) {
			s.Worst, s.PerWorkloadMax = w, r
		}
		per = append(per, r)
		if ended[w] > n {
			s.WorkloadsOverOnePerPod++
		}
	}
	s.Workloads = len(per)
	if s.Pods > 0 {
		s.PerPod = float64(s.Ended) / float64(s.Pods)
	}
	if len(per) > 0 {
		var sum float64
		for _, r := range per {
			sum += r
		}
		s.PerWorkloadMean = sum / float64(len(per))
	}
	return s
}
