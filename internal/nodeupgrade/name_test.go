package nodeupgrade

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// longNode is a 253-character node name, the most a DNS subdomain holds.
var longNode = strings.Repeat("abcdefghi.", 25) + "xyz"

func TestJobName(t *testing.T) {
	for _, tc := range []struct {
		name, cu, node, target string
		wantPrefix             string // the name up to the hash
		wantLen                int
	}{
		{"short node", "fleet", "worker-1", "v1.37.2", "nodewave-worker-1-", 28},
		{"dots become dashes", "fleet", "ip-10-0-1-23.eu-west-1.compute.internal", "v1.37.2",
			"nodewave-ip-10-0-1-23-eu-west-1-compute-internal-", 59},
		{"node part of exactly 43 characters", "fleet", strings.Repeat("n", 43), "v1.37.2",
			"nodewave-" + strings.Repeat("n", 43) + "-", 63},
		{"node part cut to 43 characters", "fleet", strings.Repeat("n", 44), "v1.37.2",
			"nodewave-" + strings.Repeat("n", 43) + "-", 63},
		{"253 characters with dots", "fleet", longNode, "v1.37.2",
			"nodewave-abcdefghi-abcdefghi-abcdefghi-abcdefghi-abc-", 63},
		{"a dot at the cut is trimmed, not left as a trailing dash", "fleet", strings.Repeat("a", 42) + ".b", "v1",
			"nodewave-" + strings.Repeat("a", 42) + "-", 62},
		{"upper case is lowered", "fleet", "Worker-A", "v1.37.2", "nodewave-worker-a-", 28},
		{"other characters become dashes", "fleet", "node_1:x", "v1.37.2", "nodewave-node-1-x-", 28},
		{"leading and trailing separators are trimmed", "fleet", ".-node-.", "v1.37.2", "nodewave-node-", 24},
		{"empty node name", "fleet", "", "v1.37.2", "nodewave-", 19},
		{"nothing readable", "fleet", "...", "v1.37.2", "nodewave-", 19},
		{"non-ASCII, byte by byte", "fleet", "nœud", "v1.37.2", "nodewave-n--ud-", 25},
	} {
		got := JobName(tc.cu, tc.node, tc.target)
		if !strings.HasPrefix(got, tc.wantPrefix) || len(got) != tc.wantLen {
			t.Errorf("%s: JobName = %q (%d chars), want %q + 10 hex chars (%d chars)", tc.name, got, len(got), tc.wantPrefix, tc.wantLen)
		}
		hash := got[len(got)-jobNameHashLen:]
		if strings.Trim(hash, "0123456789abcdef") != "" || got[len(got)-jobNameHashLen-1] != '-' {
			t.Errorf("%s: JobName = %q, want it to end in - and 10 hex chars", tc.name, got)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("%s: JobName = %q is not a DNS-1123 label: %v", tc.name, got, errs)
		}
		if again := JobName(tc.cu, tc.node, tc.target); again != got {
			t.Errorf("%s: JobName is not deterministic: %q then %q", tc.name, got, again)
		}
	}
}

// TestJobNameStable pins the name of one Job: the controller finds the Jobs
// of nodes in flight by name, so a change here strands them on upgrade of
// the operator. Change it only on purpose.
func TestJobNameStable(t *testing.T) {
	// printf 'fleet\0worker-1\0v1.37.2' | sha256sum
	if got, want := JobName("fleet", "worker-1", "v1.37.2"), "nodewave-worker-1-0c448808a0"; got != want {
		t.Errorf("JobName = %q, want %q", got, want)
	}
}

func TestJobNameDistinct(t *testing.T) {
	base := JobName("fleet", "worker-1", "v1.37.2")
	for _, tc := range []struct {
		name             string
		cu, node, target string
	}{
		{"other ClusterUpgrade", "fleet-2", "worker-1", "v1.37.2"},
		{"other node", "fleet", "worker-2", "v1.37.2"},
		{"other target", "fleet", "worker-1", "v1.37.3"},
		{"other build", "fleet", "worker-1", "v1.37.2+k3s1"},
		{"node spelled with a dot", "fleet", "worker.1", "v1.37.2"},
		{"fields shifted across the separator", "fleetw", "orker-1", "v1.37.2"},
	} {
		if got := JobName(tc.cu, tc.node, tc.target); got == base {
			t.Errorf("%s: JobName(%q, %q, %q) = %q, the same as for fleet/worker-1/v1.37.2", tc.name, tc.cu, tc.node, tc.target, got)
		}
	}
	// Nodes whose names agree on the part that fits must still differ.
	a := JobName("fleet", strings.Repeat("n", 43)+"-a", "v1")
	b := JobName("fleet", strings.Repeat("n", 43)+"-b", "v1")
	if a == b {
		t.Errorf("long node names sharing their first 43 characters share Job name %q", a)
	}
}
