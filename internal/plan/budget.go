package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// MaxUnavailable resolves the strategy to a node count for a pool of total
// selected nodes. Sequential is exactly 1. A Concurrent percentage is of
// total, rounded down but never below 1 (the safe direction); a count is
// taken as it is. It fails closed: anything it cannot read is an error, never
// a large number.
func MaxUnavailable(strategy upgradev1alpha1.UpgradeStrategy, total int) (int, error) {
	if strategy.Type != upgradev1alpha1.ConcurrentStrategy {
		return 1, nil
	}
	mu := strategy.MaxUnavailable
	if mu == nil {
		return 0, fmt.Errorf("strategy.maxUnavailable is required for Concurrent")
	}
	if mu.Type == intstr.Int {
		if mu.IntVal < 1 {
			return 0, fmt.Errorf("strategy.maxUnavailable must be at least 1, not %d", mu.IntVal)
		}
		return int(mu.IntVal), nil
	}
	// apimachinery reads the percentage (as the Deployment controller
	// does); scaled to 100 it is the percentage itself, to range-check.
	pct, err := intstr.GetScaledValueFromIntOrPercent(mu, 100, false)
	if err != nil || !strings.HasSuffix(mu.StrVal, "%") || pct < 1 || pct > 100 {
		return 0, fmt.Errorf("strategy.maxUnavailable %q is not a percentage from 1%% to 100%%", mu.StrVal)
	}
	scaled, err := intstr.GetScaledValueFromIntOrPercent(mu, total, false)
	if err != nil {
		return 0, err
	}
	return max(1, scaled), nil
}
