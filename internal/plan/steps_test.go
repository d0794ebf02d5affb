package plan

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestUpgradeStep(t *testing.T) {
	base := UpgradeFacts{Deadline: t0.Add(30 * time.Minute), Timeout: 30 * time.Minute, Now: t0.Add(time.Minute), KubeletVersion: "v1.36.3"}
	with := func(f func(*UpgradeFacts)) UpgradeFacts { c := base; f(&c); return c }
	for _, tc := range []struct {
		name   string
		facts  UpgradeFacts
		want   Outcome
		reason string
	}{
		{"running", base, Wait, ""},
		{"at target and Ready", with(func(f *UpgradeFacts) { f.Reached, f.Ready = true, true }), Advance, ""},
		{"at target, not Ready yet", with(func(f *UpgradeFacts) { f.Reached = true }), Wait, ""},
		{"Job failed after the kubelet reached the target is success",
			with(func(f *UpgradeFacts) { f.Reached, f.Ready, f.JobFailed = true, true, true }), Advance, ""},
		{"Job failed", with(func(f *UpgradeFacts) { f.JobFailed = true }), Fail, ReasonJobFailed},
		{"Job succeeded but the kubelet is old: not success", with(func(f *UpgradeFacts) { f.JobSucceeded = true }), Wait, ""},
		{"timeout", with(func(f *UpgradeFacts) { f.Now = t0.Add(30 * time.Minute) }), Fail, ReasonUpgradeTimeout},
		{"Job succeeded, kubelet old, timeout", with(func(f *UpgradeFacts) {
			f.JobSucceeded, f.Now = true, t0.Add(31*time.Minute)
		}), Fail, ReasonUpgradeTimeout},
	} {
		d := UpgradeStep(tc.facts)
		if d.Outcome != tc.want || d.Reason != tc.reason {
			t.Errorf("%s: got %+v, want %s %s", tc.name, d, tc.want, tc.reason)
		}
		if d.Outcome == Wait && d.RequeueAfter <= 0 {
			t.Errorf("%s: a wait must say when the timeout falls, got %v", tc.name, d.RequeueAfter)
		}
	}
	if d := UpgradeStep(with(func(f *UpgradeFacts) { f.JobSucceeded = true })); d.Message != "upgrade Job succeeded but the kubelet still reports v1.36.3" {
		t.Errorf("message = %q", d.Message)
	}
}

func TestVerifyStep(t *testing.T) {
	// Verifying began at t0; the upgrade's deadline is 30 minutes later.
	base := VerifyFacts{Reached: true, Ready: true, ReadySince: t0.Add(-time.Hour), Since: t0, Soak: 30 * time.Second, Deadline: t0.Add(30 * time.Minute)}
	for _, tc := range []struct {
		name    string
		mutate  func(*VerifyFacts)
		want    Outcome
		requeue time.Duration
	}{
		{"soaking", func(f *VerifyFacts) { f.Now = t0.Add(10 * time.Second) }, Wait, 20 * time.Second},
		{"soaked", func(f *VerifyFacts) { f.Now = t0.Add(30 * time.Second) }, Advance, 0},
		{"zero soak advances at once", func(f *VerifyFacts) { f.Soak, f.Now = 0, t0 }, Advance, 0},
		{"Ready flapped during the soak: it restarts", func(f *VerifyFacts) {
			f.ReadySince, f.Now = t0.Add(20*time.Second), t0.Add(40*time.Second)
		}, Wait, 10 * time.Second},
		{"NotReady: wait", func(f *VerifyFacts) { f.Ready, f.Now = false, t0.Add(time.Minute) }, Wait, 29 * time.Minute},
		{"NotReady past the timeout: fail", func(f *VerifyFacts) { f.Ready, f.Now = false, t0.Add(31*time.Minute) }, Fail, 0},
		{"kubelet went back to another version", func(f *VerifyFacts) { f.Reached, f.Now = false, t0.Add(time.Hour) }, Fail, 0},
		{"the deadline is the upgrade's, not a fresh one: verifying that began late has what is left of it",
			func(f *VerifyFacts) { f.Ready, f.Deadline, f.Now = false, t0.Add(time.Minute), t0.Add(2*time.Minute) }, Fail, 0},
	} {
		f := base
		tc.mutate(&f)
		d := VerifyStep(f)
		if d.Outcome != tc.want || d.RequeueAfter != tc.requeue {
			t.Errorf("%s: got %+v, want %s after %v", tc.name, d, tc.want, tc.requeue)
		}
	}
}

