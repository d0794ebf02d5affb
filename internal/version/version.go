package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version as kubelets report it: vMAJOR.MINOR.PATCH[-pre][+build].
//
// Pre and Build hold the pre-release and build metadata parts without their
// leading "-" and "+"; they are empty when absent. The zero Version is
// v0.0.0.
type Version struct {
	Major, Minor, Patch uint64
	Pre, Build          string
}

// Parse parses a semantic version with an optional leading "v", such as
// "v1.37.2", "1.37.2", "v1.37.2-rc.1+k3s1".
//
// It accepts exactly the Semantic Versioning 2.0.0 grammar: three numeric
// parts without leading zeros that fit in a uint64; an optional pre-release
// of dot-separated, non-empty identifiers of [0-9A-Za-z-], numeric ones
// without leading zeros; an optional build part of dot-separated, non-empty
// identifiers of [0-9A-Za-z-]. Anything else (spaces, a "V", a missing part,
// "1.2", "1.2.3.4") is an error that says what is wrong.
func Parse(s string) (Version, error) {
	v, err := parse(s)
	if err != nil {
		return Version{}, fmt.Errorf("invalid version %q: %w", s, err)
	}
	return v, nil
}

// MustParse is Parse for tests and constants: it panics when s is not a
// valid version.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version in the form kubelets report it, always with a
// leading "v": "v1.37.2-rc.1+k3s1". Parse(v.String()) returns v for every
// parsed v.
func (v Version) String() string {
	var b strings.Builder
	b.Grow(len(v.Pre) + len(v.Build) + 16)
	b.WriteByte('v')
	b.WriteString(strconv.FormatUint(v.Major, 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatUint(v.Minor, 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatUint(v.Patch, 10))
	if v.Pre != "" {
		b.WriteByte('-')
		b.WriteString(v.Pre)
	}
	if v.Build != "" {
		b.WriteByte('+')
		b.WriteString(v.Build)
	}
	return b.String()
}

// parse does the work of Parse; its errors do not repeat the input.
func parse(s string) (Version, error) {
	if s == "" {
		return Version{}, errors.New("empty string")
	}
	rest := strings.TrimPrefix(s, "v")
	if rest == "" {
		return Version{}, errors.New("nothing after the leading v")
	}

	// The build part starts at the first "+"; the pre-release at the first
	// "-" before it (the numeric core holds neither). Parts are checked from
	// left to right, so the error names the first thing wrong.
	var v Version
	var hasPre, hasBuild bool
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.Build, hasBuild, rest = rest[i+1:], true, rest[:i]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		v.Pre, hasPre, rest = rest[i+1:], true, rest[:i]
	}

	if rest == "" {
		return Version{}, errors.New("missing MAJOR.MINOR.PATCH")
	}
	// Cut, not Split: a kubelet version is parsed for each node on every
	// pass, and Split's slice was a sixteenth of the manager's allocations
	// at 5,000 nodes.
	if n := strings.Count(rest, ".") + 1; n != 3 {
		return Version{}, fmt.Errorf("want MAJOR.MINOR.PATCH, got %d dot-separated part(s) in %q", n, rest)
	}
	major, minorPatch, _ := strings.Cut(rest, ".")
	minor, patch, _ := strings.Cut(minorPatch, ".")
	parts := [3]string{major, minor, patch}
	for i, name := range [3]string{"major", "minor", "patch"} {
		n, err := parseNumber(name, parts[i])
		if err != nil {
			return Version{}, err
		}
		switch i {
		case 0:
			v.Major = n
		case 1:
			v.Minor = n
		default:
			v.Patch = n
		}
	}
	if hasPre {
		if err := checkIdentifiers("pre-release", v.Pre, true); err != nil {
			return Version{}, err
		}
	}
	if hasBuild {
		if err := checkIdentifiers("build metadata", v.Build, false); err != nil {
			return Version{}, err
		}
	}
	return v, nil
}

// parseNumber parses one of MAJOR, MINOR and PATCH.
func parseNumber(name, s string) (uint64, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("%s version is empty", name)
	case !allDigits(s):
		return 0, fmt.Errorf("%s version %q is not a number", name, s)
	case len(s) > 1 && s[0] == '0':
		return 0, fmt.Errorf("%s version %q has a leading zero", name, s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s version %q does not fit in 64 bits", name, s)
	}
	return n, nil
}

// checkIdentifiers checks the dot-separated identifiers of a pre-release
// (numeric, true: numeric identifiers may not have leading zeros) or of
// build metadata (numeric, false: they may).
func checkIdentifiers(what, s string, numeric bool) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	for i, id := range strings.Split(s, ".") {
		if id == "" {
			return fmt.Errorf("%s %q has an empty identifier (number %d)", what, s, i+1)
		}
		for j := 0; j < len(id); j++ {
			if !isIdentChar(id[j]) {
				return fmt.Errorf("%s identifier %q holds %q; only 0-9, A-Z, a-z and '-' are allowed", what, id, id[j])
			}
		}
		if numeric && len(id) > 1 && id[0] == '0' && allDigits(id) {
			return fmt.Errorf("%s identifier %q is numeric with a leading zero", what, id)
		}
	}
	return nil
}

// isIdentChar reports whether c may appear in a pre-release or build identifier.
func isIdentChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-'
}

// allDigits reports whether s is non-empty and all ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
