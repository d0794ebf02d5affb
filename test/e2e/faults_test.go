package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/test/nodeagent"
)

// The fault scenarios. Each runs with the invariant monitor on and records
// its rows of docs/reliability.md once its assertions passed.

// leaseName is the manager's leader election Lease (cmd/main.go).
const leaseName = "nodewave.upgrade.nodewave.io"

// crashLoop SIGKILLs the manager at random 2-10 s intervals through two
// overlapping Job-mode ClusterUpgrades and an edit of one's selector
// mid-flight (issue 12):
//
//   - the older, e2e-crash-loop, takes groups a, b and e to v1.36.6,
//     Concurrent 30% (9 of its 30 nodes at once);
//   - the newer, e2e-crash-loop-newer, created a second later, takes groups
//     c and d to v1.36.7, Concurrent 30% (6 of 20). They share no node, so
//     both run;
//   - once the older has group-a nodes in flight and pending, and the newer
//     has upgraded a group-d node and has another in flight, the older's
//     selector becomes groups b, d and e. Group a leaves it: its nodes in
//     flight are carried to the end and count against its budget until
//     then; its pending ones are never started. Group d is now shared: the
//     newer starts nothing while the older is unfinished (Stalled,
//     Conflict) but finishes its nodes in flight, which the older waits
//     for and never takes; the older skips the group-d nodes the newer
//     upgraded (it never downgrades) and takes the others to v1.36.6, and
//     the newer then takes those to v1.36.7.
//
// Plan order is zone by zone (worker i is in zone i mod 3), then by name:
// the older starts 000 003 006 009 012 015 018 042 045, the newer 021 024
// 027 030 033 036. Two group-a nodes of the older's first wave and one
// group-d node of the newer's take 90 s to upgrade, so the moment to edit
// comes while they are in flight, and they stay in flight a while after.
func crashLoop(ctx SpecContext) {
	slow := []string{"worker-006", "worker-009", "worker-036"}
	for _, n := range slow {
		agent.Set(n, nodeagent.Behaviour{Delay: 90 * time.Second})
	}
	DeferCleanup(func() {
		for _, n := range slow {
			agent.Set(n, nodeagent.Behaviour{})
		}
	})
	before := kubeletVersions(ctx)

	// Each ClusterUpgrade is judged against its own budget and its starts
	// are counted apart; there is no scenario-wide selection.
	monitor.expect(labels.Nothing(), 0)
	olderCU := concurrently(clusterUpgrade(olderCrash, olderCrashTarget, groupsOf("a", "b", "e"), upgradev1alpha1.JobUpgrade), "30%")
	Expect(admin.Create(ctx, olderCU)).To(Succeed())
	// Newer by the API server's one-second creation timestamps.
	time.Sleep(time.Until(olderCU.CreationTimestamp.Add(1100 * time.Millisecond)))
	newerCU := concurrently(clusterUpgrade(newerCrash, newerCrashTarget, groupsOf("c", "d"), upgradev1alpha1.JobUpgrade), "30%")
	Expect(admin.Create(ctx, newerCU)).To(Succeed())
	Expect(olderCU.CreationTimestamp.Before(&newerCU.CreationTimestamp)).To(BeTrue())
	stopKilling := killLoop()

	e := editOlderMidFlight(ctx)

	By("waiting for both to finish, the older first")
	Eventually(func(g Gomega) {
		for _, name := range []string{olderCrash, newerCrash} {
			cu := getCU(ctx, g, name)
			g.Expect(cu.Status.Phase).To(Equal(upgradev1alpha1.PhaseSucceeded), "%s: status %+v", name, cu.Status)
			g.Expect(cu.Status.ObservedGeneration).To(Equal(cu.Generation), name)
			// The older sees the group-d nodes past its target once the
			// newer has taken them all.
			if name == olderCrash {
				g.Expect(cu.Status.SkippedNodes).To(BeEquivalentTo(10), "%s: status %+v", name, cu.Status)
			}
		}
	}).WithTimeout(15 * time.Minute).WithPolling(time.Second).Should(Succeed())
	kills := stopKilling()
	Expect(kills).To(BeNumerically(">=", 2), "the upgrades ended before the manager was killed twice")
	expectCounts(ctx, olderCrash, e.gen, 30, 20, 10)
	expectCounts(ctx, newerCrash, 1, 20, 20, 0)

	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())
	Expect(monitor.adminCordonsRecorded()).To(BeEmpty(), "an admin's cordon was recorded, but no node was cordoned by hand")
	starts := expectStartsAndJobs(e)
	w := expectNewerWaited(e)
	left := expectLeftCarried(e)
	expectWorkersAtTheirTargets(ctx, e, left, before)
	olderAt, newerAt := monitor.startsAt(olderCrash), monitor.startsAt(newerCrash)
	GinkgoWriter.Printf("at their starts: older %+v, newer %+v\n", olderAt, newerAt)

	By("deleting both ClusterUpgrades, the newer first: they leave nothing behind")
	finishScenario(ctx, getCU(ctx, Default, newerCrash))
	finishScenario(ctx, getCU(ctx, Default, olderCrash))
	for i := range workers {
		n := getNode(ctx, Default, fmt.Sprintf("worker-%03d", i))
		Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), n.Name)
		for k := range n.Annotations {
			Expect(k).NotTo(HavePrefix("upgrade.nodewave.io/"), n.Name)
		}
	}

	inv := standardInvariants + "; one start and one Job per node per ClusterUpgrade; one holder per node"
	record(faultRecord{
		Fault: "manager crash loop",
		Injected: "SIGKILL at random 2-10 s intervals, restarted at once, through two overlapping ClusterUpgrades and a selector edit (the next two rows); " +
			"50 nodes, Concurrent 30%, Job mode",
		Expected: "continue: each restart resumes from the nodes' labels",
		Observed: fmt.Sprintf("%d kills; %d node upgrades by the older and %d by the newer, each node started once and given one Job by each; "+
			"at their starts at most %d of the older's nodes out (budget %d) and %d of the newer's (budget %d)",
			kills, starts.older, starts.newer, olderAt.MaxUnavailable, olderAt.Budget, newerAt.MaxUnavailable, newerAt.Budget),
		Invariants: inv,
	})
	record(faultRecord{
		Fault: "two ClusterUpgrades over the same nodes",
		Injected: fmt.Sprintf("the older's selector widened over group d (10 nodes) while the newer (v1.36.7, created 1 s later) held %d of them in flight and had upgraded %d",
			len(e.sharedHeld), len(e.sharedDone)),
		Expected: "the newer starts nothing while the older is unfinished (Stalled, Conflict) but carries its nodes in flight to the end; " +
			"neither starts, gives a Job to or records as admin-cordoned a node the other holds; neither deadlocks; no node left cordoned",
		Observed: fmt.Sprintf("newer Stalled Conflict %.1f s after the edit, started nothing for %.0f s until the older Succeeded, finished %d of its nodes in flight meanwhile "+
			"(%d of them started after the edit by passes that had not seen it); the older never took the newer's nodes, skipped the %d it had upgraded (no downgrade) "+
			"and took %d others to v1.36.6, which the newer then took to v1.36.7; all 50 nodes schedulable, each at its last ClusterUpgrade's target",
			w.conflict.Seen.Sub(e.at).Seconds(), w.done.Seen.Sub(w.conflict.Seen).Seconds(), len(w.carried), len(w.raced), len(e.sharedDone), starts.olderInD),
		Invariants: inv,
	})
	record(faultRecord{
		Fault: "selector edited mid-flight",
		Injected: fmt.Sprintf("the older's spec.nodeSelector changed from groups a, b, e to b, d, e while %d group-a nodes were in flight and %d pending",
			len(e.leftInFlight), len(e.leftPending)),
		Expected: "the nodes in flight that left are carried to the end (upgraded, uncordoned), counting against its budget until then; the pending ones that left are never started",
		Observed: fmt.Sprintf("%d in flight carried to v1.36.6 and uncordoned, counted at its starts (up to %d at once); %d pending never started%s, left at their version",
			len(left.carried), olderAt.MaxHeldOutside, len(e.leftPending)-len(left.startedBeforeSeen), startedBeforeSeen(left.startedBeforeSeen)),
		Invariants: "budget per ClusterUpgrade over its selector's nodes and the nodes it holds (under any spec from the generation its status observed to the current one); " + inv,
	})
}

