package version

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// semverRE is the regular expression the Semantic Versioning 2.0.0 spec
// suggests, with an optional leading "v". It is the oracle the fuzzer
// checks Parse against.
var semverRE = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// admissionRE is the pattern of the targetVersion CEL rule, read from the
// generated CRD, so the fuzzer also checks that admission and Parse agree:
// what the API server admits, the controller can parse, and the reverse.
var admissionRE = sync.OnceValues(func() (*regexp.Regexp, error) {
	crd, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "upgrade.nodewave.io_clusterupgrades.yaml"))
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`rule: self\.matches\('(\^v[^']*)'\)`).FindSubmatch(crd)
	if m == nil {
		return nil, os.ErrNotExist
	}
	return regexp.Compile(string(m[1]))
})

// maxFuzzLen is the longest input FuzzParse looks at.
const maxFuzzLen = 256

// FuzzParse checks, for any three strings, that Parse never panics; that
// it accepts exactly what the semver grammar and the CRD's admission rule
// accept (bar numbers too large for a uint64); that what it accepts
// round-trips through String, with or without the leading v; and that
// Compare is a total order on what it accepts: reflexive, antisymmetric,
// transitive, in {-1, 0, 1}, consistent with NewerThan and AtTarget.
//
// Seed corpus: testdata/fuzz/FuzzParse (go test runs it as a regular test).
func FuzzParse(f *testing.F) {
	for _, seed := range [][3]string{
		{"v1.37.2", "v1.36.3+k3s1", "v1.38.0-rc.1"},
		{"v1.30.4-eks-a737599", "1.30.4", "v1.30.4+k3s1"},
		{"v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-alpha"},
		{"v1.0.0-rc.1+build.5", "v1.0.0-rc.01", "v1.0.0-rc.1+build.6"},
		{"v18446744073709551616.0.0", "v1.2", "v18446744073709551615.0.0"},
		{"1.0.0-0A.-1+001", "v1.0.0--", "v1.0.0-0A.-1"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	re, err := admissionRE()
	if err != nil {
		f.Fatalf("reading the targetVersion rule from the CRD: %v", err)
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		// Versions are short (admission allows 64 bytes). Long inputs
		// teach nothing new and make the engine spend its time minimizing
		// them (up to a minute each, with no execs counted), so skip them.
		if len(a) > maxFuzzLen || len(b) > maxFuzzLen || len(c) > maxFuzzLen {
			return
		}
		var vs []Version
		for _, s := range []string{a, b, c} {
			v, err := Parse(s)
			checkAgainstSpec(t, s, err)
			checkAgainstAdmission(t, re, s, err)
			if err == nil {
				checkRoundTrip(t, s, v)
				vs = append(vs, v)
			}
		}
		for _, x := range vs {
			if c := x.Compare(x); c != 0 {
				t.Errorf("Compare(%s, itself) = %d", x, c)
			}
			if !AtTarget(x, x) {
				t.Errorf("AtTarget(%s, itself) = false", x)
			}
			for _, y := range vs {
				checkPair(t, x, y)
				for _, z := range vs {
					if x.Compare(y) <= 0 && y.Compare(z) <= 0 && x.Compare(z) > 0 {
						t.Errorf("not transitive: %s <= %s <= %s but %s > %s", x, y, z, x, z)
					}
				}
			}
		}
	})
}

// checkPair checks Compare, NewerThan and AtTarget on one ordered pair.
func checkPair(t *testing.T, x, y Version) {
	t.Helper()
	xy, yx := x.Compare(y), y.Compare(x)
	if xy < -1 || xy > 1 || xy != -yx {
		t.Errorf("Compare(%s, %s) = %d but Compare(%s, %s) = %d", x, y, xy, y, x, yx)
	}
	if x.NewerThan(y) != (xy > 0) {
		t.Errorf("%s.NewerThan(%s) = %v, Compare = %d", x, y, x.NewerThan(y), xy)
	}
	// Equal precedence means equal but for build metadata.
	if xy == 0 && (x.Major != y.Major || x.Minor != y.Minor || x.Patch != y.Patch || x.Pre != y.Pre) {
		t.Errorf("Compare(%s, %s) = 0 but they differ beyond build metadata", x, y)
	}
	wantAt := xy == 0 && (y.Build == "" || x.Build == y.Build)
	if got := AtTarget(x, y); got != wantAt {
		t.Errorf("AtTarget(kubelet %s, target %s) = %v, want %v", x, y, got, wantAt)
	}
}

// checkAgainstSpec checks that Parse accepted s exactly when the spec's
// regular expression matches it, except for numbers too large for a uint64.
func checkAgainstSpec(t *testing.T, s string, err error) {
	t.Helper()
	m := semverRE.FindStringSubmatch(s)
	switch {
	case err == nil && m == nil:
		t.Errorf("Parse(%q) accepted what the semver grammar rejects", s)
	case err != nil && m != nil && !tooLarge(err):
		t.Errorf("Parse(%q) rejected a valid semver: %v", s, err)
	}
}

// checkAgainstAdmission checks that, for a string with the leading v the
// CRD requires, the API server's rule admits it exactly when Parse accepts
// it, except for numbers too large for a uint64 (admitted; the controller
// reports them as InvalidSpec).
func checkAgainstAdmission(t *testing.T, re *regexp.Regexp, s string, err error) {
	t.Helper()
	admitted := re.MatchString(s)
	switch {
	case !strings.HasPrefix(s, "v"):
		if admitted {
			t.Errorf("admission admits %q, without the leading v", s)
		}
	case err == nil && !admitted:
		t.Errorf("Parse(%q) accepts what admission refuses", s)
	case err != nil && admitted && !tooLarge(err):
		t.Errorf("admission admits %q, which Parse refuses: %v", s, err)
	}
}

// tooLarge reports whether a Parse error is about a number beyond uint64.
func tooLarge(err error) bool {
	return strings.Contains(err.Error(), "does not fit in 64 bits")
}

// checkRoundTrip checks that String gives back the input (with a leading
// v), that parsing it again gives the same Version, and that the input
// with and without its leading v parses the same.
func checkRoundTrip(t *testing.T, s string, v Version) {
	t.Helper()
	if want := "v" + strings.TrimPrefix(s, "v"); v.String() != want {
		t.Errorf("Parse(%q).String() = %q, want %q", s, v.String(), want)
	}
	again, err := Parse(v.String())
	if err != nil || again != v {
		t.Errorf("Parse(%q) = %#v, %v; want %#v", v.String(), again, err, v)
	}
	bare, err := Parse(strings.TrimPrefix(v.String(), "v"))
	if err != nil || bare != v {
		t.Errorf("Parse(%q) = %#v, %v; want %#v", strings.TrimPrefix(v.String(), "v"), bare, err, v)
	}
}
