package nodeupgrade

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// The hook points' names (internal/plan's, which this package does not
// import).
const hookPreDrain, hookPostUpgrade = "pre-drain", "post-upgrade"

func TestBuildHookJob(t *testing.T) {
	cu := newCU()
	cu.Spec.Upgrade = upgradev1alpha1.NodeUpgradeSpec{Type: upgradev1alpha1.ExternalUpgrade} // hooks need no upgrade Job
	hook := &upgradev1alpha1.HookJob{
		Timeout: &metav1.Duration{Duration: 90*time.Second + time.Millisecond},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "ceph-noout"}},
			Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyAlways,
				Containers: []corev1.Container{{Name: "noout", Image: "example.com/ceph-tools:v1",
					Env: []corev1.EnvVar{{Name: EnvHook, Value: "spoofed"}, {Name: "MODE", Value: "set"}}}},
			},
		},
	}
	job, err := BuildHookJob(cu, hook, hookPreDrain, testNode, testTarget, testNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if want := HookJobName("fleet", testNode, hookPreDrain); job.Name != want || !strings.HasPrefix(job.Name, "nodewave-pre-drain-") {
		t.Errorf("name %q, want %q starting nodewave-pre-drain-", job.Name, want)
	}
	for _, labels := range []map[string]string{job.Labels, job.Spec.Template.Labels} {
		if labels[upgradev1alpha1.JobHookLabel] != hookPreDrain || labels[upgradev1alpha1.JobNodeLabel] != testNode ||
			labels[upgradev1alpha1.JobClusterUpgradeLabel] != "fleet" {
			t.Errorf("labels %v", labels)
		}
	}
	if job.Spec.Template.Labels["app"] != "ceph-noout" {
		t.Errorf("the template's own label was lost: %v", job.Spec.Template.Labels)
	}
	pod := job.Spec.Template.Spec
	if pod.NodeName != "" || len(pod.Tolerations) != 0 {
		t.Errorf("a hook Job is scheduled as its template says: nodeName %q, tolerations %v", pod.NodeName, pod.Tolerations)
	}
	if pod.ServiceAccountName != ServiceAccount || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("service account %q, automount %v", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever || *job.Spec.BackoffLimit != 0 || *job.Spec.ActiveDeadlineSeconds != 91 {
		t.Errorf("restartPolicy %s, backoffLimit %d, activeDeadlineSeconds %d (want Never, 0, 91)",
			pod.RestartPolicy, *job.Spec.BackoffLimit, *job.Spec.ActiveDeadlineSeconds)
	}
	env := map[string]string{}
	for _, e := range pod.Containers[0].Env {
		if _, seen := env[e.Name]; !seen {
			env[e.Name] = e.Value
		}
	}
	if env[EnvHook] != hookPreDrain || env[EnvNodeName] != testNode || env[EnvTargetVersion] != testTarget || env["MODE"] != "set" {
		t.Errorf("env %v", pod.Containers[0].Env)
	}
	if hook.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || len(hook.Template.Spec.Containers[0].Env) != 2 {
		t.Error("BuildHookJob modified the spec's template")
	}
	if _, err := BuildHookJob(cu, nil, hookPreDrain, testNode, testTarget, testNamespace); err == nil {
		t.Error("no hook: no error")
	}
	if _, err := BuildHookJob(cu, hook, hookPreDrain, strings.Repeat("n", 64), testTarget, testNamespace); err == nil {
		t.Error("a node name that is no label value: no error")
	}
}

func TestHookJobNameIsADNSLabelOfItsOwn(t *testing.T) {
	for _, node := range []string{testNode, strings.Repeat("a", 253), "UPPER.case", "-"} {
		for _, hook := range []string{hookPreDrain, hookPostUpgrade} {
			name := HookJobName("fleet", node, hook)
			if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
				t.Errorf("HookJobName(%q, %q) = %q: %v", node, hook, name, errs)
			}
			if name == JobName("fleet", node, testTarget) || name == JobName("fleet", node, hook) {
				t.Errorf("hook Job %q has an upgrade Job's name", name)
			}
		}
		if HookJobName("fleet", node, hookPreDrain) == HookJobName("fleet", node, hookPostUpgrade) {
			t.Errorf("both hooks of %q have one name", node)
		}
	}
}
