package version

import (
	"regexp"
	"strings"
	"testing"
)

// semverRE is the regular expression the Semantic Versioning 2.0.0 spec
// suggests, with an optional leading "v". It is the oracle the fuzzer
// checks Parse against.
var semverRE = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// FuzzParse checks that Parse never panics, agrees with the spec's regular
// expression, round-trips through String, and that Compare is a consistent
// order (reflexive and antisymmetric) on whatever it accepts.
func FuzzParse(f *testing.F) {
	for _, seed := range [][2]string{
		{"v1.37.2", "v1.36.3+k3s1"},
		{"v1.30.4-eks-a737599", "1.30.4"},
		{"v1.0.0-alpha.1", "v1.0.0-alpha.beta"},
		{"v1.0.0-rc.1+build.5", "v1.0.0-rc.01"},
		{"v18446744073709551616.0.0", "v1.2"},
		{"1.0.0-0A.-1+001", "v1.0.0--"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		checkAgainstSpec(t, a, errA)
		checkAgainstSpec(t, b, errB)
		if errA != nil || errB != nil {
			return
		}
		checkRoundTrip(t, a, va)
		checkRoundTrip(t, b, vb)

		if c := va.Compare(va); c != 0 {
			t.Errorf("Compare(%s, itself) = %d", va, c)
		}
		ab, ba := va.Compare(vb), vb.Compare(va)
		if ab < -1 || ab > 1 || ab != -ba {
			t.Errorf("Compare(%s, %s) = %d but Compare(%s, %s) = %d", va, vb, ab, vb, va, ba)
		}
		if va.NewerThan(vb) != (ab > 0) {
			t.Errorf("%s.NewerThan(%s) = %v, Compare = %d", va, vb, va.NewerThan(vb), ab)
		}
		if AtTarget(va, vb) && (ab != 0 || (vb.Build != "" && va.Build != vb.Build)) {
			t.Errorf("AtTarget(%s, %s) but Compare = %d", va, vb, ab)
		}
	})
}

// checkAgainstSpec checks that Parse accepted s exactly when the spec's
// regular expression matches it, except for numbers too large for a uint64.
func checkAgainstSpec(t *testing.T, s string, err error) {
	t.Helper()
	m := semverRE.FindStringSubmatch(s)
	switch {
	case err == nil && m == nil:
		t.Errorf("Parse(%q) accepted what the semver grammar rejects", s)
	case err != nil && m != nil && !strings.Contains(err.Error(), "does not fit in 64 bits"):
		t.Errorf("Parse(%q) rejected a valid semver: %v", s, err)
	}
}

// checkRoundTrip checks that String gives back the input (with a leading
// v) and that parsing it again gives the same Version.
func checkRoundTrip(t *testing.T, s string, v Version) {
	t.Helper()
	if want := "v" + strings.TrimPrefix(s, "v"); v.String() != want {
		t.Errorf("Parse(%q).String() = %q, want %q", s, v.String(), want)
	}
	again, err := Parse(v.String())
	if err != nil || again != v {
		t.Errorf("Parse(%q) = %#v, %v; want %#v", v.String(), again, err, v)
	}
}
