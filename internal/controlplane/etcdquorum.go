package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// EtcdHealthArgs are the arguments of etcdctl that EtcdQuorum reads the
// health of every member from: `endpoint health --cluster -w json`.
func EtcdHealthArgs() []string { return []string{"endpoint", "health", "--cluster", "-w", "json"} }

// EtcdStatusArgs are the arguments of etcdctl that EtcdQuorum reads the
// status of every member from: `endpoint status --cluster -w json`.
func EtcdStatusArgs() []string { return []string{"endpoint", "status", "--cluster", "-w", "json"} }

// EtcdEndpointHealth is one entry of what `etcdctl endpoint health -w json`
// prints: whether a member's client URL answered a read through consensus.
type EtcdEndpointHealth struct {
	// Endpoint is the client URL checked (https://10.0.0.11:2379).
	Endpoint string `json:"endpoint"`
	// Health is true when the read succeeded.
	Health bool `json:"health"`
	// Took is how long it took, as etcdctl prints a duration.
	Took string `json:"took"`
	// Error is why the endpoint is unhealthy; empty when it is healthy.
	Error string `json:"error,omitempty"`
}

// EtcdEndpointStatus is one entry of what `etcdctl endpoint status -w json`
// prints: one member's answer to the Status RPC, through one of its client
// URLs. A member that did not answer has no entry (etcdctl says so on
// stderr and exits 1).
type EtcdEndpointStatus struct {
	// Endpoint is the client URL asked.
	Endpoint string `json:"Endpoint"`
	// Status is the member's answer.
	Status EtcdStatus `json:"Status"`
}

// EtcdStatus is the part of etcd's StatusResponse that EtcdQuorum reads.
type EtcdStatus struct {
	// Header names the member that answered.
	Header EtcdHeader `json:"header"`
	// Version is the member's etcd version (3.6.16).
	Version string `json:"version"`
	// Leader is the member ID of the leader this member follows; 0 when it
	// knows none.
	Leader uint64 `json:"leader"`
	// RaftTerm is the member's raft term.
	RaftTerm uint64 `json:"raftTerm"`
	// Errors are the member's raised alarms and errors ("memberID:...
	// alarm:NOSPACE"); empty when there are none.
	Errors []string `json:"errors"`
	// IsLearner is true for a member that does not vote yet.
	IsLearner bool `json:"isLearner"`
}

// EtcdHeader is the response header of an etcd RPC.
type EtcdHeader struct {
	// ClusterID is the ID of the member's cluster.
	ClusterID uint64 `json:"cluster_id"`
	// MemberID is the ID of the member that answered.
	MemberID uint64 `json:"member_id"`
	// Revision is the key-value store's revision.
	Revision int64 `json:"revision"`
	// RaftTerm is the member's raft term.
	RaftTerm uint64 `json:"raft_term"`
}

// ParseEtcdHealth parses what `etcdctl endpoint health -w json` printed on
// its standard output (it prints the list also when it exits 1 for an
// unhealthy member).
func ParseEtcdHealth(out []byte) ([]EtcdEndpointHealth, error) {
	var h []EtcdEndpointHealth
	if err := parseJSONList(out, &h); err != nil {
		return nil, fmt.Errorf("etcdctl endpoint health: %w", err)
	}
	return h, nil
}

// ParseEtcdStatus parses what `etcdctl endpoint status -w json` printed on
// its standard output (it prints the members that answered also when it
// exits 1 for one that did not).
func ParseEtcdStatus(out []byte) ([]EtcdEndpointStatus, error) {
	var s []EtcdEndpointStatus
	if err := parseJSONList(out, &s); err != nil {
		return nil, fmt.Errorf("etcdctl endpoint status: %w", err)
	}
	return s, nil
}

// parseJSONList parses out, one JSON list, into v.
func parseJSONList(out []byte, v any) error {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return fmt.Errorf("printed nothing")
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("cannot read its output %q: %w", abbreviate(string(out), 200), err)
	}
	return nil
}

// EtcdReport is what EtcdQuorum found, for a status message.
type EtcdReport struct {
	// Members is how many distinct members answered endpoint status.
	Members int
	// Healthy is how many endpoints endpoint health found healthy.
	Healthy int
	// Leader is the member ID of the leader every member that answered
	// follows; 0 when they name none or disagree.
	Leader uint64
	// LeaderEndpoint is a client URL of the leader, when it answered.
	LeaderEndpoint string
}

// String is the report in words: "3 members, 3 healthy, leader
// 8e9e05c52164694d (https://10.0.0.11:2379)".
func (r EtcdReport) String() string {
	s := fmt.Sprintf("%d %s, %d healthy, ", r.Members, agree(r.Members, "member", "members"), r.Healthy)
	switch {
	case r.Leader == 0:
		return s + "no leader"
	case r.LeaderEndpoint == "":
		return s + fmt.Sprintf("leader %x", r.Leader)
	}
	return s + fmt.Sprintf("leader %x (%s)", r.Leader, r.LeaderEndpoint)
}

