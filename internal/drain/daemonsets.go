package drain

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
)

// daemonSetMemory is how long a DaemonSet's existence, once looked up, is
// taken as known.
const daemonSetMemory = 30 * time.Second

// daemonSets remembers, for daemonSetMemory, whether each DaemonSet a pass
// looked up exists. kubectl's drain filter GETs the DaemonSet of every
// DaemonSet pod on every pass (only to tell a DaemonSet's pod, which stays,
// from an orphan, which force may evict); with a pass every few seconds on
// each of a hundred draining nodes, that was a GET per pass per node. What
// it decides changes only when a DaemonSet is deleted, and an orphan found
// up to 30 s late is evicted on a later pass. Errors other than NotFound
// are not remembered.
type daemonSets struct {
	mu    sync.Mutex
	known map[string]daemonSetSeen // by namespace/name
	now   func() time.Time
}

type daemonSetSeen struct {
	ds      *appsv1.DaemonSet // nil when not found
	err     error             // the NotFound error
	expires time.Time
}

func (m *daemonSets) get(ctx context.Context, real appsv1client.DaemonSetInterface, namespace, name string,
	opts metav1.GetOptions) (*appsv1.DaemonSet, error) {
	key := namespace + "/" + name
	now := m.clock()
	m.mu.Lock()
	seen, ok := m.known[key]
	m.mu.Unlock()
	if ok && now.Before(seen.expires) {
		if seen.err != nil {
			return nil, seen.err
		}
		return seen.ds.DeepCopy(), nil
	}
	ds, err := real.Get(ctx, name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	seen = daemonSetSeen{err: err, expires: now.Add(daemonSetMemory)}
	if err == nil {
		// Only its identity is kept: kubectl's filter looks at nothing else.
		seen.ds = &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ds.Namespace, Name: ds.Name, UID: ds.UID}}
	}
	m.mu.Lock()
	if m.known == nil {
		m.known = map[string]daemonSetSeen{}
	}
	for k, s := range m.known { // forget what has expired, so the map stays small
		if !now.Before(s.expires) {
			delete(m.known, k)
		}
	}
	m.known[key] = seen
	m.mu.Unlock()
	return ds, err
}

func (m *daemonSets) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}
