package drain

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
)

// fakePasses is a Passes whose passes block until released, on a clock the
// test moves.
type fakePasses struct {
	*Passes
	mu      sync.Mutex
	now     time.Time
	started chan string   // node of each pass begun
	release chan Result   // the result of the pass being released
	endedCh chan struct{} // one per pass ended
	woken   chan string   // owner of each Finished call
}

func newFakePasses(interval time.Duration) *fakePasses {
	f := &fakePasses{now: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
		started: make(chan string, 10), release: make(chan Result), endedCh: make(chan struct{}, 10), woken: make(chan string, 10)}
	f.Passes = &Passes{Interval: interval, Finished: func(owner string) { f.woken <- owner }}
	f.ended = func() { f.endedCh <- struct{}{} }
	f.Now = f.clock
	f.run = func(_ context.Context, node string, _ Options, mode passMode) (Result, error) {
		if mode == lookOnly {
			f.started <- "look " + node
		} else {
			f.started <- node
		}
		res := <-f.release
		if mode == deletePods {
			res.Message = "forced " + res.Message
		}
		if res.Message == "unlistable" {
			return Result{}, errors.New("listing failed")
		}
		return res, nil
	}
	return f
}

func (f *fakePasses) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakePasses) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// finish releases the running pass with res and waits for its end. It
// reports whether the pass woke its owner.
func (f *fakePasses) finish(t *testing.T, res Result) (woke bool) {
	t.Helper()
	f.release <- res
	select {
	case <-f.endedCh:
	case <-time.After(5 * time.Second):
		t.Fatal("the pass did not end")
	}
	select {
	case owner := <-f.woken:
		if owner != "cu" {
			t.Fatalf("woke %q, want the owner cu", owner)
		}
		return true
	default:
		return false
	}
}

// expectStarted waits for a pass over n1, the node most tests use.
func expectStarted(t *testing.T, f *fakePasses) { t.Helper(); expectBegun(t, f, "n1") }