// EtcdQuorum judges an etcd cluster from etcdctl's endpoint health and
// endpoint status with --cluster, expecting expected members (one per
// etcd pod). The cluster has full quorum when
//
//   - every endpoint is healthy, and every one answered status;
//   - exactly expected distinct members answered status, none of them a
//     learner, all of one cluster;
//   - every one of them follows the same leader, which is one of them;
//   - none reports an alarm or error.
//
// It returns the report in every case, and an error that says everything
// that is wrong, naming the endpoints, when anything is.
func EtcdQuorum(health []EtcdEndpointHealth, status []EtcdEndpointStatus, expected int) (EtcdReport, error) {
	var r EtcdReport
	var problems []string
	if expected < 1 {
		problems = append(problems, "no etcd pod to expect members from")
	}
	if len(health) == 0 {
		problems = append(problems, "endpoint health listed no endpoint")
	}
	unhealthy := map[string]bool{}
	for _, h := range health {
		if h.Health {
			r.Healthy++
			continue
		}
		unhealthy[h.Endpoint] = true
		msg := h.Endpoint + " is unhealthy"
		if h.Error != "" {
			msg += ": " + h.Error
		}
		problems = append(problems, msg)
	}

	answered := map[string]bool{}
	members := map[uint64]string{} // member ID -> first endpoint it answered on
	clusters := map[uint64]bool{}
	for _, s := range status {
		answered[s.Endpoint] = true
		id := s.Status.Header.MemberID
		if _, seen := members[id]; !seen {
			members[id] = s.Endpoint
		}
		clusters[s.Status.Header.ClusterID] = true
		if len(s.Status.Errors) > 0 {
			problems = append(problems, fmt.Sprintf("%s reports %s", s.Endpoint, strings.Join(s.Status.Errors, ", ")))
		}
		if s.Status.IsLearner {
			problems = append(problems, fmt.Sprintf("%s is a learner, not yet a voting member", s.Endpoint))
		}
	}
	r.Members = len(members)
	for _, h := range health {
		if !answered[h.Endpoint] && !unhealthy[h.Endpoint] {
			problems = append(problems, fmt.Sprintf("%s gave no status", h.Endpoint))
		}
	}
	if expected >= 1 && r.Members != expected {
		problems = append(problems, fmt.Sprintf("%d members answered endpoint status, %d expected (one per etcd pod)", r.Members, expected))
	}
	if len(clusters) > 1 {
		problems = append(problems, fmt.Sprintf("the members belong to %d different clusters", len(clusters)))
	}

	leader, msg := agreedLeader(status, members)
	if msg != "" {
		problems = append(problems, msg)
	} else {
		r.Leader, r.LeaderEndpoint = leader, members[leader]
	}
	if len(problems) == 0 {
		return r, nil
	}
	return r, fmt.Errorf("etcd: %s", strings.Join(problems, "; "))
}

// agreedLeader returns the leader every status names, or says why there
// is none: a member that knows no leader, members that name different
// ones, or a leader that is not among members.
func agreedLeader(status []EtcdEndpointStatus, members map[uint64]string) (uint64, string) {
	if len(status) == 0 {
		return 0, "no member answered endpoint status, so no leader is known"
	}
	var noLeader []string
	byLeader := map[uint64][]string{}
	var leaders []uint64
	for _, s := range status {
		l := s.Status.Leader
		if l == 0 {
			noLeader = append(noLeader, s.Endpoint)
			continue
		}
		if _, seen := byLeader[l]; !seen {
			leaders = append(leaders, l)
		}
		byLeader[l] = append(byLeader[l], s.Endpoint)
	}
	switch {
	case len(noLeader) > 0:
		return 0, fmt.Sprintf("%s %s no leader", strings.Join(noLeader, ", "), agree(len(noLeader), "knows", "know"))
	case len(leaders) > 1:
		slices.Sort(leaders)
		var says []string
		for _, l := range leaders {
			eps := byLeader[l]
			says = append(says, fmt.Sprintf("%s %s %x", strings.Join(eps, ", "), agree(len(eps), "follows", "follow"), l))
		}
		return 0, "the members disagree on the leader: " + strings.Join(says, "; ")
	}
	if _, ok := members[leaders[0]]; !ok {
		return 0, fmt.Sprintf("the leader %x is not among the members that answered", leaders[0])
	}
	return leaders[0], ""
}

// agree returns the singular form of a word for one, its plural otherwise.
func agree(n int, singular, plural string) string {
	if n == 1 {
		return singular
	}
	return plural
}

// abbreviate cuts s to n bytes, marking the cut.
func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
