package drain

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// Passes runs the drain passes of draining nodes in the background, at most
// one at a time per node, so that a reconcile never waits for evictions: it
// asks for a pass and reads the newest one that has finished. With a hundred
// nodes draining at once and evictions that each wait on a
// PodDisruptionBudget's optimistic lock, waiting for every node's pass made
// one reconcile last minutes, and a node whose kubelet was ready waited that
// long for its next step.
//
// Each draining node's pods are watched (one LIST and one WATCH for the
// whole drain; see nodePods), and the passes read them from that watch.
// When a watched pod is deleted or finishes, Passes looks at the node without evicting
// anything, so that a node is seen drained as soon as its last pod is gone,
// not at the next poll.
//
// An outcome is kept only to be read by the next reconcile. Whether a node
// is drained is always decided by a pass that began after the node's drain
// began, over pods listed or watched since, so a restart (which forgets
// everything) just runs a new pass.
//
// Passes is a manager Runnable: Start stops the watches of nodes no
// reconcile has asked about for a while (their ClusterUpgrade was deleted
// or paused mid-drain), and all of them when the manager stops.
type Passes struct {
	// Drainer runs the passes.
	Drainer *Drainer
	// Interval is the least time between the end of one pass over a node
	// and the start of the next one a Request starts (the drain poll
	// interval). Looks after a pod changed do not wait for it.
	Interval time.Duration
	// Timeout bounds one pass; default 2 minutes.
	Timeout time.Duration
	// Finished, when set, is called from the pass's goroutine when a pass
	// finds its node drained or cannot list its pods, with the owner given
	// to Request, so that the owner is looked at again at once. A pass that
	// leaves pods behind wakes no one: at 1,000 nodes, with a hundred
	// draining, waking the owner after every pass meant several reconciles
	// a second only to update a message.
	Finished func(owner string)

	// Now is the time source (the reconciler's clock); default time.Now.
	Now func() time.Time

	// run replaces the Drainer in tests (and then no pods are watched);
	// ended, when set, is called at the end of every pass.
	run   func(ctx context.Context, node string, opts Options, mode passMode) (Result, error)
	ended func()

	// inFlight counts the passes running, which Start waits for once it
	// has cancelled them through stop (see stopContext).
	inFlight sync.WaitGroup
	stop     context.Context
	cancel   context.CancelFunc

	mu    sync.Mutex
	nodes map[string]*nodePasses
	// stopped: Start has returned. A reconcile still running while the
	// manager stops may yet call Request; it must not start a watch that
	// nothing would stop (a test's kube-apiserver then waits for it).
	stopped bool
}

// Outcome is what one finished pass saw and did. Its Owners are those of
// every pass of the node's drain so far, not of this pass alone.
type Outcome struct {
	Result
	// Err is set when the pass could not list the node's pods.
	Err error
	// Force is true for a ForceDelete pass.
	Force bool
	// Started and Finished time the pass.
	Started, Finished time.Time
}

// Drained reports whether the pass found nothing left to leave the node.
func (o *Outcome) Drained() bool { return o != nil && o.Err == nil && o.Result.Drained() }

type nodePasses struct {
	running bool
	// again: a watched pod changed while a pass ran; look once it ends.
	again bool
	last  *Outcome // the newest finished pass, or look that found the node drained
	// owners are the workloads of the pods every pass of this drain
	// evicted or found terminating (see Outcome.Owners).
	owners map[string]bool
	// What the newest Request asked for, which looks use too, and when.
	owner     string
	opts      Options
	force     bool
	requested time.Time
	pods      *nodePods // nil in tests without a Drainer
}

// Request returns the newest finished pass over node that started at or
// after since (nil when there is none yet), and starts another pass unless
// one is running or the last one finished less than Interval ago. force asks
// for a ForceDelete pass instead of an eviction pass. The first Request
// for a node starts watching its pods.
func (p *Passes) Request(owner, node string, since time.Time, opts Options, force bool) (last *Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil
	}
	if p.nodes == nil {
		p.nodes = map[string]*nodePasses{}
	}
	now := p.clock()
	np := p.nodes[node]
	if np == nil {
		np = &nodePasses{}
		p.nodes[node] = np
		if p.run == nil {
			np.pods = watchNodePods(p.Drainer.Client, node, func() { p.changed(node, np) })
		}
	}
	np.owner, np.opts, np.force, np.requested = owner, opts, force, now
	if np.last != nil && !np.last.Started.Before(since) {
		last = np.last
	}
	if np.running || (np.last != nil && now.Sub(np.last.Finished) < p.Interval) {
		return last
	}
	mode := evictPods
	if force {
		mode = deletePods
	}
	np.running = true
	p.inFlight.Add(1)
	go p.pass(node, np, mode, now)
	return last
}

