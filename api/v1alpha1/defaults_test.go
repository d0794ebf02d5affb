package v1alpha1

import (
	"os"
	"regexp"
	"testing"
	"time"
)

// TestDefaultsMatchTheMarkers holds the Go defaults and the
// +kubebuilder:default markers that the API server applies together.
func TestDefaultsMatchTheMarkers(t *testing.T) {
	src, err := os.ReadFile("clusterupgrade_types.go")
	if err != nil {
		t.Fatal(err)
	}
	// Fields that share a name: their markers come in the file's order.
	for _, tc := range []struct {
		field    string
		defaults []time.Duration
	}{
		{"Timeout", []time.Duration{DefaultHookTimeout, DefaultDrainTimeout, DefaultUpgradeTimeout, DefaultReplacementsTimeout, DefaultAlertsTimeout}},
		{"SoakDuration", []time.Duration{DefaultCanarySoakDuration, DefaultSoakDuration}},
	} {
		re := regexp.MustCompile(`\+kubebuilder:default="([^"]+)"\n(?:\s*//[^\n]*\n)*?\s*` + tc.field + ` \*metav1.Duration`)
		ms := re.FindAllSubmatch(src, -1)
		if len(ms) != len(tc.defaults) {
			t.Fatalf("%s: want %d default markers, found %d", tc.field, len(tc.defaults), len(ms))
		}
		for i, want := range tc.defaults {
			if got, _ := time.ParseDuration(string(ms[i][1])); got != want {
				t.Errorf("%s %d: marker %s, Go default %s", tc.field, i, got, want)
			}
		}
	}
}

func TestMaxBlockedNodes(t *testing.T) {
	three := int32(3)
	for _, tc := range []struct {
		name string
		spec DrainSpec
		want int
	}{
		{"without Cordon no node is ever blocked", DrainSpec{OnTimeout: DrainTimeoutFail}, 0},
		{"Cordon defaults to the budget", DrainSpec{OnTimeout: DrainTimeoutCordon}, 7},
		{"Cordon with a cap", DrainSpec{OnTimeout: DrainTimeoutCordon, MaxBlockedNodes: &three}, 3},
	} {
		s := ClusterUpgradeSpec{Drain: tc.spec}
		if got := s.MaxBlockedNodes(7); got != tc.want {
			t.Errorf("%s: MaxBlockedNodes(7) = %d, want %d", tc.name, got, tc.want)
		}
	}
}
