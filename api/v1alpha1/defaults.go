package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The defaults of the spec's durations: what the API server writes when a
// field is left out (the +kubebuilder:default markers, which must say the
// same; a test holds them together), and what the controller, the kubectl
// plugin and the Job builder assume when a field is unset, as it is in an
// object that never went through the API server.
const (
	// DefaultDrainTimeout is spec.drain.timeout's default.
	DefaultDrainTimeout = 10 * time.Minute
	// DefaultUpgradeTimeout is spec.upgrade.timeout's default.
	DefaultUpgradeTimeout = 30 * time.Minute
	// DefaultSoakDuration is spec.health.soakDuration's default.
	DefaultSoakDuration = 30 * time.Second
	// DefaultCanarySoakDuration is spec.strategy.canary.soakDuration's
	// default.
	DefaultCanarySoakDuration = 10 * time.Minute
	// DefaultReplacementsTimeout is
	// spec.health.replacementsReady.timeout's default.
	DefaultReplacementsTimeout = 10 * time.Minute
	// DefaultAlertsTimeout is spec.health.prometheus.timeout's default.
	DefaultAlertsTimeout = 10 * time.Minute
	// DefaultHookTimeout is spec.hooks.*.timeout's default.
	DefaultHookTimeout = 10 * time.Minute
)

// MaxBlockedNodes is spec.drain.maxBlockedNodes, or its default: budget,
// the resolved maxUnavailable. 0 without drain.onTimeout Cordon, where no
// node is ever blocked.
func (s *ClusterUpgradeSpec) MaxBlockedNodes(budget int) int {
	switch {
	case s.Drain.OnTimeout != DrainTimeoutCordon:
		return 0
	case s.Drain.MaxBlockedNodes != nil:
		return int(*s.Drain.MaxBlockedNodes)
	}
	return budget
}

// HookTimeout is a hook Job's timeout, or its default.
func (h *HookJob) HookTimeout() time.Duration {
	return durationOr(h.Timeout, DefaultHookTimeout)
}

// DrainTimeout is spec.drain.timeout, or its default.
func (s *ClusterUpgradeSpec) DrainTimeout() time.Duration {
	return durationOr(s.Drain.Timeout, DefaultDrainTimeout)
}

// UpgradeTimeout is spec.upgrade.timeout, or its default.
func (s *ClusterUpgradeSpec) UpgradeTimeout() time.Duration {
	return durationOr(s.Upgrade.Timeout, DefaultUpgradeTimeout)
}

// SoakDuration is spec.health.soakDuration, or its default.
func (s *ClusterUpgradeSpec) SoakDuration() time.Duration {
	return durationOr(s.Health.SoakDuration, DefaultSoakDuration)
}

// CanarySoakDuration is spec.strategy.canary.soakDuration, or its
// default; 0 without a canary.
func (s *ClusterUpgradeSpec) CanarySoakDuration() time.Duration {
	if s.Strategy.Canary == nil {
		return 0
	}
	return durationOr(s.Strategy.Canary.SoakDuration, DefaultCanarySoakDuration)
}

// ReplacementsTimeout is spec.health.replacementsReady.timeout, or its
// default; 0 without the gate.
func (s *ClusterUpgradeSpec) ReplacementsTimeout() time.Duration {
	if s.Health.ReplacementsReady == nil {
		return 0
	}
	return durationOr(s.Health.ReplacementsReady.Timeout, DefaultReplacementsTimeout)
}

// AlertsTimeout is spec.health.prometheus.timeout, or its default; 0
// without the gate.
func (s *ClusterUpgradeSpec) AlertsTimeout() time.Duration {
	if s.Health.Prometheus == nil {
		return 0
	}
	return durationOr(s.Health.Prometheus.Timeout, DefaultAlertsTimeout)
}

// durationOr is d, or def when d is unset.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}
