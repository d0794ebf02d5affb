package plan

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestUpgradeStep(t *testing.T) {
	base := UpgradeFacts{Since: t0, Timeout: 30 * time.Minute, Now: t0.Add(time.Minute), KubeletVersion: "v1.36.3"}
	with := func(f func(*UpgradeFacts)) UpgradeFacts { c := base; f(&c); return c }
	for _, tc := range []struct {
		name   string
		facts  UpgradeFacts
		want   Outcome
		reason string
	}{
		{"running", base, Wait, ""},
		{"at target and Ready", with(func(f *UpgradeFacts) { f.AtTarget, f.Ready = true, true }), Advance, ""},
		{"at target, not Ready yet", with(func(f *UpgradeFacts) { f.AtTarget = true }), Wait, ""},
		{"Job failed after the kubelet reached the target is success",
			with(func(f *UpgradeFacts) { f.AtTarget, f.Ready, f.JobFailed = true, true, true }), Advance, ""},
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
	base := VerifyFacts{AtTarget: true, Ready: true, ReadySince: t0.Add(-time.Hour), Since: t0, Soak: 30 * time.Second, Timeout: 30 * time.Minute}
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
		{"kubelet went back to another version", func(f *VerifyFacts) { f.AtTarget, f.Now = false, t0.Add(time.Hour) }, Fail, 0},
	} {
		f := base
		tc.mutate(&f)
		d := VerifyStep(f)
		if d.Outcome != tc.want || d.RequeueAfter != tc.requeue {
			t.Errorf("%s: got %+v, want %s after %v", tc.name, d, tc.want, tc.requeue)
		}
	}
}

func TestDrainExpired(t *testing.T) {
	if expired, left := DrainExpired(t0, 10*time.Minute, t0.Add(9*time.Minute)); expired || left != time.Minute {
		t.Fatalf("9m into a 10m drain: expired=%v left=%v", expired, left)
	}
	if expired, _ := DrainExpired(t0, 10*time.Minute, t0.Add(10*time.Minute)); !expired {
		t.Fatal("a drain at its timeout must be expired")
	}
}
