package controller

import (
	"testing"
	"time"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestStatusWritesSpaceOutMessageOnlyChanges(t *testing.T) {
	base := upgradev1alpha1.ClusterUpgradeStatus{
		UpgradedNodes: 3, UpgradingNodes: 2,
		InProgress: []upgradev1alpha1.NodeProgress{
			{Name: "a", State: upgradev1alpha1.NodeDraining, Message: "12 pods terminating"},
			{Name: "b", State: upgradev1alpha1.NodeUpgrading},
		},
	}
	messageOnly := base.DeepCopy()
	messageOnly.InProgress[0].Message = "9 pods terminating"
	newState := base.DeepCopy()
	newState.InProgress[0].State = upgradev1alpha1.NodeUpgrading
	newCount := messageOnly.DeepCopy()
	newCount.UpgradedNodes = 4
	newNode := base.DeepCopy()
	newNode.InProgress[1].Name = "c"
	fewer := base.DeepCopy()
	fewer.InProgress = fewer.InProgress[:1]

	t0 := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	var w statusWrites
	if d := w.hold("u", &base, messageOnly, t0); d != 0 {
		t.Fatalf("first write held %s; nothing was written yet", d)
	}
	w.wrote("u", t0)
	if d := w.hold("u", &base, messageOnly, t0.Add(500*time.Millisecond)); d != 1500*time.Millisecond {
		t.Fatalf("a message-only change 0.5s after a write is held %s, want 1.5s", d)
	}
	for name, next := range map[string]*upgradev1alpha1.ClusterUpgradeStatus{
		"a new state": newState, "a new count": newCount, "another node": newNode, "a node fewer": fewer,
	} {
		if d := w.hold("u", &base, next, t0.Add(time.Millisecond)); d != 0 {
			t.Errorf("%s was held %s; only message changes wait", name, d)
		}
	}
	if d := w.hold("u", &base, messageOnly, t0.Add(messageWriteInterval)); d != 0 {
		t.Fatalf("a message-only change a whole interval after the write is held %s", d)
	}
	if d := w.hold("other", &base, messageOnly, t0.Add(time.Millisecond)); d != 0 {
		t.Fatalf("another ClusterUpgrade's change was held %s by this one's write", d)
	}
	w.forget("u")
	if d := w.hold("u", &base, messageOnly, t0.Add(time.Millisecond)); d != 0 {
		t.Fatalf("held %s after forget", d)
	}
}
