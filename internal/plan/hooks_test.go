package plan

import (
	"slices"
	"strings"
	"testing"
)

func TestHooks(t *testing.T) {
	const prefix = "pre-drain.hook.upgrade.nodewave.io/"
	got := Hooks(map[string]string{
		prefix + "ceph-noout": "rook",
		prefix + "backup":     "",
		prefix:                "no name: not a hook",
		"post-upgrade.hook.upgrade.nodewave.io/x":  "another point",
		"example.com/pre-drain.hook.upgrade.other": "",
	}, PreDrain)
	if want := []string{"backup", "ceph-noout"}; !slices.Equal(got, want) {
		t.Errorf("Hooks = %v, want %v", got, want)
	}
	if got := Hooks(nil, PreDrain); len(got) != 0 {
		t.Errorf("no annotations: %v", got)
	}
}

func TestHookStep(t *testing.T) {
	const prefix = "post-upgrade.hook.upgrade.nodewave.io/"
	if d := HookStep(PostUpgrade, nil); d.Outcome != Advance {
		t.Errorf("no hook: %+v", d)
	}
	d := HookStep(PostUpgrade, []string{"ceph-noout"})
	if d.Outcome != Wait || d.RequeueAfter != 0 {
		t.Errorf("one hook: %+v, want a wait for an event", d)
	}
	if !strings.Contains(d.Message, "post-upgrade hook ceph-noout") || !strings.Contains(d.Message, prefix+"ceph-noout") {
		t.Errorf("one hook's message %q must name the hook and its annotation", d.Message)
	}
	d = HookStep(PostUpgrade, []string{"a", "b"})
	if d.Outcome != Wait || !strings.Contains(d.Message, "hooks a, b") {
		t.Errorf("two hooks: %+v", d)
	}
}

func TestHookJobStep(t *testing.T) {
	base := HookJobFacts{Point: PreDrain, Job: "nodewave-pre-drain-a-1", Exists: true}
	with := func(f func(*HookJobFacts)) HookJobFacts { c := base; f(&c); return c }
	for _, tc := range []struct {
		name    string
		facts   HookJobFacts
		want    Outcome
		message string
	}{
		{"running", base, Wait, "running its pre-drain hook Job nodewave-pre-drain-a-1"},
		{"not created yet", with(func(f *HookJobFacts) { f.Exists = false }), Wait, "running its pre-drain hook Job"},
		{"held before it exists", with(func(f *HookJobFacts) { f.Exists, f.Held = false, "ImageNotAllowed" }), Wait,
			"held before its pre-drain hook Job: ImageNotAllowed"},
		{"a hold does not stop a Job that exists", with(func(f *HookJobFacts) { f.Held = "ImageNotAllowed" }), Wait, "running its"},
		{"succeeded", with(func(f *HookJobFacts) { f.Succeeded = true }), Advance, ""},
		{"failed", with(func(f *HookJobFacts) {
			f.Failed, f.Message = true, "DeadlineExceeded: Job was active longer than specified deadline"
		}),
			Fail, "its pre-drain hook Job nodewave-pre-drain-a-1 failed: DeadlineExceeded"},
		{"failed, ignored", with(func(f *HookJobFacts) { f.Failed, f.Ignore = true, true }), Advance, ""},
	} {
		d := HookJobStep(tc.facts)
		if d.Outcome != tc.want || !strings.Contains(d.Message, tc.message) {
			t.Errorf("%s: got %+v, want %s %q", tc.name, d, tc.want, tc.message)
		}
		if d.Outcome == Fail && d.Reason != ReasonHookJobFailed {
			t.Errorf("%s: reason %q", tc.name, d.Reason)
		}
	}
}
