package main

import (
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// TestTheManagerRunsUnderItsDeploymentsLimit: the bench's default memory
// limit is the one the manager's Deployment ships with.
func TestTheManagerRunsUnderItsDeploymentsLimit(t *testing.T) {
	data, err := os.ReadFile("../../config/manager/manager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		if strings.Contains(doc, "kind: Deployment") {
			if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != "manager" {
			continue
		}
		if got := c.Resources.Limits.Memory().String(); got != deploymentMemoryLimit {
			t.Fatalf("the manager's Deployment limits its memory to %s; the bench runs it under %s", got, deploymentMemoryLimit)
		}
		return
	}
	t.Fatal("no manager container in config/manager/manager.yaml")
}

func TestOwnCgroups(t *testing.T) {
	v2, v1 := ownCgroups([]byte("4:memory:/process_api/abc\n3:cpuset:/\n0::/\n"))
	if v2 != "/" || v1 != "/process_api/abc" {
		t.Fatalf("v2 %q, v1 memory %q", v2, v1)
	}
	v2, v1 = ownCgroups([]byte("0::/user.slice/session-1.scope\n"))
	if v2 != "/user.slice/session-1.scope" || v1 != "" {
		t.Fatalf("v2 %q, v1 memory %q", v2, v1)
	}
}