// The crash-loop scenario's two ClusterUpgrades.
const (
	olderCrash, olderCrashTarget = "e2e-crash-loop", "v1.36.6"
	newerCrash, newerCrashTarget = "e2e-crash-loop-newer", "v1.36.7"
)

// selectorEdit is the older's selector edit and what each ClusterUpgrade
// held at its very revision.
type selectorEdit struct {
	at  time.Time
	rv  uint64
	gen int64
	// Group a, leaving the older: in flight under it, not started by it,
	// upgraded by it.
	leftInFlight, leftPending, leftDone []string
	// Group d, now shared: in flight under the newer, upgraded by it.
	sharedHeld, sharedDone []string
}

// editOlderMidFlight waits until the older has group-a nodes in flight and
// pending and the newer has upgraded a group-d node and has another in
// flight, then moves the older's selector from groups a, b, e to b, d, e.
func editOlderMidFlight(ctx context.Context) selectorEdit {
	By("waiting until the older has group-a nodes in flight and pending, and the newer has upgraded a group-d node and has another in flight")
	Eventually(func(g Gomega) {
		nodes := &corev1.NodeList{}
		g.Expect(admin.List(ctx, nodes)).To(Succeed())
		g.Expect(inFlightUnder(nodes.Items, olderCrash, "a")).NotTo(BeEmpty(), "the older has no group-a node in flight")
		g.Expect(notStartedBy(nodes.Items, olderCrash, "a")).NotTo(BeEmpty(), "the older has no group-a node pending")
		g.Expect(upgradedUnder(nodes.Items, newerCrash, "d")).NotTo(BeEmpty(), "the newer has upgraded no group-d node")
		g.Expect(inFlightUnder(nodes.Items, newerCrash, "d")).NotTo(BeEmpty(), "the newer has no group-d node in flight")
	}).WithTimeout(4 * time.Minute).WithPolling(250 * time.Millisecond).Should(Succeed())

	By("editing the older's selector from groups a, b, e to b, d, e: group a leaves it, group d is shared with the newer")
	edited := getCU(ctx, Default, olderCrash)
	patch := client.MergeFrom(edited.DeepCopy())
	edited.Spec.NodeSelector = groupsOf("b", "d", "e")
	Expect(admin.Patch(ctx, edited, patch)).To(Succeed())
	e := selectorEdit{at: time.Now(), rv: rvOf(edited.ResourceVersion), gen: edited.Generation}
	atEdit := nodesAt(ctx, edited.ResourceVersion)
	e.leftInFlight, e.leftPending, e.leftDone = inFlightUnder(atEdit, olderCrash, "a"), notStartedBy(atEdit, olderCrash, "a"), upgradedUnder(atEdit, olderCrash, "a")
	e.sharedHeld, e.sharedDone = inFlightUnder(atEdit, newerCrash, "d"), upgradedUnder(atEdit, newerCrash, "d")
	GinkgoWriter.Printf("at the edit (revision %d): group a in flight %v, pending %v, upgraded %v; group d held by the newer %v, upgraded by it %v\n",
		e.rv, e.leftInFlight, e.leftPending, e.leftDone, e.sharedHeld, e.sharedDone)
	Expect(e.leftInFlight).NotTo(BeEmpty(), "no group-a node was in flight under the older at the edit")
	Expect(e.leftPending).NotTo(BeEmpty(), "no group-a node was pending at the edit")
	Expect(e.sharedHeld).NotTo(BeEmpty(), "the newer held no group-d node at the edit")
	return e
}

// expectCounts checks a finished ClusterUpgrade's status.
func expectCounts(ctx context.Context, name string, gen int64, total, upgraded, skipped int32) {
	cu := getCU(ctx, Default, name)
	Expect(cu.Generation).To(Equal(gen), name)
	st := cu.Status
	Expect([]int32{st.TotalNodes, st.UpgradedNodes, st.SkippedNodes, st.UpgradingNodes, st.PendingNodes, st.FailedNodes}).To(
		Equal([]int32{total, upgraded, skipped, 0, 0, 0}), "%s: total, upgraded, skipped, upgrading, pending, failed", name)
	Expect(meta.IsStatusConditionTrue(st.Conditions, upgradev1alpha1.ConditionReady)).To(BeTrue(), name)
	Expect(meta.FindStatusCondition(st.Conditions, upgradev1alpha1.ConditionStalled)).To(BeNil(), name)
}

