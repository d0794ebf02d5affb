package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// messageWriteInterval is the least time between two status writes that
// change nothing but what the nodes in flight say ("12 pods terminating",
// then "9"). With a hundred nodes draining, a finished drain pass wakes the
// ClusterUpgrade several times a second, and writing each new message
// would be most of the manager's API traffic. Counts, states, phases and
// conditions are written at once.
const messageWriteInterval = 2 * time.Second

// statusWrites remembers when each ClusterUpgrade's status was last
// written, to space out the writes that only change messages. Forgetting
// it (a restart) costs one early write.
type statusWrites struct {
	mu   sync.Mutex
	last map[types.UID]time.Time
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

// wrote records a status write.
func (w *statusWrites) wrote(uid types.UID, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[types.UID]time.Time{}
	}
	w.last[uid] = now
}

// forget drops a deleted ClusterUpgrade.
func (w *statusWrites) forget(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.last, uid)
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