func TestDrainStep(t *testing.T) {
	const timeout = 10 * time.Minute
	deadline := t0.Add(timeout)
	pass := func(started time.Time, mutate func(*DrainPass)) *DrainPass {
		p := &DrainPass{Started: started, Message: "1 pod blocked by PodDisruptionBudget ns/db"}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		force   bool
		cordon  bool
		now     time.Time
		last    *DrainPass
		want    Outcome
		requeue time.Duration
		message string
	}{
		{name: "no pass yet", now: t0.Add(time.Second), want: Wait, requeue: timeout - time.Second, message: "evicting its pods"},
		{name: "drained", now: t0.Add(time.Minute), last: pass(t0, func(p *DrainPass) { p.Drained = true }), want: Advance},
		{name: "drained after the deadline still advances", now: deadline.Add(time.Hour),
			last: pass(deadline, func(p *DrainPass) { p.Drained = true }), want: Advance},
		{name: "blocked, before the deadline", now: t0.Add(time.Minute), last: pass(t0, nil), want: Wait,
			requeue: 9 * time.Minute, message: "1 pod blocked by PodDisruptionBudget ns/db"},
		{name: "past the deadline, no look since: one more", now: deadline.Add(time.Second), last: pass(t0, nil), want: Wait,
			message: "drain.timeout 10m0s passed: one more look at its pods decides"},
		{name: "past the deadline and looked after it: fail", now: deadline.Add(time.Second), last: pass(deadline, nil), want: Fail,
			message: "not drained within drain.timeout 10m0s: 1 pod blocked by PodDisruptionBudget ns/db"},
		{name: "Cordon, past the deadline and looked after it: block", cordon: true, now: deadline.Add(time.Second), last: pass(deadline, nil),
			want: Block, message: "not drained within drain.timeout 10m0s: 1 pod blocked by PodDisruptionBudget ns/db"},
		{name: "Cordon, before the deadline", cordon: true, now: t0.Add(time.Minute), last: pass(t0, nil), want: Wait, requeue: 9 * time.Minute},
		{name: "Cordon, past the deadline, no look since: one more", cordon: true, now: deadline.Add(time.Second), last: pass(t0, nil), want: Wait},
		{name: "Cordon, drained in time", cordon: true, now: deadline.Add(time.Second),
			last: pass(deadline, func(p *DrainPass) { p.Drained = true }), want: Advance},
		{name: "a pass that erred decides nothing", now: deadline.Add(time.Second),
			last: pass(deadline, func(p *DrainPass) { p.Err = errors.New("boom") }), want: Wait},
		{name: "ForceDelete, before the deadline", force: true, now: t0.Add(time.Minute), last: pass(t0, nil), want: Wait, requeue: 9 * time.Minute},
		{name: "ForceDelete deleting, within the grace", force: true, now: deadline.Add(time.Minute),
			last: pass(deadline, func(p *DrainPass) { p.Force = true }), want: Wait, requeue: ForceDeleteGrace - time.Minute},
		{name: "ForceDelete finds pods it will not delete: fail at once", force: true, now: deadline.Add(time.Second),
			last: pass(deadline, func(p *DrainPass) {
				p.Force, p.Kept, p.Message = true, 1, "pod ns/bare has no controller (set drain.force to evict it)"
			}),
			want: Fail, message: "not drained within drain.timeout 10m0s, and drain.onTimeout ForceDelete does not delete what is left: pod ns/bare has no controller (set drain.force to evict it)"},
		{name: "a kept pod seen by an eviction pass does not fail ForceDelete before it deletes", force: true, now: deadline.Add(time.Second),
			last: pass(deadline, func(p *DrainPass) { p.Kept = 1 }), want: Wait, requeue: ForceDeleteGrace - time.Second},
		{name: "ForceDelete, pods stuck terminating past the grace: fail", force: true, now: deadline.Add(ForceDeleteGrace + time.Second),
			last: pass(deadline.Add(ForceDeleteGrace), func(p *DrainPass) { p.Force, p.Message = true, "1 pod terminating" }),
			want: Fail, message: "not drained within drain.timeout 10m0s and 2m0s of ForceDelete: 1 pod terminating"},
		{name: "ForceDelete past the grace, no look since: one more", force: true, now: deadline.Add(ForceDeleteGrace + time.Second),
			last: pass(deadline, func(p *DrainPass) { p.Force = true }), want: Wait},
	} {
		f := DrainFacts{Since: t0, Timeout: timeout, Now: tc.now, ForceDelete: tc.force, Cordon: tc.cordon, Last: tc.last}
		d := DrainStep(f)
		if d.Outcome != tc.want || d.RequeueAfter != tc.requeue || (tc.message != "" && d.Message != tc.message) {
			t.Errorf("%s: got %+v, want %s after %v %q", tc.name, d, tc.want, tc.requeue, tc.message)
		}
		if (d.Outcome == Fail || d.Outcome == Block) && d.Reason != ReasonDrainTimeout {
			t.Errorf("%s: reason %q", tc.name, d.Reason)
		}
	}
	if (DrainFacts{Since: t0, Timeout: timeout, Now: deadline.Add(-time.Second), ForceDelete: true}).Forcing() {
		t.Error("forcing before the deadline")
	}
	if !(DrainFacts{Since: t0, Timeout: timeout, Now: deadline, ForceDelete: true}).Forcing() {
		t.Error("not forcing at the deadline")
	}
	if (DrainFacts{Since: t0, Timeout: timeout, Now: deadline}).Forcing() {
		t.Error("forcing without ForceDelete")
	}
}

func TestChecksStep(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		problem  string
		deadline time.Time
		want     Outcome
		requeue  time.Duration
	}{
		{"passed", "", now.Add(-time.Hour), Advance, 0},
		{"failing, time left", "etcd: 2 of 3 members healthy", now.Add(time.Minute), Wait, ControlPlaneCheckInterval},
		{"failing, little time left", "etcd: no leader", now.Add(3 * time.Second), Wait, 3 * time.Second},
		{"failing past the deadline", "cp-1: kube-apiserver-cp-1 runs v1.36.3", now, Fail, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ChecksStep(tc.problem, tc.deadline, now)
			if d.Outcome != tc.want || d.RequeueAfter != tc.requeue {
				t.Fatalf("ChecksStep = %+v, want %s after %s", d, tc.want, tc.requeue)
			}
			if tc.problem != "" && !strings.Contains(d.Message, tc.problem) {
				t.Errorf("message %q does not say what failed (%q)", d.Message, tc.problem)
			}
			if d.Outcome == Fail && d.Reason != ReasonControlPlaneChecks {
				t.Errorf("reason %q, want %q", d.Reason, ReasonControlPlaneChecks)
			}
		})
	}
}