// crashStarts counts the starts of the crash-loop scenario.
type crashStarts struct{ older, newer, olderInD int }

// expectStartsAndJobs checks that each ClusterUpgrade started each node at
// most once, with one Job, the older every node of groups b and e and the
// newer every node of groups c and d, and that the older never started a
// group-d node the newer held or had upgraded at the edit.
func expectStartsAndJobs(e selectorEdit) crashStarts {
	By("checking each ClusterUpgrade's starts and Jobs")
	startsOld, startsNew := monitor.startsBy(olderCrash), monitor.startsBy(newerCrash)
	for _, c := range []struct {
		cu           string
		starts, jobs map[string]int
	}{{olderCrash, startsOld, monitor.jobsBy(olderCrash)}, {newerCrash, startsNew, monitor.jobsBy(newerCrash)}} {
		for node, n := range c.starts {
			Expect(n).To(Equal(1), "%s started %s %d times", c.cu, node, n)
			Expect(c.jobs[node]).To(Equal(1), "%s gave %s %d upgrade Jobs", c.cu, node, c.jobs[node])
		}
		for node := range c.jobs {
			Expect(c.starts).To(HaveKey(node), "%s gave an upgrade Job to %s, which it did not start", c.cu, node)
		}
	}
	for _, n := range append(groupNodes("b"), groupNodes("e")...) {
		Expect(startsOld[n]).To(Equal(1), "%s was started %d times by the older", n, startsOld[n])
	}
	for _, n := range append(groupNodes("c"), groupNodes("d")...) {
		Expect(startsNew[n]).To(Equal(1), "%s was started %d times by the newer", n, startsNew[n])
	}
	for _, n := range append(slices.Clone(e.sharedHeld), e.sharedDone...) {
		Expect(startsOld).NotTo(HaveKey(n), "the older started %s, which the newer held or had taken past the older's target", n)
	}
	s := crashStarts{older: len(startsOld), newer: len(startsNew)}
	for _, n := range groupNodes("d") {
		s.olderInD += startsOld[n]
	}
	return s
}

// newerWaited is the newer's wait: when it was first seen Stalled Conflict
// and when the older was first seen Succeeded under the edited spec, the
// nodes it finished in between, and the ones it started after the edit
// before it saw it.
type newerWaited struct {
	conflict, done *cuVersion
	carried, raced []string
}

// expectNewerWaited checks that the newer started nothing from when it was
// Stalled Conflict until the older was done, and carried every node it had
// in flight to the end, some of them while it waited.
func expectNewerWaited(e selectorEdit) newerWaited {
	By("checking that the newer waited for the older, carrying its nodes in flight meanwhile")
	w := newerWaited{conflict: firstVersion(monitor.history(newerCrash), func(v cuVersion) bool {
		return v.RV > e.rv && v.Stalled == upgradev1alpha1.ReasonConflict
	})}
	Expect(w.conflict).NotTo(BeNil(), "the newer was never Stalled Conflict after the edit")
	Expect(w.conflict.StalledMessage).To(ContainSubstring(olderCrash))
	w.done = firstVersion(monitor.history(olderCrash), func(v cuVersion) bool {
		return v.RV > e.rv && v.ObservedGeneration == e.gen && v.Phase == upgradev1alpha1.PhaseSucceeded
	})
	Expect(w.done).NotTo(BeNil(), "the older's Succeeded was never seen")
	Expect(w.conflict.RV).To(BeNumerically("<", w.done.RV), "the newer's Conflict came after the older was done")
	var startedWaiting []string
	inFlightThen, finished := map[string]bool{}, map[string]bool{}
	for _, ev := range monitor.events() {
		Expect([]string{olderCrash, newerCrash}).To(ContainElement(ev.CU), "%s was started or finished by %q", ev.Node, ev.CU)
		switch {
		case ev.CU != newerCrash:
		case ev.Finish:
			finished[ev.Node] = true
			if ev.RV < w.conflict.RV {
				delete(inFlightThen, ev.Node)
			} else if ev.RV < w.done.RV {
				w.carried = append(w.carried, ev.Node)
			}
		case ev.RV < w.conflict.RV:
			inFlightThen[ev.Node] = true
			if ev.RV > e.rv {
				w.raced = append(w.raced, ev.Node) // by a pass that had not seen the edit
			}
		case ev.RV < w.done.RV:
			startedWaiting = append(startedWaiting, ev.Node)
		}
	}
	Expect(startedWaiting).To(BeEmpty(), "the newer started nodes while Stalled Conflict, before the older was done")
	for n := range inFlightThen {
		Expect(finished).To(HaveKey(n), "the newer did not carry %s, in flight when it began to wait, to the end", n)
	}
	Expect(w.carried).NotTo(BeEmpty(), "the newer finished none of its nodes in flight while it waited")
	return w
}

// leftCarried is what became of the group-a nodes that left the older.
type leftCarried struct {
	// carried: in flight at the edit, or started after it by a pass that
	// had not seen it; all finished by the older.
	carried, startedBeforeSeen []string
}

// expectLeftCarried checks that the older finished the group-a nodes it
// had in flight at the edit, counted a node it held outside its selector
// at one of its starts, and started a pending group-a node only in a pass
// that had not seen the edit (its status had not observed it yet).
func expectLeftCarried(e selectorEdit) leftCarried {
	By("checking that the group-a nodes in flight were carried to the end, counted against the older's budget, and the pending ones never started")
	history := monitor.history(olderCrash)
	observedAt := func(rv uint64) int64 {
		var gen int64
		for _, v := range history {
			if v.RV <= rv {
				gen = v.ObservedGeneration
			}
		}
		return gen
	}
	var l leftCarried
	finished := map[string]uint64{}
	for _, ev := range monitor.events() {
		switch {
		case ev.CU != olderCrash:
		case ev.Finish:
			finished[ev.Node] = ev.RV
		case slices.Contains(e.leftPending, ev.Node):
			Expect(observedAt(ev.RV)).To(BeNumerically("<", e.gen),
				"the older started %s, which had left its selector, after it had seen the edit", ev.Node)
			l.startedBeforeSeen = append(l.startedBeforeSeen, ev.Node)
		}
	}
	l.carried = append(slices.Clone(e.leftInFlight), l.startedBeforeSeen...)
	for _, n := range l.carried {
		Expect(finished[n]).To(BeNumerically(">", e.rv), "the older did not carry %s to the end after it left", n)
	}
	Expect(monitor.startsAt(olderCrash).MaxHeldOutside).To(BeNumerically(">=", 1),
		"no start of the older came while a node that left its selector was in flight: the budget check counted none")
	return l
}

