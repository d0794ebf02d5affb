package drain

import (
	"net/http"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// countingTransport counts the requests that read every namespace's pods:
// the LISTs and WATCHes of a node's pods.
type countingTransport struct {
	next      http.RoundTripper
	podsReads atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Path == "/api/v1/pods" {
		c.podsReads.Add(1)
	}
	return c.next.RoundTrip(req)
}

var _ = Describe("Passes against kube-apiserver", func() {
	It("reads a draining node's pods from one watch, and sees the node drained as soon as its last pod goes", func(ctx SpecContext) {
		ns, node := namespace(ctx)
		makePod(ctx, ns, "a", node)
		makePod(ctx, ns, "b", node)
		counter := &countingTransport{}
		cfg := rest.CopyConfig(env.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
		cs, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())

		woken := make(chan string, 10)
		p := &Passes{Drainer: &Drainer{Client: cs}, Interval: 100 * time.Millisecond,
			Finished: func(owner string) { woken <- owner }}
		go func() { defer GinkgoRecover(); Expect(p.Start(ctx)).To(Succeed()) }()
		since := time.Now()

		// The first pass evicts both; with no kubelet they stay terminating.
		Eventually(func() *Outcome { return p.Request("cu", node, since, Options{}, false) }).
			Should(HaveField("Result", Equal(Result{Remaining: 2, Evicted: 2, Message: "2 pods terminating"})))
		Expect(terminating(ctx, ns, "a")).To(BeTrue())
		reads := counter.podsReads.Load()
		Expect(reads).To(BeNumerically("<=", 2), "one LIST and one WATCH (or one streaming WATCH)")

		// Passes every interval for a second: more passes, no more reads.
		var passes int
		var last *Outcome
		for range 10 {
			if o := p.Request("cu", node, since, Options{}, false); o != nil && o != last {
				passes++
				last = o
			}
			time.Sleep(100 * time.Millisecond)
		}
		Expect(passes).To(BeNumerically(">=", 3))
		Expect(last.Result).To(Equal(Result{Remaining: 2, Message: "2 pods terminating"}))
		Expect(counter.podsReads.Load()).To(Equal(reads), "the passes read the watched pods")
		Expect(woken).NotTo(Receive(), "pods left: no one is woken")

		// The kubelet lets them go: the owner is woken with no Request, and
		// the newest outcome is drained.
		terminate(ctx, ns)
		Eventually(woken).Should(Receive(Equal("cu")))
		Expect(p.Request("cu", node, since, Options{}, false).Drained()).To(BeTrue())
		Expect(counter.podsReads.Load()).To(Equal(reads))

		// Forgotten, the watch stops; a new drain lists again.
		p.Forget(node)
		makePod(ctx, ns, "c", node)
		since = time.Now()
		Eventually(func() *Outcome { return p.Request("cu", node, since, Options{}, false) }).
			Should(HaveField("Result.Evicted", 1))
		Expect(counter.podsReads.Load()).To(BeNumerically(">", reads))
	})
})
