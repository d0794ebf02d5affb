package controller

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestStatusWritesSpaceOutMessageOnlyChanges(t *testing.T) {
	base := upgradev1alpha1.ClusterUpgradeStatus{
		UpgradedNodes: 3, UpgradingNodes: 2,
		InProgress: []upgradev1alpha1.NodeProgress{
			{Name: "a", State: upgradev1alpha1.NodeDraining, Message: "12 pods terminating"},
			{Name: "b", State: upgradev1alpha1.NodeUpgrading},
		},
	}
	messageOnly := base.DeepCopy()
	messageOnly.InProgress[0].Message = "9 pods terminating"
	newState := base.DeepCopy()
	newState.InProgress[0].State = upgradev1alpha1.NodeUpgrading
	newCount := messageOnly.DeepCopy()
	newCount.UpgradedNodes = 4
	newNode := base.DeepCopy()
	newNode.InProgress[1].Name = "c"
	fewer := base.DeepCopy()
	fewer.InProgress = fewer.InProgress[:1]

	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var w statusWrites
	if d := w.hold("u", &base, messageOnly, t0); d != 0 {
		t.Fatalf("first write held %s; nothing was written yet", d)
	}
	w.wrote("u", t0)
	if d := w.hold("u", &base, messageOnly, t0.Add(500*time.Millisecond)); d != 1500*time.Millisecond {
		t.Fatalf("a message-only change 0.5s after a write is held %s, want 1.5s", d)
	}
	for name, next := range map[string]*upgradev1alpha1.ClusterUpgradeStatus{
		"a new state": newState, "a new count": newCount, "another node": newNode, "a node fewer": fewer,
	} {
		if d := w.hold("u", &base, next, t0.Add(time.Millisecond)); d != 0 {
			t.Errorf("%s was held %s; only message changes wait", name, d)
		}
	}
	if d := w.hold("u", &base, messageOnly, t0.Add(messageWriteInterval)); d != 0 {
		t.Fatalf("a message-only change a whole interval after the write is held %s", d)
	}
	if d := w.hold("other", &base, messageOnly, t0.Add(time.Millisecond)); d != 0 {
		t.Fatalf("another ClusterUpgrade's change was held %s by this one's write", d)
	}
	w.forget("u")
	if d := w.hold("u", &base, messageOnly, t0.Add(time.Millisecond)); d != 0 {
		t.Fatalf("held %s after forget", d)
	}
}

// fakeStatusServer stands in for the API server's status subresource: it
// records each patch (its base and the status written) and can hold or
// fail them.
type fakeStatusServer struct {
	mu      sync.Mutex
	rv      uint64
	patches []fakePatch
	release chan struct{} // when non-nil, each patch waits for a receive
	fail    error         // when non-nil, the next patch fails with it
}

type fakePatch struct{ base, status int32 } // upgradedNodes of each

func (f *fakeStatusServer) patch(_ context.Context, cu, base *upgradev1alpha1.ClusterUpgrade) error {
	cu.Status.Phase = "the response being read" // as the client reads it into cu
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail; err != nil {
		f.fail = nil
		return err
	}
	f.rv++
	cu.ResourceVersion = strconv.FormatUint(f.rv, 10)
	f.patches = append(f.patches, fakePatch{base: base.Status.UpgradedNodes, status: cu.Status.UpgradedNodes})
	return nil
}

func (f *fakeStatusServer) written() []fakePatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.patches)
}