// expectWorkersAtTheirTargets checks every worker: none cordoned, each at
// the version of the last ClusterUpgrade that took it (groups b and e the
// older's, c and d the newer's; group a the older's, but the pending nodes
// that left it untouched).
func expectWorkersAtTheirTargets(ctx context.Context, e selectorEdit, left leftCarried, before map[string]string) {
	By("checking every worker: none cordoned, each at the version its last ClusterUpgrade targets")
	for i := range workers {
		n := getNode(ctx, Default, fmt.Sprintf("worker-%03d", i))
		Expect(n.Spec.Unschedulable).To(BeFalse(), "%s is left cordoned", n.Name)
		want := olderCrashTarget
		switch n.Labels[groupLabel] {
		case "c", "d":
			want = newerCrashTarget
		case "a":
			if slices.Contains(e.leftPending, n.Name) && !slices.Contains(left.startedBeforeSeen, n.Name) {
				want = before[n.Name]
				Expect(n.Labels).NotTo(HaveKey(upgradev1alpha1.NodeStateLabel), n.Name)
				Expect(holder(n)).To(BeEmpty(), n.Name)
			} else {
				Expect(n.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)), n.Name)
			}
		}
		Expect(n.Status.NodeInfo.KubeletVersion).To(Equal(want), n.Name)
	}
	expectWorkloadsReady(ctx)
}

// startedBeforeSeen says how many nodes that left were started by a pass
// that had not seen the edit yet (then carried like the others).
func startedBeforeSeen(nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d more started by a pass that had not seen the edit, then carried)", len(nodes))
}

// killLoop SIGKILLs the manager at random 2-10 s intervals, restarting it
// at once, until the returned stop is called; stop waits for the loop to
// end, with the manager running, and returns how many kills there were.
func killLoop() (stop func() int) {
	rng := rand.New(rand.NewPCG(uint64(GinkgoRandomSeed()), 5))
	quit, done := make(chan struct{}), make(chan struct{})
	kills := 0
	goFault(done, func() {
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Duration(2000+rng.IntN(8000)) * time.Millisecond):
			}
			GinkgoWriter.Println("SIGKILLing the manager")
			manager.kill()
			manager.start()
			kills++
		}
	})
	var once sync.Once
	stop = func() int {
		once.Do(func() { close(quit) })
		Eventually(done).WithTimeout(time.Minute).Should(BeClosed())
		return kills
	}
	DeferCleanup(func() { stop() })
	return stop
}

// kubeletVersions is every worker's kubelet version, by name.
func kubeletVersions(ctx context.Context) map[string]string {
	out := map[string]string{}
	for i := range workers {
		n := getNode(ctx, Default, fmt.Sprintf("worker-%03d", i))
		out[n.Name] = n.Status.NodeInfo.KubeletVersion
	}
	return out
}

// nodesAt lists the nodes as they were at revision rv.
func nodesAt(ctx context.Context, rv string) []corev1.Node {
	list, err := clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: rv, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	Expect(err).NotTo(HaveOccurred())
	return list.Items
}

// groupNodes names the ten workers of a group (see labelGroups).
func groupNodes(group string) []string {
	i := int(group[0] - 'a')
	return nodeNames(10*i, 10*i+10)
}

// inFlightUnder names the nodes of a group that cu has in flight.
func inFlightUnder(nodes []corev1.Node, cu, group string) []string {
	return nodesWhere(nodes, group, func(n *corev1.Node) bool {
		return holder(n) == cu && inFlight(n.Labels[upgradev1alpha1.NodeStateLabel])
	})
}

// upgradedUnder names the nodes of a group that cu has upgraded.
func upgradedUnder(nodes []corev1.Node, cu, group string) []string {
	return nodesWhere(nodes, group, func(n *corev1.Node) bool {
		return holder(n) == cu && n.Labels[upgradev1alpha1.NodeStateLabel] == string(upgradev1alpha1.NodeUpgraded)
	})
}

// notStartedBy names the nodes of a group that cu has not started.
func notStartedBy(nodes []corev1.Node, cu, group string) []string {
	return nodesWhere(nodes, group, func(n *corev1.Node) bool { return holder(n) != cu })
}

func nodesWhere(nodes []corev1.Node, group string, match func(*corev1.Node) bool) []string {
	var out []string
	for i := range nodes {
		if nodes[i].Labels[groupLabel] == group && match(&nodes[i]) {
			out = append(out, nodes[i].Name)
		}
	}
	return out
}

// firstVersion is the first version seen that matches, or nil.
func firstVersion(history []cuVersion, match func(cuVersion) bool) *cuVersion {
	for i := range history {
		if match(history[i]) {
			return &history[i]
		}
	}
	return nil
}

