package controller

import (
	"context"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// messageWriteInterval is the least time between two status writes that
// change nothing but what the nodes in flight say ("12 pods terminating",
// then "9"). With a hundred nodes draining, a finished drain pass wakes the
// ClusterUpgrade several times a second, and writing each new message
// would be most of the manager's API traffic. Counts, states, phases and
// conditions are written at once.
const messageWriteInterval = 2 * time.Second

// statusRetry is how long a failed status write waits before it is tried
// again, doubling up to statusRetryMax while it keeps failing.
const (
	statusRetry    = time.Second
	statusRetryMax = 30 * time.Second
)

// statusWrites writes each ClusterUpgrade's status in the background, and
// spaces out the writes that only change messages.
//
// A pass computes the status and hands it over (write); it does not wait
// for the API server. At 5,000 nodes, with 500 nodes in flight listed in
// status.inProgress (~100 KB), a status write took a second (p50; 2.8 s at
// worst) against a busy API server, and every node that finished
// meanwhile waited for it before the next pass could refill its slot.
//
// Each ClusterUpgrade has at most one write running and one waiting, the
// newest (a newer status replaces the waiting one). Until the cache shows
// the last write, a pass reads the newest status handed over instead of
// the cache's (overlay), so it neither decides on an old status nor
// writes the same change twice. Each write is a merge patch over the
// status the API server has: the last one written, or, before any, the
// one the pass read. A failed write is retried, newest status first,
// after statusRetry, doubling to statusRetryMax; until it succeeds the
// ClusterUpgrade's passes return its error, so the reconcile errors (and
// their alert) show it. Forgetting it all (a restart) costs nothing: the
// next pass reads the cache.
type statusWrites struct {
	// patch writes cu's status as a merge patch over base's; the manager's
	// is the status client's Patch. It updates cu from the response.
	patch func(ctx context.Context, cu, base *upgradev1alpha1.ClusterUpgrade) error

	mu      sync.Mutex
	last    map[types.UID]time.Time
	writers map[types.UID]*statusWriter
}

// statusWriter is one ClusterUpgrade's status writes.
type statusWriter struct {
	next    *upgradev1alpha1.ClusterUpgrade // the newest status handed over and not yet written; nil when none
	writing *upgradev1alpha1.ClusterUpgrade // the status being written
	// base is the status the API server has, the base of the next write:
	// the last one written, or, before any, the one the first pass read.
	base *upgradev1alpha1.ClusterUpgradeStatus
	// writtenRV is the resourceVersion the API server gave the last
	// write; 0 before any.
	writtenRV uint64
	err       error // the last write's error, nil once one succeeds
	running   bool
}

// hold says how long to wait before writing next over old, zero to write
// now.
func (w *statusWrites) hold(uid types.UID, old, next *upgradev1alpha1.ClusterUpgradeStatus, now time.Time) time.Duration {
	if !onlyMessagesDiffer(old, next) {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if since := now.Sub(w.last[uid]); since < messageWriteInterval {
		return messageWriteInterval - since
	}
	return 0
}

// wrote records when a status was handed over for writing.
func (w *statusWrites) wrote(uid types.UID, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[types.UID]time.Time{}
	}
	w.last[uid] = now
}

// write hands cu's status over to be written in the background; before
// is the status the pass read (after overlay).
func (w *statusWrites) write(ctx context.Context, cu *upgradev1alpha1.ClusterUpgrade, before *upgradev1alpha1.ClusterUpgradeStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writers == nil {
		w.writers = map[types.UID]*statusWriter{}
	}
	sw := w.writers[cu.UID]
	if sw == nil {
		sw = &statusWriter{}
		w.writers[cu.UID] = sw
	}
	if sw.base == nil {
		sw.base = before.DeepCopy()
	}
	sw.next = cu.DeepCopy()
	if !sw.running {
		sw.running = true
		go w.run(ctx, cu.UID, sw)
	}
}

// overlay puts on cu, just read from the cache, the newest status handed
// over that the cache does not show yet, and returns the error of the
// last write if it failed. Once the cache shows the last write and
// nothing waits, the ClusterUpgrade's writer is forgotten.
func (w *statusWrites) overlay(cu *upgradev1alpha1.ClusterUpgrade) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	sw := w.writers[cu.UID]
	if sw == nil {
		return nil
	}
	switch {
	case sw.next != nil:
		cu.Status = *sw.next.Status.DeepCopy()
	case sw.writing != nil:
		cu.Status = *sw.writing.Status.DeepCopy()
	case sw.writtenRV > 0 && olderThan(cu.ResourceVersion, sw.writtenRV):
		cu.Status = *sw.base.DeepCopy()
	case !sw.running:
		delete(w.writers, cu.UID)
	}
	return sw.err
}

