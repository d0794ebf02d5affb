package controlplane

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The files under testdata/etcd-*/ are what etcdctl v3.6.16 printed
// against a real three-member cluster (TestEtcdQuorumOnRealClusterWhenBinariesPresent
// with -update-golden): etcd-healthy with every member up, etcd-member-down
// with the member named in its file killed (a follower).

// golden is one captured run.
type golden struct {
	healthRaw, statusRaw []byte
	health               []EtcdEndpointHealth
	status               []EtcdEndpointStatus
	killed               string
}

func loadGolden(t *testing.T, name string) golden {
	t.Helper()
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name, f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	g := golden{healthRaw: read("health.json"), statusRaw: read("status.json")}
	if name == "etcd-member-down" {
		g.killed = strings.TrimSpace(string(read("killed")))
	}
	var err error
	if g.health, err = ParseEtcdHealth(g.healthRaw); err != nil {
		t.Fatal(err)
	}
	if g.status, err = ParseEtcdStatus(g.statusRaw); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestEtcdQuorumGoldenHealthy(t *testing.T) {
	g := loadGolden(t, "etcd-healthy")
	r, err := EtcdQuorum(g.health, g.status, 3)
	if err != nil {
		t.Fatalf("EtcdQuorum: %v", err)
	}
	if r.Members != 3 || r.Healthy != 3 {
		t.Errorf("EtcdQuorum: %+v, want 3 members, 3 healthy", r)
	}
	// The leader is the member whose own ID is the leader every member
	// names: read from the raw JSON, not through the parser.
	leaders := regexp.MustCompile(`"leader":(\d+)`).FindAllStringSubmatch(string(g.statusRaw), -1)
	if len(leaders) != 3 || leaders[0][1] != leaders[1][1] || leaders[1][1] != leaders[2][1] {
		t.Fatalf("golden status.json does not name one leader thrice: %q", leaders)
	}
	if got := strconv.FormatUint(r.Leader, 10); got != leaders[0][1] {
		t.Errorf("leader %s, want %s", got, leaders[0][1])
	}
	for _, s := range g.status {
		if s.Status.Header.MemberID == r.Leader && s.Endpoint != r.LeaderEndpoint {
			t.Errorf("leader endpoint %s, want %s", r.LeaderEndpoint, s.Endpoint)
		}
	}
	want := fmt.Sprintf("3 members, 3 healthy, leader %x (%s)", r.Leader, r.LeaderEndpoint)
	if r.String() != want {
		t.Errorf("report %q, want %q", r, want)
	}
	for _, expected := range []int{2, 4} {
		if _, err := EtcdQuorum(g.health, g.status, expected); err == nil {
			t.Errorf("EtcdQuorum expecting %d members of 3: nil error", expected)
		}
	}
}

func TestEtcdQuorumGoldenMemberDown(t *testing.T) {
	g := loadGolden(t, "etcd-member-down")
	r, err := EtcdQuorum(g.health, g.status, 3)
	if err == nil {
		t.Fatalf("EtcdQuorum with %s down: nil error, %s", g.killed, r)
	}
	for _, w := range []string{g.killed + " is unhealthy", "2 members answered endpoint status, 3 expected"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("EtcdQuorum: %q\ndoes not say %q", err, w)
		}
	}
	for _, h := range g.health {
		if h.Endpoint != g.killed && strings.Contains(err.Error(), h.Endpoint+" is unhealthy") {
			t.Errorf("EtcdQuorum calls %s unhealthy: %q", h.Endpoint, err)
		}
	}
	// The two left still follow one leader.
	if r.Members != 2 || r.Healthy != 2 || r.Leader == 0 {
		t.Errorf("EtcdQuorum: %+v, want 2 members, 2 healthy, and the leader", r)
	}
}