// leaderFailover runs two manager replicas with leader election and
// SIGKILLs the leader mid-upgrade.
func leaderFailover(ctx SpecContext) {
	const name = "e2e-leader"
	By("replacing the single manager by two replicas with leader election")
	manager.stop()
	// Shorter than the defaults (15 s, 10 s, 2 s) to keep the suite quick;
	// the takeover bound below follows from them.
	const lease, renew, retry = 8 * time.Second, 5 * time.Second, time.Second
	electing := []string{"--leader-elect", "--leader-election-namespace", jobNamespace,
		"--leader-election-lease-duration", lease.String(), "--leader-election-renew-deadline", renew.String(),
		"--leader-election-retry-period", retry.String()}
	first := newManagerProcess("replica-a", managerKubeconfig, electing...)
	second := newManagerProcess("replica-b", managerKubeconfig, electing...)
	DeferCleanup(func() {
		first.stop()
		second.stop()
		manager.start()
	})
	first.start()
	leaderA := waitLeader(ctx, "")
	second.start()
	Consistently(func(g Gomega) { g.Expect(leaseHolder(ctx, g)).To(Equal(leaderA)) }).
		WithTimeout(3*time.Second).Should(Succeed(), "the second replica took the lease from a live leader")

	cu := concurrently(clusterUpgrade(name, "v1.36.7", selectorOf(groupLabel, "e"), upgradev1alpha1.JobUpgrade), "3")
	startUpgrade(ctx, cu, 3)
	Eventually(func(g Gomega) { g.Expect(getCU(ctx, g, name).Status.UpgradedNodes).To(BeNumerically(">=", 2)) }).Should(Succeed())

	By("SIGKILLing the leader")
	killed := time.Now()
	first.kill()
	waitLeader(ctx, leaderA)
	takeover := time.Since(killed)
	// The standby takes the lease once it has not seen it change for the
	// lease duration, measured from when it saw the leader's last renewal
	// (up to one jittered retry period, 1.2 x, after the kill), and tries
	// every jittered retry period: lease + 2 x 1.2 x retry, plus 2 s for the
	// API round trips.
	bound := lease + 2*retry*12/10 + 2*time.Second
	Expect(takeover).To(BeNumerically("<=", bound), "takeover took %s, more than %s", takeover, bound)

	expectUpgraded(ctx, name, nodeNames(40, 50), 3)
	record(faultRecord{
		Fault:    "leader killed",
		Injected: "two replicas with --leader-elect; SIGKILL of the leader after 2 nodes were upgraded; 10 nodes, Concurrent 3, Job mode",
		Expected: fmt.Sprintf("the standby takes the lease within the lease duration plus two retry periods (%s here) and continues", bound),
		Observed: fmt.Sprintf("lease moved to the standby in %.1f s (lease %s, renew %s, retry %s); 10/10 upgraded, each node started once and given one Job",
			takeover.Seconds(), lease, renew, retry),
		Invariants: standardInvariants + "; one start and one Job per node",
	})
}

// leaseHolder reads the leader election Lease's holder.
func leaseHolder(ctx context.Context, g Gomega) string {
	lease := &coordinationv1.Lease{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: jobNamespace, Name: leaseName}, lease)).To(Succeed())
	return ptr.Deref(lease.Spec.HolderIdentity, "")
}

// waitLeader waits for the Lease to be held by someone other than previous.
func waitLeader(ctx context.Context, previous string) string {
	var holder string
	Eventually(func(g Gomega) {
		holder = leaseHolder(ctx, g)
		g.Expect(holder).NotTo(BeEmpty())
		g.Expect(holder).NotTo(Equal(previous))
	}).WithPolling(200 * time.Millisecond).Should(Succeed())
	return holder
}

// controlPlaneRestart restarts one control-plane component mid-upgrade.
func controlPlaneRestart(component, target string) func(SpecContext) {
	return func(ctx SpecContext) {
		name := "e2e-restart-" + component
		cu := concurrently(clusterUpgrade(name, target, selectorOf(groupLabel, "d"), upgradev1alpha1.ExternalUpgrade), "3")
		startUpgrade(ctx, cu, 3)
		// Mid-upgrade, but not mid-eviction: see "Found on the way" in
		// docs/reliability.md for what a kill during an eviction did once.
		Eventually(func(g Gomega) {
			st := getCU(ctx, g, name).Status
			g.Expect(st.UpgradedNodes).To(BeNumerically(">=", 1))
			g.Expect(st.InProgress).NotTo(BeEmpty())
			for _, n := range st.InProgress {
				g.Expect(n.State).To(Equal(upgradev1alpha1.NodeUpgrading))
			}
		}).WithPolling(50 * time.Millisecond).Should(Succeed())

		By("restarting " + component + " mid-upgrade")
		killed := time.Now()
		restartComponent(component, 2*time.Second)
		back := waitAPIReady(ctx)
		expectUpgraded(ctx, name, nodeNames(30, 40), 3)
		expectComponentsRunning()
		record(faultRecord{
			Fault:      component + " restarted",
			Injected:   "SIGKILL of the " + component + " process mid-upgrade, started again 2 s later; 10 nodes, Concurrent 3, External mode",
			Expected:   "continue: the manager's requests fail meanwhile, its watches resume",
			Observed:   fmt.Sprintf("API answered again after %.1f s; 10/10 upgraded, each node started once", back.Sub(killed).Seconds()),
			Invariants: standardInvariants + "; one start per node",
		})
	}
}

