package version

import "strings"

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than o, by the rules of Semantic Versioning 2.0.0:
//
//   - MAJOR, MINOR and PATCH compare numerically, in that order;
//   - a pre-release version is lower than the same version without one;
//   - pre-releases compare identifier by identifier from the left: numeric
//     identifiers numerically, alphanumeric ones in ASCII order, and a
//     numeric identifier is lower than an alphanumeric one; when all shared
//     identifiers are equal, the one with fewer identifiers is lower;
//   - Build is ignored: v1.36.3+k3s1 and v1.36.3+k3s2 compare equal.
func (v Version) Compare(o Version) int {
	if c := compareUint(v.Major, o.Major); c != 0 {
		return c
	}
	if c := compareUint(v.Minor, o.Minor); c != 0 {
		return c
	}
	if c := compareUint(v.Patch, o.Patch); c != 0 {
		return c
	}
	return comparePre(v.Pre, o.Pre)
}

// NewerThan reports whether v has higher precedence than o (build ignored).
func (v Version) NewerThan(o Version) bool {
	return v.Compare(o) > 0
}

// AtTarget reports whether a kubelet reporting `kubelet` satisfies `target`:
// same precedence, and when target has a +build part the kubelet's build
// must equal it exactly (target without build: any build matches).
//
// So a kubelet at v1.36.3+k3s1 satisfies targets v1.36.3 and v1.36.3+k3s1,
// but not v1.36.3+k3s2; and v1.36.3-rc.1 does not satisfy v1.36.3.
func AtTarget(kubelet, target Version) bool {
	if kubelet.Compare(target) != 0 {
		return false
	}
	return target.Build == "" || kubelet.Build == target.Build
}

// compareUint returns -1, 0 or +1 as a is less than, equal to or greater than b.
func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// comparePre orders two pre-release strings, "" (a release) being highest.
func comparePre(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := compareIdentifier(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return compareUint(uint64(len(as)), uint64(len(bs)))
}

// compareIdentifier orders two pre-release identifiers. Numeric identifiers
// have no leading zeros (Parse rejects them), so the longer one is larger
// and equal lengths compare as strings: no size limit, no overflow.
func compareIdentifier(a, b string) int {
	an, bn := allDigits(a), allDigits(b)
	switch {
	case an && bn:
		if c := compareUint(uint64(len(a)), uint64(len(b))); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

// NewerRelease reports whether a's release, MAJOR.MINOR.PATCH without its
// pre-release and build parts, is newer than b's. The version-skew check
// uses it: even a newer patch release of the kubelet waits for the
// control plane, while a distribution suffix (v1.29.8-gke.1211000, which
// semver ranks below v1.29.8) does not hold back a v1.29.8 target.
func NewerRelease(a, b Version) bool {
	release := func(v Version) Version { return Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch} }
	return release(a).NewerThan(release(b))
}