// Each case breaks one thing in the healthy golden run.
func TestEtcdQuorumProblems(t *testing.T) {
	g := loadGolden(t, "etcd-healthy")
	leader := g.status[0].Status.Leader
	var follower, leaderEndpoint string
	for _, s := range g.status {
		if s.Status.Header.MemberID == leader {
			leaderEndpoint = s.Endpoint
		} else if follower == "" {
			follower = s.Endpoint
		}
	}
	if leaderEndpoint == "" || follower == "" {
		t.Fatalf("golden status.json has no leader and follower: %+v", g.status)
	}
	statusOf := func(ep string, st []EtcdEndpointStatus) *EtcdStatus {
		for i := range st {
			if st[i].Endpoint == ep {
				return &st[i].Status
			}
		}
		t.Fatalf("no status of %s", ep)
		return nil
	}
	tests := []struct {
		name     string
		expected int
		health   func([]EtcdEndpointHealth) []EtcdEndpointHealth
		status   func([]EtcdEndpointStatus) []EtcdEndpointStatus
		want     []string // substrings of the error; none for no error
	}{
		{name: "healthy", expected: 3},
		{name: "an unhealthy endpoint", expected: 3,
			health: func(h []EtcdEndpointHealth) []EtcdEndpointHealth {
				for i := range h {
					if h[i].Endpoint == follower {
						h[i].Health, h[i].Error = false, "Active Alarm(s): NOSPACE"
					}
				}
				return h
			},
			want: []string{"etcd: " + follower + " is unhealthy: Active Alarm(s): NOSPACE"}},
		{name: "an alarm in a status", expected: 3,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				statusOf(follower, s).Errors = []string{"memberID:1234 alarm:NOSPACE", "memberID:1234 alarm:CORRUPT"}
				return s
			},
			want: []string{follower + " reports memberID:1234 alarm:NOSPACE, memberID:1234 alarm:CORRUPT"}},
		{name: "a learner", expected: 3,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				statusOf(follower, s).IsLearner = true
				return s
			},
			want: []string{follower + " is a learner, not yet a voting member"}},
		{name: "a member that knows no leader", expected: 3,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				statusOf(follower, s).Leader = 0
				return s
			},
			want: []string{follower + " knows no leader"}},
		{name: "members that disagree on the leader", expected: 3,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				statusOf(follower, s).Leader = statusOf(follower, s).Header.MemberID
				return s
			},
			want: []string{"the members disagree on the leader", follower + " follows ", " follow " + strconv.FormatUint(leader, 16)}},
		{name: "a leader that did not answer", expected: 2,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				return slices.DeleteFunc(s, func(e EtcdEndpointStatus) bool { return e.Endpoint == leaderEndpoint })
			},
			want: []string{leaderEndpoint + " gave no status", fmt.Sprintf("the leader %x is not among the members that answered", leader)}},
		{name: "fewer members than etcd pods", expected: 4,
			want: []string{"3 members answered endpoint status, 4 expected (one per etcd pod)"}},
		{name: "a member answering on two client URLs counts once", expected: 3,
			health: func(h []EtcdEndpointHealth) []EtcdEndpointHealth {
				return append(h, EtcdEndpointHealth{Endpoint: "https://cp-1.example:2379", Health: true})
			},
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				second := s[0]
				second.Endpoint = "https://cp-1.example:2379"
				return append(s, second)
			}},
		{name: "members of two clusters", expected: 3,
			status: func(s []EtcdEndpointStatus) []EtcdEndpointStatus {
				statusOf(follower, s).Header.ClusterID++
				return s
			},
			want: []string{"the members belong to 2 different clusters"}},
		{name: "no health", expected: 3,
			health: func([]EtcdEndpointHealth) []EtcdEndpointHealth { return nil },
			want:   []string{"endpoint health listed no endpoint"}},
		{name: "no status", expected: 3,
			status: func([]EtcdEndpointStatus) []EtcdEndpointStatus { return nil },
			want: []string{"gave no status", "0 members answered endpoint status, 3 expected",
				"no member answered endpoint status, so no leader is known"}},
		{name: "no etcd pod", expected: 0, want: []string{"no etcd pod to expect members from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, s := slices.Clone(g.health), slices.Clone(g.status)
			if tt.health != nil {
				h = tt.health(h)
			}
			if tt.status != nil {
				s = tt.status(s)
			}
			r, err := EtcdQuorum(h, s, tt.expected)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("EtcdQuorum: %v, want nil", err)
				}
				if r.Members != tt.expected || r.Leader != leader {
					t.Errorf("EtcdQuorum: %+v, want %d members and leader %x", r, tt.expected, leader)
				}
				return
			}
			if err == nil {
				t.Fatalf("EtcdQuorum: nil, %s; want an error saying %q", r, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("EtcdQuorum: %q\ndoes not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "%!") {
				t.Errorf("EtcdQuorum: %q is badly formatted", err)
			}
		})
	}
}