// changed looks at node once one of its watched pods changed: now, or
// when the running pass ends.
func (p *Passes) changed(node string, np *nodePasses) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes[node] != np {
		return // forgotten
	}
	if np.running {
		np.again = true
		return
	}
	np.running = true
	p.inFlight.Add(1)
	go p.pass(node, np, lookOnly, p.clock())
}

// Forget drops what is known about node's passes and stops watching its
// pods, once it is no longer draining. A pass still running finishes, and
// its outcome is dropped.
func (p *Passes) Forget(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forget(node)
}

func (p *Passes) forget(node string) {
	if np := p.nodes[node]; np != nil && np.pods != nil {
		np.pods.stop()
	}
	delete(p.nodes, node)
}

// idleAfter is how long a node's passes and watch are kept without a
// Request; reconciles ask every poll interval while the node drains.
func (p *Passes) idleAfter() time.Duration { return max(10*p.Interval, time.Minute) }

// Start forgets, every Interval, the nodes no Request asked about for
// idleAfter, and every node when ctx ends; Requests after that start
// nothing.
func (p *Passes) Start(ctx context.Context) error {
	tick := time.NewTicker(max(p.Interval, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.stopped = true
			for node := range p.nodes {
				p.forget(node)
			}
			p.stopContext()
			p.cancel()
			p.mu.Unlock()
			// The passes running stop at once, but an eviction already
			// sent is let finish (Drainer.evict), and Start waits for it:
			// the API server charges a PodDisruptionBudget before it
			// deletes the pod, so an eviction cut short by the process
			// exiting can leave the budget charged for a pod that stays,
			// blocking it for the disruption controller's 2 minutes.
			p.inFlight.Wait()
			return nil
		case <-tick.C:
			p.forgetIdle()
		}
	}
}

func (p *Passes) forgetIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	for node, np := range p.nodes {
		if !np.running && now.Sub(np.requested) > p.idleAfter() {
			p.forget(node)
		}
	}
}

func (p *Passes) pass(node string, np *nodePasses, mode passMode, started time.Time) {
	defer p.inFlight.Done()
	for {
		out := p.runOne(node, np, mode, started)
		p.mu.Lock()
		current := p.nodes[node] == np
		np.running = false
		if np.owners == nil {
			np.owners = map[string]bool{}
		}
		for _, o := range out.Owners {
			np.owners[o] = true
		}
		out.Owners = slices.Sorted(maps.Keys(np.owners))
		// A look that finds pods left is not kept: it has no Message, and
		// it evicted nothing.
		if mode != lookOnly || out.Drained() {
			np.last = out
		}
		wake := current && (out.Drained() || (mode != lookOnly && out.Err != nil))
		again, owner := np.again && current, np.owner
		np.again = false
		if again {
			np.running, mode, started = true, lookOnly, p.clock()
		}
		p.mu.Unlock()
		if p.Finished != nil && wake {
			p.Finished(owner)
		}
		if p.ended != nil {
			p.ended()
		}
		if !again {
			return
		}
	}
}

// runOne runs one pass (or look) with what the newest Request asked for.
func (p *Passes) runOne(node string, np *nodePasses, mode passMode, started time.Time) *Outcome {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	p.mu.Lock()
	opts, pods, stop := np.opts, np.pods, p.stopContext()
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(stop, timeout)
	defer cancel()
	var res Result
	var err error
	if p.run != nil {
		res, err = p.run(ctx, node, opts, mode)
	} else {
		res, err = p.Drainer.pass(ctx, node, opts, mode, pods)
	}
	return &Outcome{Result: res, Err: err, Force: mode == deletePods, Started: started, Finished: p.clock()}
}

// stopContext is cancelled when Start's context ends; p.mu is held.
func (p *Passes) stopContext() context.Context {
	if p.stop == nil {
		p.stop, p.cancel = context.WithCancel(context.Background())
	}
	return p.stop
}

func (p *Passes) clock() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