// run writes the newest status handed over until none waits.
func (w *statusWrites) run(ctx context.Context, uid types.UID, sw *statusWriter) {
	log := logf.FromContext(ctx)
	retry := statusRetry
	for {
		w.mu.Lock()
		next, base := sw.next, sw.base
		sw.next, sw.writing = nil, next
		if next == nil || w.writers[uid] != sw {
			sw.running, sw.writing = false, nil
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()

		// The patch reads the response into a copy: passes read next
		// (overlay) meanwhile.
		var err error
		written := next.DeepCopy()
		if !equality.Semantic.DeepEqual(*base, next.Status) {
			old := next.DeepCopy()
			old.Status = *base
			err = w.patch(ctx, written, old)
		}

		w.mu.Lock()
		sw.writing = nil
		switch {
		case err == nil:
			sw.base, sw.err = &written.Status, nil
			sw.writtenRV, _ = parseResourceVersion(written.ResourceVersion)
			retry = statusRetry
		case apierrors.IsNotFound(err):
			sw.next = nil // gone: nothing more to write
		default:
			sw.err = err
			if sw.next == nil {
				sw.next = next // the newest status to write is still this one
			}
		}
		w.mu.Unlock()
		if err != nil && !apierrors.IsNotFound(err) {
			log.Error(err, "writing the status; retrying", "after", retry)
			select {
			case <-ctx.Done():
				w.mu.Lock()
				sw.running = false
				w.mu.Unlock()
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, statusRetryMax)
		}
	}
}

// forget drops a deleted ClusterUpgrade: a write waiting is not made.
func (w *statusWrites) forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.last, uid)
	if sw := w.writers[uid]; sw != nil {
		sw.next = nil
		delete(w.writers, uid)
	}
}

// parseResourceVersion reads a resourceVersion as the number the API
// server makes it (etcd's revision, which increases with every write;
// the watch cache's bookmarks and the ReplicaSet controller rely on the
// same); ok is false when it is not one, and then there is no order to go
// by.
func parseResourceVersion(rv string) (n uint64, ok bool) {
	n, err := strconv.ParseUint(rv, 10, 64)
	return n, err == nil
}

// olderThan reports whether the object read at resourceVersion rv is
// older than a write the API server gave the resourceVersion written; a
// resourceVersion that is not a number is taken as not older.
func olderThan(rv string, written uint64) bool {
	n, ok := parseResourceVersion(rv)
	return ok && n < written
}

// onlyMessagesDiffer reports whether next differs from old only in the
// messages of the same nodes in flight, in the same states.
func onlyMessagesDiffer(old, next *upgradev1alpha1.ClusterUpgradeStatus) bool {
	if len(old.InProgress) != len(next.InProgress) {
		return false
	}
	same := next.DeepCopy()
	for i := range same.InProgress {
		if same.InProgress[i].Name != old.InProgress[i].Name || same.InProgress[i].State != old.InProgress[i].State {
			return false
		}
		same.InProgress[i].Message = old.InProgress[i].Message
	}
	return equality.Semantic.DeepEqual(old, same)
}