func withUpgraded(n int32, rv string) *upgradev1alpha1.ClusterUpgrade {
	cu := &upgradev1alpha1.ClusterUpgrade{}
	cu.UID, cu.ResourceVersion = "u", rv
	cu.Status.UpgradedNodes = n
	return cu
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStatusWritesNewestWinsAndOverlay: passes hand over statuses faster
// than the API server takes them: the one being written goes on, the
// newest replaces the one waiting, and each write's base is the status
// the server has. Until the cache shows the last write, a pass reads the
// newest status handed over.
func TestStatusWritesNewestWinsAndOverlay(t *testing.T) {
	f := &fakeStatusServer{rv: 10, release: make(chan struct{})}
	w := &statusWrites{patch: f.patch}
	ctx := context.Background()

	cached := withUpgraded(0, "10")
	w.write(ctx, withUpgraded(1, "10"), &cached.Status) // written at once, held by the server
	waitFor(t, "the first write", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.writers["u"].writing != nil })
	during := withUpgraded(0, "10")
	if _ = w.overlay(during); during.Status.UpgradedNodes != 1 || during.Status.Phase != "" {
		t.Fatalf("a pass during the first write reads %d upgraded, phase %q; want the status handed over, untouched by the write",
			during.Status.UpgradedNodes, during.Status.Phase)
	}
	w.write(ctx, withUpgraded(2, "10"), &cached.Status) // waits
	w.write(ctx, withUpgraded(3, "10"), &cached.Status) // replaces 2

	read := withUpgraded(0, "10")
	if err := w.overlay(read); err != nil || read.Status.UpgradedNodes != 3 {
		t.Fatalf("a pass during the writes reads %d upgraded (err %v), want the newest handed over, 3", read.Status.UpgradedNodes, err)
	}
	f.release <- struct{}{}
	f.release <- struct{}{}
	waitFor(t, "two writes", func() bool { return len(f.written()) == 2 })
	if got, want := f.written(), []fakePatch{{base: 0, status: 1}, {base: 1, status: 3}}; !slices.Equal(got, want) {
		t.Fatalf("writes (base, status) = %v, want %v: the waiting 2 replaced by 3, each over the last written", got, want)
	}
	waitFor(t, "the writer to stop", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return !w.writers["u"].running })

	stale := withUpgraded(1, "11") // the cache shows the first write only
	if _ = w.overlay(stale); stale.Status.UpgradedNodes != 3 {
		t.Fatalf("a cache behind the last write reads %d, want 3", stale.Status.UpgradedNodes)
	}
	current := withUpgraded(3, "12")
	if _ = w.overlay(current); current.Status.UpgradedNodes != 3 {
		t.Fatalf("a cache that caught up reads %d", current.Status.UpgradedNodes)
	}
	if _, ok := w.writers["u"]; ok {
		t.Fatalf("the writer is kept once the cache shows its last write")
	}
}

// TestStatusWritesRetryAFailedWrite: a failed write is tried again with
// the newest status, and until it succeeds the overlay returns its error
// (the pass returns it: the reconcile errors show it).
func TestStatusWritesRetryAFailedWrite(t *testing.T) {
	f := &fakeStatusServer{rv: 10, fail: apierrors.NewServiceUnavailable("etcd is slow")}
	w := &statusWrites{patch: f.patch}
	ctx := context.Background()

	cached := withUpgraded(0, "10")
	w.write(ctx, withUpgraded(1, "10"), &cached.Status)
	waitFor(t, "the failure", func() bool { return w.overlay(withUpgraded(0, "10")) != nil })
	w.write(ctx, withUpgraded(2, "10"), &cached.Status)
	waitFor(t, "the retry", func() bool { return len(f.written()) == 1 })
	if got, want := f.written(), []fakePatch{{base: 0, status: 2}}; !slices.Equal(got, want) {
		t.Fatalf("writes = %v, want %v: the retry writes the newest status over the server's", got, want)
	}
	if err := w.overlay(withUpgraded(2, "11")); err != nil {
		t.Fatalf("after the retry succeeded the overlay still returns %v", err)
	}

	f.fail = apierrors.NewNotFound(schema.GroupResource{Resource: "clusterupgrades"}, "gone")
	w.write(ctx, withUpgraded(3, "11"), &cached.Status)
	waitFor(t, "the writer to stop", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return !w.writers["u"].running })
	if err := w.overlay(withUpgraded(2, "11")); err != nil || len(f.written()) != 1 {
		t.Fatalf("a ClusterUpgrade gone is not written again (writes %v, err %v)", f.written(), err)
	}
}