// nodeFaults breaks six nodes of one Concurrent upgrade in six ways.
func nodeFaults(ctx SpecContext) {
	const name = "e2e-node-faults"
	// Group c in plan order: zone-a 021 024 027, zone-b 022 025 028,
	// zone-c 020 023 026 029. The first three start together.
	const (
		notReadyDraining  = "worker-021"
		notReadyUpgrading = "worker-024"
		notReadyUpgraded  = "worker-027"
		deleted           = "worker-022"
		neverUpgraded     = "worker-025"
		wrongVersion      = "worker-028"
	)
	By("holding the drain of " + notReadyDraining + " with a pod that terminates only when let go")
	hold := pinnedDeployment("e2e", "hold", notReadyDraining)
	ensureNamespace(ctx, "e2e")
	Expect(admin.Create(ctx, hold)).To(Succeed())
	holdPod := waitPodRunning(ctx, "e2e", "hold")
	setPodFrozen(ctx, holdPod, true)

	agent.Set(notReadyUpgrading, nodeagent.Behaviour{Delay: 6 * time.Second})
	agent.Set(deleted, nodeagent.Behaviour{Never: true})
	agent.Set(neverUpgraded, nodeagent.Behaviour{Never: true})
	agent.Set(wrongVersion, nodeagent.Behaviour{Report: "v1.36.4"})
	DeferCleanup(func() {
		for _, n := range []string{notReadyUpgrading, deleted, neverUpgraded, wrongVersion} {
			agent.Set(n, nodeagent.Behaviour{})
		}
	})

	cu := concurrently(clusterUpgrade(name, "v1.36.10", selectorOf(groupLabel, "c"), upgradev1alpha1.ExternalUpgrade), "3")
	cu.Spec.MaxFailedNodes = 2
	cu.Spec.Upgrade.Timeout = &metav1.Duration{Duration: 25 * time.Second}
	startUpgrade(ctx, cu, 3)

	var faults []chan struct{}
	fault := func(fn func()) {
		done := make(chan struct{})
		faults = append(faults, done)
		goFault(done, fn)
	}
	fault(func() {
		waitNodeState(ctx, notReadyDraining, upgradev1alpha1.NodeDraining)
		setNodeReady(ctx, notReadyDraining, false)
		time.Sleep(5 * time.Second)
		Expect(nodeState(ctx, notReadyDraining)).To(Equal(string(upgradev1alpha1.NodeDraining)))
		setNodeReady(ctx, notReadyDraining, true)
		setPodFrozen(ctx, holdPod, false)
	})
	fault(func() {
		waitNodeState(ctx, notReadyUpgrading, upgradev1alpha1.NodeUpgrading)
		setNodeReady(ctx, notReadyUpgrading, false)
		Eventually(func(g Gomega) {
			g.Expect(getNode(ctx, g, notReadyUpgrading).Status.NodeInfo.KubeletVersion).To(Equal("v1.36.10"))
		}).Should(Succeed())
		time.Sleep(3 * time.Second)
		Expect(nodeState(ctx, notReadyUpgrading)).To(Equal(string(upgradev1alpha1.NodeUpgrading)),
			"a node at the target but NotReady went on to verify")
		setNodeReady(ctx, notReadyUpgrading, true)
	})
	fault(func() {
		waitNodeState(ctx, notReadyUpgraded, upgradev1alpha1.NodeUpgraded)
		// The pass that finished the node may start the next one in the
		// slot it freed: a NotReady written between that pass's uncordon
		// and its cordon is one nodewave could not have seen (seen once:
		// worker-022 cordoned in the second worker-027 was upgraded, the
		// monitor counting 4 of budget 3). The pass ends within
		// milliseconds; 2 s later the slot is taken.
		time.Sleep(2 * time.Second)
		setNodeReady(ctx, notReadyUpgraded, false)
		time.Sleep(8 * time.Second)
		setNodeReady(ctx, notReadyUpgraded, true)
	})
	fault(func() {
		waitNodeState(ctx, deleted, upgradev1alpha1.NodeUpgrading)
		deleteAndWait(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: deleted}})
	})
	for _, done := range faults {
		Eventually(done).WithTimeout(4 * time.Minute).Should(BeClosed())
	}

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	stalled := meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)
	Expect(stalled).NotTo(BeNil())
	Expect(stalled.Reason).To(Equal(upgradev1alpha1.ReasonNodesFailed))
	Expect(got.Status.TotalNodes).To(BeEquivalentTo(9), "the deleted node left the upgrade")
	Expect(got.Status.UpgradedNodes).To(BeEquivalentTo(7))
	Expect(got.Status.FailedNodes).To(BeEquivalentTo(2))
	Expect(got.Status.PendingNodes + got.Status.UpgradingNodes).To(BeZero())
	Expect(got.Status.Failed).To(ConsistOf(
		And(HaveField("Name", neverUpgraded), HaveField("Reason", "UpgradeTimeout")),
		And(HaveField("Name", wrongVersion), HaveField("Reason", "UpgradeTimeout"), HaveField("Message", ContainSubstring("v1.36.4"))),
	))
	violations, maxSeen, starts := monitor.report()
	Expect(violations).To(BeEmpty())
	// The node that goes NotReady after its upgrade may take the pool to 4
	// on its own; nodewave then starts nothing (a violation otherwise).
	Expect(maxSeen).To(BeNumerically("<=", 3))
	excursions, peak := monitor.overBudget()
	Expect(peak).To(BeNumerically("<=", 4))
	for _, n := range []string{"worker-020", notReadyDraining, deleted, "worker-023", notReadyUpgrading, neverUpgraded,
		"worker-026", notReadyUpgraded, wrongVersion, "worker-029"} {
		Expect(starts[n]).To(Equal(1), "%s was started %d times", n, starts[n])
	}
	for _, n := range []string{notReadyDraining, notReadyUpgrading, notReadyUpgraded} {
		node := getNode(ctx, Default, n)
		Expect(node.Status.NodeInfo.KubeletVersion).To(Equal("v1.36.10"), n)
		Expect(node.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)), n)
	}
	finishScenario(ctx, got, neverUpgraded, wrongVersion)
	deleteAndWait(ctx, hold)

	inv := standardInvariants + "; one start per node"
	record(faultRecord{Fault: "node NotReady while draining", Injected: "Ready=False for 5 s while a pod held its drain",
		Expected: "continue: the drain goes on; the node counts against the budget", Observed: "drained and upgraded once Ready", Invariants: inv})
	record(faultRecord{Fault: "node NotReady while upgrading", Injected: "Ready=False from the start of upgrading until the kubelet reported the target, +3 s",
		Expected: "wait: verify starts only once the node is Ready at the target", Observed: "stayed upgrading while NotReady at the target; upgraded once Ready", Invariants: inv})
	record(faultRecord{Fault: "node NotReady after upgrade", Injected: "Ready=False for 8 s, from 2 s after the node was upgraded",
		Expected: "continue with one slot fewer: the NotReady node counts against the budget, and while it takes the pool over the budget nothing new starts",
		Observed: fmt.Sprintf("at most %d unavailable at once (budget 3), over budget in %d node updates, none of them a nodewave cordon", max(maxSeen, peak), excursions), Invariants: inv})
	record(faultRecord{Fault: "node deleted mid-upgrade", Injected: "Node object deleted while upgrading",
		Expected: "continue: it leaves the upgrade and frees its slot", Observed: "totalNodes 10 -> 9; not counted as failed", Invariants: inv})
	record(faultRecord{Fault: "kubelet never reports the target", Injected: "node agent never upgrades the node",
		Expected: "fail the node at upgrade.timeout (25 s), left cordoned; continue while failures <= maxFailedNodes", Observed: "failed UpgradeTimeout, cordoned; the rest went on", Invariants: inv})
	record(faultRecord{Fault: "kubelet reports another version", Injected: "node agent reports v1.36.4 for target v1.36.10",
		Expected: "fail the node at upgrade.timeout, naming the version it reports", Observed: "failed UpgradeTimeout, message names v1.36.4; phase Failed, Stalled NodesFailed", Invariants: inv})
}

