package plan

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

func TestMaxUnavailable(t *testing.T) {
	concurrent := func(v intstr.IntOrString) upgradev1alpha1.UpgradeStrategy {
		return upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy, MaxUnavailable: &v}
	}
	for _, tc := range []struct {
		name     string
		strategy upgradev1alpha1.UpgradeStrategy
		total    int
		want     int
		wantErr  bool
	}{
		{"sequential is one", upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.SequentialStrategy}, 500, 1, false},
		{"empty type is sequential", upgradev1alpha1.UpgradeStrategy{}, 500, 1, false},
		{"count", concurrent(intstr.FromInt32(3)), 20, 3, false},
		{"count larger than the pool", concurrent(intstr.FromInt32(50)), 20, 50, false},
		{"10% of 1000", concurrent(intstr.FromString("10%")), 1000, 100, false},
		{"25% of 20", concurrent(intstr.FromString("25%")), 20, 5, false},
		{"25% of 10 rounds down", concurrent(intstr.FromString("25%")), 10, 2, false},
		{"33% of 10 rounds down", concurrent(intstr.FromString("33%")), 10, 3, false},
		{"99% of 10 rounds down", concurrent(intstr.FromString("99%")), 10, 9, false},
		{"1% of 10 is at least one", concurrent(intstr.FromString("1%")), 10, 1, false},
		{"10% of 0 nodes is still one", concurrent(intstr.FromString("10%")), 0, 1, false},
		{"100%", concurrent(intstr.FromString("100%")), 7, 7, false},
		{"count zero fails closed", concurrent(intstr.FromInt32(0)), 10, 0, true},
		{"0% fails closed", concurrent(intstr.FromString("0%")), 10, 0, true},
		{"101% fails closed", concurrent(intstr.FromString("101%")), 10, 0, true},
		{"no percent sign fails closed", concurrent(intstr.FromString("10")), 10, 0, true},
		{"missing fails closed", upgradev1alpha1.UpgradeStrategy{Type: upgradev1alpha1.ConcurrentStrategy}, 10, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MaxUnavailable(tc.strategy, tc.total)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("MaxUnavailable = %d, want %d", got, tc.want)
			}
		})
	}
}
