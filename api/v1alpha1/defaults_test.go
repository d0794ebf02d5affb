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
	marker := func(field string) time.Duration {
		t.Helper()
		re := regexp.MustCompile(`(?s)\+kubebuilder:default="([^"]+)"\n(?:\s*//[^\n]*\n)*?\s*` + field + ` `)
		m := re.FindSubmatch(src)
		if m == nil {
			t.Fatalf("no default marker for %s", field)
		}
		d, err := time.ParseDuration(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		field string
		got   time.Duration
	}{
		{"SoakDuration", DefaultSoakDuration},
	} {
		if want := marker(tc.field); tc.got != want {
			t.Errorf("%s: Go default %s, marker %s", tc.field, tc.got, want)
		}
	}
	// The two timeouts share a field name: their markers come in order.
	re := regexp.MustCompile(`\+kubebuilder:default="([^"]+)"\n(?:\s*//[^\n]*\n)*?\s*Timeout \*metav1.Duration`)
	ms := re.FindAllSubmatch(src, -1)
	if len(ms) != 2 {
		t.Fatalf("want the drain and upgrade timeout markers, found %d", len(ms))
	}
	for i, want := range []time.Duration{DefaultDrainTimeout, DefaultUpgradeTimeout} {
		if got, _ := time.ParseDuration(string(ms[i][1])); got != want {
			t.Errorf("timeout %d: marker %s, Go default %s", i, got, want)
		}
	}
}