// jobPodDeleted deletes the pod of a node's upgrade Job.
func jobPodDeleted(ctx SpecContext) {
	const name, node = "e2e-job-pod", "worker-020"
	agent.Set(node, nodeagent.Behaviour{Never: true})
	DeferCleanup(func() { agent.Set(node, nodeagent.Behaviour{}) })
	cu := clusterUpgrade(name, "v1.36.11", selectorOf(corev1.LabelHostname, node), upgradev1alpha1.JobUpgrade)
	// kwok leaves the pod Pending, as if its image were still pulling.
	cu.Spec.Upgrade.Job.Template.Labels = map[string]string{frozenLabel: "true"}
	startUpgrade(ctx, cu, 1)

	By("deleting the upgrade Job's pod")
	pods := &corev1.PodList{}
	Eventually(func(g Gomega) {
		g.Expect(admin.List(ctx, pods, client.InNamespace(jobNamespace), client.MatchingLabels{upgradev1alpha1.JobNodeLabel: node})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
	}).Should(Succeed())
	Expect(admin.Delete(ctx, &pods.Items[0], client.GracePeriodSeconds(0))).To(Succeed())

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	Expect(meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(
		HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
	Expect(got.Status.Failed).To(ConsistOf(And(HaveField("Name", node), HaveField("Reason", "JobFailed"))))
	Expect(monitor.jobsPerNode()[node]).To(Equal(1), "the failed Job was retried")
	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())
	finishScenario(ctx, got, node)
	record(faultRecord{
		Fault:      "upgrade Job's pod deleted",
		Injected:   "the Job's only pod deleted while Pending",
		Expected:   "fail the node (Jobs run with backoffLimit 0: a half-run upgrade is not retried blindly); halt at maxFailedNodes 0",
		Observed:   "failed JobFailed: " + got.Status.Failed[0].Message + "; one Job, left cordoned",
		Invariants: standardInvariants,
	})
}

// drainFaults: a PodDisruptionBudget that never allows disruption, a pod
// with no controller (force: false), and a namespace terminating mid-drain.
func drainFaults(ctx SpecContext) {
	const name = "e2e-drain-faults"
	// Group b's zone-a nodes start first, together.
	const pdbBlocked, unmanaged, terminating = "worker-012", "worker-015", "worker-018"
	ensureNamespace(ctx, "e2e")
	pinned := pinnedDeployment("workloads", "pinned", pdbBlocked)
	pinnedPDB := blockingPDB("workloads", "pinned")
	bare := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "e2e", Name: "bare", Labels: map[string]string{"app": "bare"}},
		Spec: corev1.PodSpec{NodeName: unmanaged,
			Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/bare:v1"}}},
	}
	doomedNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}
	doomed := pinnedDeployment("doomed", "doomed", terminating)
	doomedPDB := blockingPDB("doomed", "doomed")
	monitor.exemptPDB("workloads/pinned", true)
	monitor.exemptPDB("doomed/doomed", true)
	Expect(admin.Create(ctx, doomedNS)).To(Succeed())
	for _, obj := range []client.Object{pinned, pinnedPDB, bare, doomed, doomedPDB} {
		Expect(admin.Create(ctx, obj)).To(Succeed())
	}
	waitPodRunning(ctx, "workloads", "pinned")
	waitPodRunning(ctx, "e2e", "bare")
	waitPodRunning(ctx, "doomed", "doomed")
	for _, pdb := range []*policyv1.PodDisruptionBudget{pinnedPDB, doomedPDB} {
		Eventually(func(g Gomega) {
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pdb), pdb)).To(Succeed())
			g.Expect(pdb.Status.ObservedGeneration).To(Equal(pdb.Generation))
			g.Expect(pdb.Status.CurrentHealthy).To(BeEquivalentTo(1))
		}).Should(Succeed())
	}

	// The node that drains through the terminating namespace may finish
	// before the blocked ones time out, and a fourth node (worker-010)
	// then starts; it must drain within the short drain.timeout, so the
	// workloads' budgets must allow an eviction at once. A db pod evicted
	// by an earlier scenario keeps the db budget at 0 for the disruption
	// controller's 2 minutes (see docs/reliability.md): seen once, worker-010
	// failed too, holding db-2.
	waitBudgetsAllowEviction(ctx, "workloads", "pinned")

	cu := concurrently(clusterUpgrade(name, "v1.36.12", selectorOf(groupLabel, "b"), upgradev1alpha1.ExternalUpgrade), "3")
	// Halt at the first failure: with maxFailedNodes 1, whichever of the
	// two blocked nodes was failed first (they time out together, but may
	// be failed in separate reconciles) freed a slot for a fourth node,
	// whose own drain could then outlast the short drain.timeout on a busy
	// machine.
	cu.Spec.MaxFailedNodes = 0
	cu.Spec.Drain.Timeout = &metav1.Duration{Duration: 20 * time.Second}
	startUpgrade(ctx, cu, 3)

	By("deleting namespace doomed while its PodDisruptionBudget blocks the drain of " + terminating)
	Eventually(func(g Gomega) {
		msg := nodeMessage(getCU(ctx, g, name), terminating)
		g.Expect(msg).To(ContainSubstring("doomed/doomed"))
	}).Should(Succeed())
	Expect(admin.Delete(ctx, doomedNS)).To(Succeed())

	got := waitFinished(ctx, name, upgradev1alpha1.PhaseFailed)
	Expect(meta.FindStatusCondition(got.Status.Conditions, upgradev1alpha1.ConditionStalled)).To(
		HaveField("Reason", upgradev1alpha1.ReasonTooManyFailures))
	// The halt (at the first failure) stops new starts; the nodes already in
	// flight are finished after it: the other blocked node fails too, and
	// the one whose namespace is going away is upgraded.
	Eventually(func(g Gomega) {
		got = getCU(ctx, g, name)
		g.Expect(got.Status.Phase).To(Equal(upgradev1alpha1.PhaseFailed))
		g.Expect(got.Status.UpgradingNodes).To(BeZero(), "status %+v", got.Status)
		g.Expect(got.Status.FailedNodes).To(BeEquivalentTo(2), "status %+v", got.Status)
		g.Expect(got.Status.UpgradedNodes+got.Status.PendingNodes).To(BeEquivalentTo(8), "status %+v", got.Status)
	}).Should(Succeed())
	// status.failed lists maxFailedNodes+1 failures (here one); each failed
	// node carries its own reason.
	Expect(got.Status.Failed).To(ConsistOf(HaveField("Reason", "DrainTimeout")))
	for node, why := range map[string]string{pdbBlocked: "blocked by PodDisruptionBudget workloads/pinned",
		unmanaged: "pod e2e/bare has no controller"} {
		n := getNode(ctx, Default, node)
		Expect(n.Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeFailed)))
		Expect(n.Annotations[upgradev1alpha1.FailureAnnotation]).To(And(HavePrefix("DrainTimeout: "), ContainSubstring(why)), node)
	}
	Expect(getNode(ctx, Default, terminating).Labels).To(HaveKeyWithValue(upgradev1alpha1.NodeStateLabel, string(upgradev1alpha1.NodeUpgraded)))
	for _, key := range []client.ObjectKey{{Namespace: "e2e", Name: "bare"}} {
		pod := &corev1.Pod{}
		Expect(admin.Get(ctx, key, pod)).To(Succeed())
		Expect(pod.DeletionTimestamp).To(BeNil(), "the pod without a controller was deleted")
	}
	pods := &corev1.PodList{}
	Expect(admin.List(ctx, pods, client.InNamespace("workloads"), client.MatchingLabels{"app": "pinned"})).To(Succeed())
	Expect(pods.Items).To(HaveLen(1))
	Expect(pods.Items[0].DeletionTimestamp).To(BeNil(), "the protected pod was deleted")
	_, _, before := monitor.report()
	Consistently(func(g Gomega) {
		_, _, starts := monitor.report()
		g.Expect(starts).To(Equal(before), "a node started after the halt")
	}).WithTimeout(3 * time.Second).Should(Succeed())
	violations, _, _ := monitor.report()
	Expect(violations).To(BeEmpty())

	finishScenario(ctx, got, pdbBlocked, unmanaged)
	for _, obj := range []client.Object{pinnedPDB, pinned, bare} {
		deleteAndWait(ctx, obj)
	}
	monitor.exemptPDB("workloads/pinned", false)
	record(faultRecord{Fault: "PodDisruptionBudget never allows disruption", Injected: "PDB maxUnavailable 0 over a pod on the node; drain.timeout 20 s",
		Expected: "fail the node at drain.timeout (onTimeout Fail), left cordoned, the pod untouched", Observed: "failed DrainTimeout, message names workloads/pinned; pod not deleted", Invariants: standardInvariants})
	record(faultRecord{Fault: "pod with no controller, force: false", Injected: "a bare pod on the node",
		Expected: "never evicted; fail the node at drain.timeout, naming the pod; halt once failures > maxFailedNodes (0)", Observed: "failed DrainTimeout naming e2e/bare; pod not deleted; phase Failed, Stalled TooManyFailures, nothing new started", Invariants: standardInvariants})
	record(faultRecord{Fault: "namespace terminating during drain", Injected: "namespace deleted while its PDB (maxUnavailable 0) blocked the drain",
		Expected: "continue: the namespace's pods go with it and the drain completes", Observed: "drained and upgraded", Invariants: standardInvariants})
}

