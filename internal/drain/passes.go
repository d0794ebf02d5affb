package drain

import (
	"context"
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
// An outcome is kept only to be read by the next reconcile. Whether a node
// is drained is always decided by a pass that began after the node's drain
// began and listed its pods live, so a restart (which forgets everything)
// just runs a new pass.
type Passes struct {
	// Drainer runs the passes.
	Drainer *Drainer
	// Interval is the least time between the end of one pass over a node
	// and the start of the next (the drain poll interval).
	Interval time.Duration
	// Timeout bounds one pass; default 2 minutes.
	Timeout time.Duration
	// Finished, when set, is called from the pass's goroutine when a pass
	// finds its node drained or cannot list its pods, with the owner given
	// to Request, so that the owner is looked at again at once. A pass that
	// leaves pods behind wakes no one: at 1,000 nodes, with a hundred
	// draining, waking the owner after every pass meant several reconciles
	// a second, each copying every selected Node out of the cache, only to
	// update a message.
	Finished func(owner string)

	// Now is the time source (the reconciler's clock); default time.Now.
	Now func() time.Time

	// run replaces the Drainer in tests; ended, when set, is called at the
	// end of every pass.
	run   func(ctx context.Context, node string, opts Options, force bool) (Result, error)
	ended func()

	mu    sync.Mutex
	nodes map[string]*nodePasses
}

// Outcome is what one finished pass saw and did.
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
	last    *Outcome // the newest finished pass
}

// Request returns the newest finished pass over node that started at or
// after since (nil when there is none yet), and starts another pass unless
// one is running or the last one finished less than Interval ago. force asks
// for a ForceDelete pass instead of an eviction pass.
func (p *Passes) Request(owner, node string, since time.Time, opts Options, force bool) (last *Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes == nil {
		p.nodes = map[string]*nodePasses{}
	}
	np := p.nodes[node]
	if np == nil {
		np = &nodePasses{}
		p.nodes[node] = np
	}
	if np.last != nil && !np.last.Started.Before(since) {
		last = np.last
	}
	now := p.clock()
	if np.running || (np.last != nil && now.Sub(np.last.Finished) < p.Interval) {
		return last
	}
	np.running = true
	go p.pass(owner, node, np, opts, force, now)
	return last
}

// Forget drops what is known about node's passes, once it is no longer
// draining. A pass still running finishes, and its outcome is dropped.
func (p *Passes) Forget(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.nodes, node)
}

func (p *Passes) pass(owner, node string, np *nodePasses, opts Options, force bool, started time.Time) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	run := p.run
	if run == nil {
		run = p.drainer
	}
	res, err := run(ctx, node, opts, force)
	out := &Outcome{Result: res, Err: err, Force: force, Started: started, Finished: p.clock()}
	p.mu.Lock()
	np.running, np.last = false, out
	p.mu.Unlock()
	if p.Finished != nil && (out.Drained() || out.Err != nil) {
		p.Finished(owner)
	}
	if p.ended != nil {
		p.ended()
	}
}

func (p *Passes) drainer(ctx context.Context, node string, opts Options, force bool) (Result, error) {
	if force {
		return p.Drainer.ForceDelete(ctx, node, opts)
	}
	return p.Drainer.Drain(ctx, node, opts)
}

func (p *Passes) clock() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
