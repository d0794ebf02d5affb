package version

import "testing"

// sign maps a comparison result to -1, 0 or +1.
func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// TestComparePrecedenceChain checks every pair of the precedence example
// of the Semantic Versioning 2.0.0 spec (item 11), plus the cores before it.
func TestComparePrecedenceChain(t *testing.T) {
	chain := []string{
		"0.0.0", "0.0.1", "0.1.0", "0.9.9", "0.10.0",
		"1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10",
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"1.0.1-rc.1", "1.0.1", "1.9.0", "1.10.0", "1.11.0", "2.0.0", "10.0.0",
	}
	for i := range chain {
		for j := range chain {
			a, b := MustParse(chain[i]), MustParse(chain[j])
			want := sign(i - j)
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
			if got := a.NewerThan(b); got != (i > j) {
				t.Errorf("%s.NewerThan(%s) = %v, want %v", a, b, got, i > j)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v1.37.2", "1.37.2", 0},                                                 // the leading v is not part of the version
		{"v1.36.3+k3s1", "v1.36.3+k3s2", 0},                                      // build ignored
		{"v1.36.3+k3s1", "v1.36.3", 0},                                           // build ignored
		{"v1.0.0-rc.1+b1", "v1.0.0-rc.1+b2", 0},                                  // build ignored with a pre-release too
		{"v1.30.4-eks-a737599", "v1.30.4", -1},                                   // a suffix as pre-release is lower
		{"v1.30.4-eks-a737599", "v1.30.3", 1},                                    // but higher than the patch before
		{"v1.30.4-eks-a737599", "v1.30.4-eks-b000000", -1},                       // ASCII order
		{"v1.0.0-Alpha", "v1.0.0-alpha", -1},                                     // ASCII: upper case before lower case
		{"v1.0.0-1", "v1.0.0--1", -1},                                            // numeric < alphanumeric "-1"
		{"v1.0.0-999", "v1.0.0-a", -1},                                           // numeric < alphanumeric
		{"v1.0.0-0A", "v1.0.0-1", 1},                                             // "0A" is alphanumeric
		{"v1.0.0-9", "v1.0.0-10", -1},                                            // numerically, not as strings
		{"v1.0.0-99999999999999999999998", "v1.0.0-99999999999999999999999", -1}, // beyond uint64
		{"v1.0.0-99999999999999999999999", "v1.0.0-9999999999999999999999", 1},
		{"v1.0.0-a.b.c", "v1.0.0-a.b", 1},          // more identifiers, equal prefix: higher
		{"v1.0.0-a.1", "v1.0.0-a.a", -1},           // numeric < alphanumeric at position 2
		{"v2.0.0", "v1.999.999", 1},                // major first
		{"v1.2.0", "v1.1.99", 1},                   // then minor
		{"v18446744073709551615.0.0", "v1.0.0", 1}, // no overflow
		{"v0.0.0", "v18446744073709551615.0.0", -1},
	} {
		a, b := MustParse(tc.a), MustParse(tc.b)
		if got := a.Compare(b); got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := b.Compare(a); got != -tc.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
		if got := a.NewerThan(b); got != (tc.want > 0) {
			t.Errorf("%s.NewerThan(%s) = %v, want %v", tc.a, tc.b, got, tc.want > 0)
		}
	}
}

func TestAtTarget(t *testing.T) {
	for _, tc := range []struct {
		kubelet, target string
		want            bool
	}{
		{"v1.37.2", "v1.37.2", true},
		{"v1.37.2", "1.37.2", true},
		{"v1.37.1", "v1.37.2", false},
		{"v1.37.3", "v1.37.2", false}, // newer is not "at" the target
		{"v1.38.0", "v1.37.2", false},
		// target without build: any build matches
		{"v1.36.3+k3s1", "v1.36.3", true},
		{"v1.36.3+rke2r1", "v1.36.3", true},
		// target with build: the kubelet's build must be exactly it
		{"v1.36.3+k3s1", "v1.36.3+k3s1", true},
		{"v1.36.3+k3s2", "v1.36.3+k3s1", false},
		{"v1.36.3", "v1.36.3+k3s1", false},
		{"v1.36.3+k3s1.1", "v1.36.3+k3s1", false}, // exact, not a prefix
		{"v1.36.3+K3S1", "v1.36.3+k3s1", false},   // case-sensitive
		{"v1.36.4+k3s1", "v1.36.3+k3s1", false},   // build equal, version not
		// pre-releases are part of the precedence
		{"v1.30.4-eks-a737599", "v1.30.4-eks-a737599", true},
		{"v1.30.4-eks-a737599", "v1.30.4", false},
		{"v1.30.4", "v1.30.4-eks-a737599", false},
		{"v1.37.2-rc.1", "v1.37.2", false},
		{"v1.37.2-rc.1+k3s1", "v1.37.2-rc.1+k3s1", true},
		{"v1.37.2-rc.1+k3s1", "v1.37.2-rc.1", true},
		{"v1.37.2-rc.2+k3s1", "v1.37.2-rc.1+k3s1", false},
	} {
		if got := AtTarget(MustParse(tc.kubelet), MustParse(tc.target)); got != tc.want {
			t.Errorf("AtTarget(kubelet %s, target %s) = %v, want %v", tc.kubelet, tc.target, got, tc.want)
		}
	}
}

func TestNewerRelease(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"v1.37.2", "v1.37.1", true},
		{"v1.37.2", "v1.37.2", false},
		{"v1.37.2", "v1.37.2-gke.1211000", false}, // a distribution suffix is the same release
		{"v1.37.2-rc.1", "v1.37.1", true},
		{"v1.36.9", "v1.37.0", false},
	} {
		if got := NewerRelease(MustParse(tc.a), MustParse(tc.b)); got != tc.want {
			t.Errorf("NewerRelease(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
