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
	}, prefix)
	if want := []string{"backup", "ceph-noout"}; !slices.Equal(got, want) {
		t.Errorf("Hooks = %v, want %v", got, want)
	}
	if got := Hooks(nil, prefix); len(got) != 0 {
		t.Errorf("no annotations: %v", got)
	}
}

func TestHookStep(t *testing.T) {
	const prefix = "post-upgrade.hook.upgrade.nodewave.io/"
	if d := HookStep(PostUpgrade, prefix, nil); d.Outcome != Advance {
		t.Errorf("no hook: %+v", d)
	}
	d := HookStep(PostUpgrade, prefix, []string{"ceph-noout"})
	if d.Outcome != Wait || d.RequeueAfter != 0 {
		t.Errorf("one hook: %+v, want a wait for an event", d)
	}
	if !strings.Contains(d.Message, "post-upgrade hook ceph-noout") || !strings.Contains(d.Message, prefix+"ceph-noout") {
		t.Errorf("one hook's message %q must name the hook and its annotation", d.Message)
	}
	d = HookStep(PostUpgrade, prefix, []string{"a", "b"})
	if d.Outcome != Wait || !strings.Contains(d.Message, "hooks a, b") {
		t.Errorf("two hooks: %+v", d)
	}
}