func TestParseEtcd(t *testing.T) {
	g := loadGolden(t, "etcd-healthy")
	// Member IDs are 64-bit: they must come through exactly, not as
	// float64s. Read them from the raw JSON, not through the parser.
	ids := regexp.MustCompile(`"member_id":(\d+)`).FindAllStringSubmatch(string(g.statusRaw), -1)
	if len(ids) != len(g.status) {
		t.Fatalf("%d member_id in status.json, %d statuses parsed", len(ids), len(g.status))
	}
	for i, id := range ids {
		if got := strconv.FormatUint(g.status[i].Status.Header.MemberID, 10); got != id[1] {
			t.Errorf("status %d: member ID %s, want %s", i, got, id[1])
		}
	}
	if g.status[0].Status.Version != "3.6.16" {
		t.Errorf("version %q, want 3.6.16", g.status[0].Status.Version)
	}
	healthy := regexp.MustCompile(`"health":true`).FindAllString(string(g.healthRaw), -1)
	if len(g.health) != 3 || len(healthy) != 3 {
		t.Errorf("%d health entries (%d healthy in the JSON), want 3", len(g.health), len(healthy))
	}
	for i, h := range g.health {
		if !h.Health || !strings.HasPrefix(h.Endpoint, "https://127.0.0.1:") || h.Took == "" {
			t.Errorf("health %d: %+v", i, h)
		}
	}

	for _, tt := range []struct{ name, out, want string }{
		{"nothing", "\n", "printed nothing"},
		{"not JSON", "Error: context deadline exceeded\n", `cannot read its output "Error: context deadline exceeded"`},
		{"a table", "+----+\n| ID |\n+----+\n", "cannot read its output"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseEtcdHealth([]byte(tt.out)); err == nil || !strings.Contains(err.Error(), "etcdctl endpoint health: "+tt.want) {
				t.Errorf("ParseEtcdHealth(%q): %v, want an error saying %q", tt.out, err, tt.want)
			}
			if _, err := ParseEtcdStatus([]byte(tt.out)); err == nil || !strings.Contains(err.Error(), "etcdctl endpoint status: "+tt.want) {
				t.Errorf("ParseEtcdStatus(%q): %v, want an error saying %q", tt.out, err, tt.want)
			}
		})
	}
}

func TestEtcdReportString(t *testing.T) {
	for _, tt := range []struct {
		r    EtcdReport
		want string
	}{
		{EtcdReport{Members: 3, Healthy: 3, Leader: 0x8e9e05c52164694d, LeaderEndpoint: "https://10.0.0.11:2379"},
			"3 members, 3 healthy, leader 8e9e05c52164694d (https://10.0.0.11:2379)"},
		{EtcdReport{Members: 2, Healthy: 2, Leader: 0x8e9e05c52164694d}, "2 members, 2 healthy, leader 8e9e05c52164694d"},
		{EtcdReport{Members: 1, Healthy: 0}, "1 member, 0 healthy, no leader"},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
	}
}