// nodeMessage is what the ClusterUpgrade's status says about a node in flight.
func nodeMessage(cu *upgradev1alpha1.ClusterUpgrade, node string) string {
	for _, n := range cu.Status.InProgress {
		if n.Name == node {
			return n.Message
		}
	}
	return ""
}

func ensureNamespace(ctx context.Context, name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(client.IgnoreAlreadyExists(admin.Create(ctx, ns))).To(Succeed())
}

// pinnedDeployment is one replica labelled app=name on one node.
func pinnedDeployment(namespace, name, node string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: selectorOf("app", name),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{corev1.LabelHostname: node},
					Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/" + name + ":v1"}}},
			},
		},
	}
}

// blockingPDB allows no disruption of the pods labelled app=name.
// waitBudgetsAllowEviction waits until every PodDisruptionBudget of
// namespace but the named ones allows a disruption and charges none.
func waitBudgetsAllowEviction(ctx context.Context, namespace string, except ...string) {
	Eventually(func(g Gomega) {
		pdbs := &policyv1.PodDisruptionBudgetList{}
		g.Expect(admin.List(ctx, pdbs, client.InNamespace(namespace))).To(Succeed())
		for _, p := range pdbs.Items {
			if slices.Contains(except, p.Name) {
				continue
			}
			g.Expect(p.Status.DisruptionsAllowed).To(BeNumerically(">=", 1), "PodDisruptionBudget %s", p.Name)
			g.Expect(p.Status.DisruptedPods).To(BeEmpty(), "PodDisruptionBudget %s", p.Name)
		}
	}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
}

func blockingPDB(namespace, name string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			Selector: selectorOf("app", name)},
	}
}

// waitPodRunning waits for the pod labelled app=app to run and returns it.
func waitPodRunning(ctx context.Context, namespace, app string) *corev1.Pod {
	pods := &corev1.PodList{}
	Eventually(func(g Gomega) {
		g.Expect(admin.List(ctx, pods, client.InNamespace(namespace), client.MatchingLabels{"app": app})).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(1))
		g.Expect(pods.Items[0].Status.Phase).To(Equal(corev1.PodRunning))
	}).Should(Succeed())
	return &pods.Items[0]
}

// setPodFrozen tells kwok to leave a pod alone (it then never finishes
// terminating), or hands it back.
func setPodFrozen(ctx context.Context, pod *corev1.Pod, frozen bool) {
	Expect(admin.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
	patch := client.MergeFrom(pod.DeepCopy())
	if frozen {
		pod.Labels[frozenLabel] = "true"
	} else {
		delete(pod.Labels, frozenLabel)
	}
	Expect(admin.Patch(ctx, pod, patch)).To(Succeed())
}
