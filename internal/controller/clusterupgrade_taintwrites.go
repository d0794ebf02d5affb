package controller

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// taintWriters is how many pending-taint writes run at once.
const taintWriters = advanceConcurrency

// taintRetry is how soon a ClusterUpgrade is looked at again after one of
// its taint writes failed (the pass then decides again, on a newer read).
const taintRetry = time.Second

// taintWrites writes the pending taints in the background, so that a pass
// never waits for them. A pass decides which nodes' taints go on or off
// (syncPendingTaints); these writers carry that out. At 1,000 nodes the
// taint writes inside the pass held up the next pass, and with it the
// next node's cordon (a handoff p99 of 2.1 s), and the first passes of a
// 5,000-node upgrade have 4,500 taints to add.
//
// Each node has at most one want queued, the latest (a workqueue of node
// names); a writer reads the node again just before writing it, from the
// cache and the writes it has not shown yet, so a want already met costs
// nothing. A failed write is dropped, and its ClusterUpgrade queued again
// after taintRetry. It is a manager Runnable.
type taintWrites struct {
	r     *ClusterUpgradeReconciler
	queue workqueue.TypedInterface[string]

	mu    sync.Mutex
	idle  *sync.Cond // signalled when a ClusterUpgrade's writes drop
	wants map[string]taintWant
	// writes counts the wants queued or being written, by ClusterUpgrade.
	writes map[types.UID]int
	// closed are the ClusterUpgrades being deleted: no taint goes on for
	// them any more.
	closed map[types.UID]bool
}

// taintWant is what one node's pending taint should become.
type taintWant struct {
	owner string // the ClusterUpgrade's name, the taint's value
	uid   types.UID
	on    bool
}

func newTaintWrites(r *ClusterUpgradeReconciler) *taintWrites {
	w := &taintWrites{r: r, queue: workqueue.NewTyped[string](), wants: map[string]taintWant{},
		writes: map[types.UID]int{}, closed: map[types.UID]bool{}}
	w.idle = sync.NewCond(&w.mu)
	return w
}

// request asks for node's pending taint to be put on (on) or taken off
// for the ClusterUpgrade cu, replacing any want of node not yet written.
func (w *taintWrites) request(node string, owner string, uid types.UID, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on && w.closed[uid] {
		return
	}
	if old, ok := w.wants[node]; ok {
		w.done(old.uid)
	}
	w.wants[node] = taintWant{owner: owner, uid: uid, on: on}
	w.writes[uid]++
	w.queue.Add(node)
}

// done counts one of uid's writes as over; w.mu is held.
func (w *taintWrites) done(uid types.UID) {
	if w.writes[uid]--; w.writes[uid] <= 0 {
		delete(w.writes, uid)
		w.idle.Broadcast()
	}
}

// close stops taints going on for the ClusterUpgrade uid (the ones asked
// for and not yet written are dropped) and waits for its writes queued or
// running to end, so that a deletion, which then removes every taint of
// the ClusterUpgrade, finds all of them.
func (w *taintWrites) close(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed[uid] = true
	for w.writes[uid] > 0 {
		w.idle.Wait()
	}
}

// forget drops what is remembered of a deleted ClusterUpgrade.
func (w *taintWrites) forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.closed, uid)
}

// Start runs the writers until ctx ends.
func (w *taintWrites) Start(ctx context.Context) error {
	var wg sync.WaitGroup
	for range taintWriters {
		wg.Go(func() {
			for w.writeNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	w.queue.ShutDown()
	wg.Wait()
	return nil
}

// NeedLeaderElection: only the leader writes.
func (w *taintWrites) NeedLeaderElection() bool { return true }

// writeNext writes the want of the next queued node; false once the queue
// is shut down.
func (w *taintWrites) writeNext(ctx context.Context) bool {
	node, shutdown := w.queue.Get()
	if shutdown {
		return false
	}
	defer w.queue.Done(node)
	w.mu.Lock()
	want, ok := w.wants[node]
	delete(w.wants, node)
	if ok && want.on && w.closed[want.uid] {
		w.done(want.uid)
		ok = false
	}
	w.mu.Unlock()
	if !ok {
		return true
	}
	if err := w.write(ctx, node, want); err != nil && !apierrors.IsNotFound(err) {
		logf.FromContext(ctx).V(1).Info("pending taint not written; the ClusterUpgrade's next pass decides again",
			"node", node, "clusterUpgrade", want.owner, "on", want.on, "error", err.Error())
		time.AfterFunc(taintRetry, func() { w.r.wake(want.owner) })
	}
	w.mu.Lock()
	w.done(want.uid)
	w.mu.Unlock()
	return true
}

// write reads node as the pass would (the cache, overlaid with the writes
// it has not shown yet) and puts its taint on or takes it off if it has
// to.
func (w *taintWrites) write(ctx context.Context, node string, want taintWant) error {
	cached := &corev1.Node{}
	if err := w.r.Get(ctx, client.ObjectKey{Name: node}, cached); err != nil {
		return err
	}
	n := w.r.nodeWrites.overlay(cached)
	now := w.r.Clock.Now()
	if want.on {
		if pendingTaintOf(n) != nil {
			return nil
		}
		return w.r.addPendingTaint(ctx, want.owner, n, now)
	}
	return w.r.removePendingTaint(ctx, want.owner, n, now)
}