// expectBegun waits for a pass (what "n1") or a look ("look n1").
func expectBegun(t *testing.T, f *fakePasses, what string) {
	t.Helper()
	select {
	case got := <-f.started:
		if got != what {
			t.Fatalf("%q began, want %q", got, what)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%q did not begin", what)
	}
}

func expectNoneStarted(t *testing.T, f *fakePasses) {
	t.Helper()
	select {
	case got := <-f.started:
		t.Fatalf("a pass began over %s, want none", got)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestPassesRunOneAtATimeAndReportTheNewest(t *testing.T) {
	f := newFakePasses(5 * time.Second)
	since := f.clock()

	if last := f.Request("cu", "n1", since, Options{}, false); last != nil {
		t.Fatalf("first request: outcome %+v, want none", last)
	}
	expectStarted(t, f)
	// While it runs, asking again starts nothing and still has no outcome.
	f.advance(10 * time.Second)
	if last := f.Request("cu", "n1", since, Options{}, false); last != nil {
		t.Fatalf("outcome %+v before any pass finished", last)
	}
	expectNoneStarted(t, f)

	if f.finish(t, Result{Remaining: 2, Message: "2 pods terminating"}) {
		t.Fatal("a pass that left pods behind woke its owner")
	}
	f.advance(5 * time.Second)
	// The interval since its end has passed: the outcome is read and the
	// next pass starts at once.
	last := f.Request("cu", "n1", since, Options{}, false)
	if last == nil || last.Remaining != 2 || last.Drained() {
		t.Fatalf("outcome %+v, want the finished pass with 2 remaining", last)
	}
	expectStarted(t, f)
	if !f.finish(t, Result{}) {
		t.Fatal("the pass that found the node drained did not wake its owner")
	}
	// Within the interval after its end no new pass starts.
	f.advance(2 * time.Second)
	if last := f.Request("cu", "n1", since, Options{}, false); !last.Drained() {
		t.Fatalf("outcome %+v, want drained", last)
	}
	expectNoneStarted(t, f)
	f.advance(3 * time.Second)
	f.Request("cu", "n1", since, Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{})
}

func TestPassesIgnoreOutcomesFromBeforeTheDrainBegan(t *testing.T) {
	f := newFakePasses(time.Second)
	f.Request("cu", "n1", f.clock(), Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{})
	// The node is drained again later (a retry): the old outcome says
	// drained, but it listed the pods before this drain began.
	f.advance(time.Minute)
	if last := f.Request("cu", "n1", f.clock(), Options{}, false); last != nil {
		t.Fatalf("outcome %+v from before the drain began was returned", last)
	}
	expectStarted(t, f)
	f.finish(t, Result{Remaining: 1})
}

func TestPassesForgetAndForceAndErrors(t *testing.T) {
	f := newFakePasses(time.Second)
	since := f.clock()
	f.Request("cu", "n1", since, Options{}, true)
	expectStarted(t, f)
	f.finish(t, Result{Remaining: 1, Message: "1 pod terminating"})
	f.advance(time.Second)
	last := f.Request("cu", "n1", since, Options{}, false)
	if last == nil || !last.Force || last.Message != "forced 1 pod terminating" {
		t.Fatalf("outcome %+v, want the ForceDelete pass", last)
	}
	expectStarted(t, f)
	if !f.finish(t, Result{Message: "unlistable"}) {
		t.Fatal("a pass that could not list the pods did not wake its owner")
	}
	f.advance(time.Second)
	last = f.Request("cu", "n1", since, Options{}, false)
	if last == nil || last.Err == nil || last.Drained() {
		t.Fatalf("outcome %+v, want the pass that could not list pods, not drained", last)
	}
	expectStarted(t, f)
	f.finish(t, Result{})

	// Forgotten, the node starts afresh: no outcome, a pass at once.
	f.Forget("n1")
	if last := f.Request("cu", "n1", since, Options{}, false); last != nil {
		t.Fatalf("after Forget: outcome %+v, want none", last)
	}
	expectStarted(t, f)
	f.finish(t, Result{})
}

func TestPassesOverDifferentNodesRunTogether(t *testing.T) {
	f := newFakePasses(time.Second)
	since := f.clock()
	f.Request("cu", "n1", since, Options{}, false)
	f.Request("cu", "n2", since, Options{}, false)
	got := map[string]bool{}
	for range 2 {
		select {
		case n := <-f.started:
			got[n] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("passes began over %v, want n1 and n2 together", got)
		}
	}
	f.finish(t, Result{})
	f.finish(t, Result{})
}

func TestPassesLookAtOnceWhenAWatchedPodChanges(t *testing.T) {
	f := newFakePasses(5 * time.Second)
	since := f.clock()
	f.Request("cu", "n1", since, Options{}, false)
	expectStarted(t, f)
	np := f.nodes["n1"]

	// A pod changes while the pass runs: the look waits for the pass's end,
	// and several changes make one look.
	f.changed("n1", np)
	f.changed("n1", np)
	if f.finish(t, Result{Remaining: 2, Message: "2 pods terminating"}) {
		t.Fatal("a pass that left pods behind woke its owner")
	}
	expectBegun(t, f, "look n1")
	if f.finish(t, Result{Remaining: 1}) {
		t.Fatal("a look that found pods left woke its owner")
	}
	expectNoneStarted(t, f)
	// The look that found pods left is not the outcome: the pass's message stays.
	if last := f.Request("cu", "n1", since, Options{}, false); last == nil || last.Message != "2 pods terminating" {
		t.Fatalf("outcome %+v, want the eviction pass's", last)
	}
	expectNoneStarted(t, f) // within the interval

	// The last pod goes: the look runs at once, without a Request and
	// within the interval, and wakes the owner.
	f.advance(time.Second)
	f.changed("n1", np)
	expectBegun(t, f, "look n1")
	if !f.finish(t, Result{}) {
		t.Fatal("the look that found the node drained did not wake its owner")
	}
	if last := f.Request("cu", "n1", since, Options{}, false); !last.Drained() {
		t.Fatalf("outcome %+v, want drained", last)
	}

	// Once forgotten, a change looks at nothing.
	f.Forget("n1")
	f.changed("n1", np)
	expectNoneStarted(t, f)
}

func TestPassesForgetNodesNoOneAsksAbout(t *testing.T) {
	f := newFakePasses(time.Second)
	since := f.clock()
	f.Request("cu", "n1", since, Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{Remaining: 1})

	f.advance(f.idleAfter())
	f.forgetIdle()
	if last := f.Request("cu", "n1", since, Options{}, false); last == nil {
		t.Fatal("a node asked about within idleAfter was forgotten")
	}
	expectStarted(t, f)
	f.finish(t, Result{Remaining: 1})

	f.advance(f.idleAfter() + time.Second)
	f.forgetIdle()
	if last := f.Request("cu", "n1", since, Options{}, false); last != nil {
		t.Fatalf("outcome %+v of a node no one asked about for longer than idleAfter", last)
	}
	expectStarted(t, f)
	f.finish(t, Result{})
}

// A reconcile may still call Request while the manager stops; once Start
// has returned nothing may begin, above all no watch, which nothing would
// stop.
func TestPassesStartNothingOnceStopped(t *testing.T) {
	c := fake.NewClientset()
	p := &Passes{Drainer: &Drainer{Client: c}, Interval: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Start(ctx) }()
	since := time.Now()
	p.Request("cu", "n1", since, Options{}, false)
	watches := func() (n int) {
		for _, a := range c.Actions() {
			if a.GetVerb() == "watch" {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for watches() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if watches() != 1 {
		t.Fatalf("%d watches after the first Request, want 1", watches())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.ClearActions()
	if last := p.Request("cu", "n2", since, Options{}, false); last != nil {
		t.Fatalf("outcome %+v after Start returned", last)
	}
	time.Sleep(200 * time.Millisecond)
	if got := c.Actions(); len(got) != 0 {
		t.Fatalf("a Request after Start returned made %d requests (first %s %s), want none",
			len(got), got[0].GetVerb(), got[0].GetResource().Resource)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.nodes) != 0 {
		t.Fatalf("%d nodes kept after Start returned, want none", len(p.nodes))
	}
}

// The manager stopping (its pod evicted, SIGTERM) must not cut an eviction
// short: the API server charges the PodDisruptionBudget before it deletes
// the pod, so an eviction aborted in between leaves the budget charged for
// a pod that stays, and blocks it for the disruption controller's 2
// minutes. Seen in the real-node tier: the manager evicted from its own
// node while evicting six pods. Start returns only once the passes running
// have ended.
func TestPassesStartWaitsForThePassesRunning(t *testing.T) {
	f := newFakePasses(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Start(ctx) }()
	f.Request("cu", "n1", f.clock(), Options{}, false)
	expectStarted(t, f)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Start returned (%v) while a pass was still evicting", err)
	case <-time.After(200 * time.Millisecond):
	}
	f.release <- Result{Message: "1 pod left"}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return once the pass ended")
	}
}

func TestPassesGatherTheOwnersOfEveryPassOfADrain(t *testing.T) {
	f := newFakePasses(time.Second)
	since := f.clock()
	f.Request("cu", "n1", since, Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{Remaining: 2, Owners: []string{"ReplicaSet/a/web"}})
	f.advance(time.Second)
	f.Request("cu", "n1", since, Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{Owners: []string{"StatefulSet/a/db", "ReplicaSet/a/web"}})
	last := f.Request("cu", "n1", since, Options{}, false)
	if want := []string{"ReplicaSet/a/web", "StatefulSet/a/db"}; !slices.Equal(last.Owners, want) {
		t.Fatalf("owners %v, want %v (every pass's, once each)", last.Owners, want)
	}
	// A new drain of the node (after Forget) starts with none.
	f.Forget("n1")
	f.advance(time.Minute)
	f.Request("cu", "n1", f.clock(), Options{}, false)
	expectStarted(t, f)
	f.finish(t, Result{})
	if last := f.Request("cu", "n1", since, Options{}, false); len(last.Owners) != 0 {
		t.Fatalf("owners %v of a forgotten drain were kept", last.Owners)
	}
}
