package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/nodewave/nodewave/internal/controlplane"
)

// What the kubeadm tier measures while nodewave upgrades the whole cluster:
// the API server's answers through the rig's load balancer (apiProbe) and
// etcd's quorum seen from this host (etcdProbe); test/wavewatch records the
// waves.

// apiProbe asks the API server, through the load balancer every client
// uses, GET /readyz once a second, and remembers every answer.
type apiProbe struct {
	mu      sync.Mutex
	samples []probeSample
	stop    context.CancelFunc
	done    chan struct{}
}

// probeSample is one probe: when it was sent and whether it succeeded.
type probeSample struct {
	at time.Time
	ok bool
}

func startAPIProbe(ctx context.Context) *apiProbe {
	p := &apiProbe{done: make(chan struct{})}
	ctx, p.stop = context.WithCancel(ctx)
	go func() {
		defer GinkgoRecover()
		defer close(p.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			at := time.Now()
			probe, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := clientset.Discovery().RESTClient().Get().AbsPath("/readyz").Do(probe).Error()
			cancel()
			if ctx.Err() != nil {
				return
			}
			p.mu.Lock()
			p.samples = append(p.samples, probeSample{at: at, ok: err == nil})
			p.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// finish stops the probe and waits for it.
func (p *apiProbe) finish() {
	p.stop()
	<-p.done
}

// gaps reports, over the probes sent in [from, to): how many there were,
// how many failed, and the longest unavailability: the time from the last
// success before a run of failures to the first success after it.
func (p *apiProbe) gaps(from, to time.Time) (probes, failed int, longest time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lastOK time.Time
	inGap := false
	for _, s := range p.samples {
		if s.at.Before(from) || !s.at.Before(to) {
			if s.ok && s.at.Before(from) {
				lastOK = s.at
			}
			continue
		}
		probes++
		switch {
		case !s.ok:
			failed++
			inGap = true
		case inGap:
			longest = max(longest, s.at.Sub(lastOK))
			inGap = false
			lastOK = s.at
		default:
			lastOK = s.at
		}
	}
	if inGap {
		longest = max(longest, to.Sub(lastOK))
	}
	return probes, failed, longest
}

// etcdProbe runs etcdctl's endpoint health and status with --cluster from
// this host against the control-plane machines' etcd members every few
// seconds (hack/kubeadm.sh etcdctl: not through the API server, which a
// probe must not depend on), and judges each answer with the controller's
// own EtcdQuorum.
type etcdProbe struct {
	mu sync.Mutex
	// samples counts the judgments; full those with every member healthy
	// and one leader; lost those without quorum: fewer than a majority of
	// the members healthy (etcdctl's endpoint health is a linearizable
	// read, which only a quorum with a leader answers); unreadable those
	// etcdctl could not answer at all. minHealthy is the fewest healthy
	// members seen; leaders counts the changes of the agreed leader.
	samples, full, lost, unreadable, minHealthy, leaders int
	leader                                               uint64
	problems                                             []string
	stop                                                 context.CancelFunc
	done                                                 chan struct{}
}

func startEtcdProbe(ctx context.Context, members int) *etcdProbe {
	p := &etcdProbe{done: make(chan struct{}), minHealthy: members}
	ctx, p.stop = context.WithCancel(ctx)
	go func() {
		defer GinkgoRecover()
		defer close(p.done)
		for {
			p.sample(ctx, members)
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}()
	return p
}

// etcdctl runs hack/kubeadm.sh etcdctl with args and returns its output,
// whatever its exit: etcdctl exits non-zero when a member is down, and
// still prints what it found.
func etcdctl(ctx context.Context, args ...string) []byte {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "hack/kubeadm.sh", append([]string{"etcdctl", "--command-timeout=3s"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), kubeadmEnv...)
	out, _ := cmd.Output()
	return out
}

// sample judges etcd once.
func (p *etcdProbe) sample(ctx context.Context, members int) {
	health, herr := controlplane.ParseEtcdHealth(etcdctl(ctx, controlplane.EtcdHealthArgs()...))
	status, serr := controlplane.ParseEtcdStatus(etcdctl(ctx, controlplane.EtcdStatusArgs()...))
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().Format(time.TimeOnly)
	if herr != nil || serr != nil {
		p.unreadable++
		p.problems = append(p.problems, fmt.Sprintf("%s unreadable: %v %v", now, herr, serr))
		return
	}
	report, err := controlplane.EtcdQuorum(health, status, members)
	p.samples++
	p.minHealthy = min(p.minHealthy, report.Healthy)
	if report.Leader != 0 && report.Leader != p.leader {
		if p.leader != 0 {
			p.leaders++
		}
		p.leader = report.Leader
	}
	switch {
	case err == nil:
		p.full++
	case report.Healthy <= members/2:
		p.lost++
		p.problems = append(p.problems, fmt.Sprintf("%s quorum lost: %v", now, err))
	default:
		p.problems = append(p.problems, fmt.Sprintf("%s quorum kept (%d of %d healthy): %v", now, report.Healthy, members, err))
	}
}

// finish stops the probe and waits for it.
func (p *etcdProbe) finish() {
	p.stop()
	<-p.done
}
