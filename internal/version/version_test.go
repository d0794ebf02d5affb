package version

import (
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
	}{
		{"v1.37.2", Version{Major: 1, Minor: 37, Patch: 2}},
		{"1.37.2", Version{Major: 1, Minor: 37, Patch: 2}},
		{"v0.0.0", Version{}},
		{"v1.36.3+k3s1", Version{Major: 1, Minor: 36, Patch: 3, Build: "k3s1"}},
		{"v1.30.4-eks-a737599", Version{Major: 1, Minor: 30, Patch: 4, Pre: "eks-a737599"}},
		{"v1.29.8-gke.1211000", Version{Major: 1, Minor: 29, Patch: 8, Pre: "gke.1211000"}},
		{"v1.37.2-rc.1+k3s1", Version{Major: 1, Minor: 37, Patch: 2, Pre: "rc.1", Build: "k3s1"}},
		{"v1.0.0-0.3.7", Version{Major: 1, Pre: "0.3.7"}},
		{"v1.0.0-x.7.z.92", Version{Major: 1, Pre: "x.7.z.92"}},
		{"v1.0.0-x-y-z.--", Version{Major: 1, Pre: "x-y-z.--"}},
		{"v1.0.0-alpha+001", Version{Major: 1, Pre: "alpha", Build: "001"}},   // build identifiers may have leading zeros
		{"v1.0.0+20130313144700", Version{Major: 1, Build: "20130313144700"}}, // numeric build
		{"v1.0.0-beta+exp.sha.5114f85", Version{Major: 1, Pre: "beta", Build: "exp.sha.5114f85"}},
		{"v1.0.0+21AF26D3----117B344092BD", Version{Major: 1, Build: "21AF26D3----117B344092BD"}},
		{"v1.0.0-0A", Version{Major: 1, Pre: "0A"}},                                     // alphanumeric: a leading zero is fine
		{"v1.0.0--1", Version{Major: 1, Pre: "-1"}},                                     // "-1" is an alphanumeric identifier
		{"v1.0.0-rc-1+build-1", Version{Major: 1, Pre: "rc-1", Build: "build-1"}},       // '-' in both parts
		{"v1.0.0+build-with-dash-1.2", Version{Major: 1, Build: "build-with-dash-1.2"}}, // a '-' after '+' is build, not pre
		{"v1.2.3-99999999999999999999999", Version{Major: 1, Minor: 2, Patch: 3, Pre: "99999999999999999999999"}},
		{"v18446744073709551615.0.0", Version{Major: math.MaxUint64}},
		{"v0.18446744073709551615.1", Version{Minor: math.MaxUint64, Patch: 1}},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
		want := tc.in
		if !strings.HasPrefix(want, "v") {
			want = "v" + want
		}
		if s := got.String(); s != want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr string // a part of the error that says what is wrong
	}{
		{"", "empty string"},
		{"v", "nothing after the leading v"},
		{"V1.2.3", `major version "V1" is not a number`},
		{"vv1.2.3", `major version "v1" is not a number`},
		{" v1.2.3", `major version " v1" is not a number`},
		{"v1.2.3 ", `patch version "3 " is not a number`},
		{"v1.2", "got 2 dot-separated part(s)"},
		{"v1", "got 1 dot-separated part(s)"},
		{"v1.2.3.4", "got 4 dot-separated part(s)"},
		{"v1..3", "minor version is empty"},
		{"v.2.3", "major version is empty"},
		{"v1.2.", "patch version is empty"},
		{"v01.2.3", `major version "01" has a leading zero`},
		{"v1.02.3", `minor version "02" has a leading zero`},
		{"v1.2.00", `patch version "00" has a leading zero`},
		{"v1.2.x", `patch version "x" is not a number`},
		{"v+1.2.3", "missing MAJOR.MINOR.PATCH"},
		{"v-1.2.3", "missing MAJOR.MINOR.PATCH"},
		{"v01.2.3-rc..1", "leading zero"}, // the first thing wrong, from the left
		{"v1.2.3-rc..1+b..1", "pre-release"},
		{"v18446744073709551616.0.0", "does not fit in 64 bits"},
		{"v1.2.3-", "pre-release is empty"},
		{"v1.2.3+", "build metadata is empty"},
		{"v1.2.3-+b", "pre-release is empty"},
		{"v1.2.3-rc..1", "empty identifier (number 2)"},
		{"v1.2.3-rc.", "empty identifier (number 2)"},
		{"v1.2.3-.rc", "empty identifier (number 1)"},
		{"v1.2.3+b..1", "build metadata \"b..1\" has an empty identifier"},
		{"v1.2.3-rc.01", `pre-release identifier "01" is numeric with a leading zero`},
		{"v1.2.3-00", "numeric with a leading zero"},
		{"v1.2.3-rc_1", `pre-release identifier "rc_1" holds '_'`},
		{"v1.2.3-rc 1", "holds ' '"},
		{"v1.2.3+k3s 1", `build metadata identifier "k3s 1" holds ' '`},
		{"v1.2.3+k3s+1", "holds '+'"},
		{"v1.2.3-é", "pre-release identifier"},
		{"v1.2.3\n", "is not a number"},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q): want an error containing %q, got none", tc.in, tc.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tc.in, err, tc.wantErr)
		}
		if !strings.HasPrefix(err.Error(), "invalid version ") {
			t.Errorf("Parse(%q) error = %q, want it to name the input", tc.in, err)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		v    Version
		want string
	}{
		{Version{}, "v0.0.0"},
		{Version{Major: 1, Minor: 37, Patch: 2, Pre: "rc.1", Build: "k3s1"}, "v1.37.2-rc.1+k3s1"},
		{Version{Major: 1, Minor: 36, Patch: 3, Build: "k3s1"}, "v1.36.3+k3s1"},
		{Version{Major: 10, Minor: 200, Patch: 3000, Pre: "alpha"}, "v10.200.3000-alpha"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("1.2.3-rc.1"); got != (Version{Major: 1, Minor: 2, Patch: 3, Pre: "rc.1"}) {
		t.Errorf("MustParse = %#v", got)
	}
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("MustParse(\"1.2\") did not panic")
		}
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), `invalid version "1.2"`) {
			t.Errorf("MustParse panicked with %v, want the parse error", r)
		}
	}()
	MustParse("1.2")
}
