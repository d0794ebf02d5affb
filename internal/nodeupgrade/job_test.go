package nodeupgrade

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

const (
	testNode      = "ip-10-0-1-23.eu-west-1.compute.internal"
	testTarget    = "v1.37.2"
	testNamespace = "nodewave-system"
)

// newCU returns a ClusterUpgrade of type Job whose template has labels, env,
// an init container and a toleration of its own.
func newCU() *upgradev1alpha1.ClusterUpgrade {
	return &upgradev1alpha1.ClusterUpgrade{
		ObjectMeta: metav1.ObjectMeta{Name: "fleet", UID: "0b3f8e36-5b7e-4b7e-9d0c-1c2d3e4f5a6b"},
		Spec: upgradev1alpha1.ClusterUpgradeSpec{
			TargetVersion: testTarget,
			Upgrade: upgradev1alpha1.NodeUpgradeSpec{
				Type:    upgradev1alpha1.JobUpgrade,
				Timeout: &metav1.Duration{Duration: 10 * time.Minute},
				Job: &upgradev1alpha1.JobSpec{Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{
						Labels:      map[string]string{"app": "kubelet-upgrader", upgradev1alpha1.JobNodeLabel: "spoofed"},
						Annotations: map[string]string{"note": "kept"},
					},
					Spec: corev1.PodSpec{
						HostPID: true,
						InitContainers: []corev1.Container{{
							Name:  "prep",
							Image: "busybox",
						}},
						Containers: []corev1.Container{
							{
								Name:  "upgrade",
								Image: "upgrader:1",
								Env: []corev1.EnvVar{
									{Name: "PKG", Value: "kubeadm=$(NODEWAVE_TARGET_VERSION)"},
									{Name: EnvTargetVersion, Value: "v0.0.1"},
									{Name: "DEBUG", Value: "1"},
									{Name: EnvNodeName, ValueFrom: &corev1.EnvVarSource{
										FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
								},
							},
							{Name: "sidecar", Image: "logger:1"},
						},
						Tolerations: []corev1.Toleration{{
							Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule,
						}},
					},
				}},
			},
		},
	}
}

func mustBuild(t *testing.T, cu *upgradev1alpha1.ClusterUpgrade) *batchv1.Job {
	t.Helper()
	job, err := BuildJob(cu, testNode, testTarget, testNamespace)
	if err != nil {
		t.Fatalf("BuildJob: %v", err)
	}
	return job
}

func TestBuildJobMetadata(t *testing.T) {
	cu := newCU()
	job := mustBuild(t, cu)

	if want := JobName("fleet", testNode, testTarget); job.Name != want {
		t.Errorf("name = %q, want %q", job.Name, want)
	}
	if job.Namespace != testNamespace {
		t.Errorf("namespace = %q, want %q", job.Namespace, testNamespace)
	}
	wantLabels := map[string]string{
		upgradev1alpha1.JobNodeLabel:           testNode,
		upgradev1alpha1.JobClusterUpgradeLabel: "fleet",
	}
	if !equality.Semantic.DeepEqual(job.Labels, wantLabels) {
		t.Errorf("Job labels = %v, want %v", job.Labels, wantLabels)
	}
	if got := job.Annotations[upgradev1alpha1.TargetVersionAnnotation]; got != testTarget {
		t.Errorf("target-version annotation = %q, want %q", got, testTarget)
	}

	if len(job.OwnerReferences) != 1 {
		t.Fatalf("owner references = %v, want exactly one", job.OwnerReferences)
	}
	ref := job.OwnerReferences[0]
	if ref.APIVersion != "upgrade.nodewave.io/v1alpha1" || ref.Kind != "ClusterUpgrade" || ref.Name != "fleet" || ref.UID != cu.UID {
		t.Errorf("owner reference = %+v, want the ClusterUpgrade fleet", ref)
	}
	if ref.Controller == nil || !*ref.Controller || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("owner reference = %+v, want controller and blockOwnerDeletion true", ref)
	}
}

func TestBuildJobSpec(t *testing.T) {
	job := mustBuild(t, newCU())

	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Errorf("backoffLimit = %v, want 0", job.Spec.BackoffLimit)
	}
	if job.Spec.ActiveDeadlineSeconds == nil || *job.Spec.ActiveDeadlineSeconds != 600 {
		t.Errorf("activeDeadlineSeconds = %v, want 600 (10m)", job.Spec.ActiveDeadlineSeconds)
	}
	if job.Spec.TTLSecondsAfterFinished != nil {
		t.Errorf("ttlSecondsAfterFinished = %d, want none", *job.Spec.TTLSecondsAfterFinished)
	}

	tpl := job.Spec.Template
	wantLabels := map[string]string{
		"app":                                  "kubelet-upgrader",
		upgradev1alpha1.JobNodeLabel:           testNode, // ours win over the template's
		upgradev1alpha1.JobClusterUpgradeLabel: "fleet",
	}
	if !equality.Semantic.DeepEqual(tpl.Labels, wantLabels) {
		t.Errorf("pod template labels = %v, want %v", tpl.Labels, wantLabels)
	}
	if tpl.Annotations["note"] != "kept" {
		t.Errorf("pod template annotations = %v, want the template's kept", tpl.Annotations)
	}
	if tpl.Spec.NodeName != testNode {
		t.Errorf("nodeName = %q, want %q", tpl.Spec.NodeName, testNode)
	}
	if !tpl.Spec.HostPID || tpl.Spec.Containers[0].Image != "upgrader:1" {
		t.Errorf("the template's pod spec was not kept: %+v", tpl.Spec)
	}
	if tpl.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never", tpl.Spec.RestartPolicy)
	}
	wantTolerations := []corev1.Toleration{
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule},
		{Operator: corev1.TolerationOpExists},
	}
	if !equality.Semantic.DeepEqual(tpl.Spec.Tolerations, wantTolerations) {
		t.Errorf("tolerations = %+v, want %+v", tpl.Spec.Tolerations, wantTolerations)
	}
}

func TestBuildJobEnv(t *testing.T) {
	job := mustBuild(t, newCU())
	ours := []corev1.EnvVar{
		{Name: EnvTargetVersion, Value: testTarget},
		{Name: EnvNodeName, Value: testNode},
	}
	want := map[string][]corev1.EnvVar{
		// ours first, so the template's may refer to them; the template's
		// values of the same names are dropped, its others kept in order
		"upgrade": append(append([]corev1.EnvVar{}, ours...),
			corev1.EnvVar{Name: "PKG", Value: "kubeadm=$(NODEWAVE_TARGET_VERSION)"},
			corev1.EnvVar{Name: "DEBUG", Value: "1"}),
		"sidecar": ours,
		"prep":    ours,
	}
	spec := job.Spec.Template.Spec
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	if len(all) != len(want) {
		t.Fatalf("got %d containers, want %d", len(all), len(want))
	}
	for _, c := range all {
		if !equality.Semantic.DeepEqual(c.Env, want[c.Name]) {
			t.Errorf("container %s env = %+v, want %+v", c.Name, c.Env, want[c.Name])
		}
	}
}

// A control-plane node's Job also says its role, in every container, after
// the other variables; a worker's (role "") is BuildJob's exactly.
func TestBuildControlPlaneJobEnv(t *testing.T) {
	cu := newCU()
	worker, err := BuildControlPlaneJob(cu, testNode, testTarget, testNamespace, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := mustBuild(t, cu); !equality.Semantic.DeepEqual(worker, want) {
		t.Fatalf("a worker's Job differs from BuildJob's:\n%+v\n%+v", worker, want)
	}
	for _, role := range []string{"first", "other"} {
		job, err := BuildControlPlaneJob(cu, testNode, testTarget, testNamespace, role)
		if err != nil {
			t.Fatal(err)
		}
		spec := job.Spec.Template.Spec
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			if len(c.Env) < 3 || c.Env[2] != (corev1.EnvVar{Name: EnvControlPlaneRole, Value: role}) {
				t.Errorf("role %s: container %s env = %+v, want %s=%s third", role, c.Name, c.Env, EnvControlPlaneRole, role)
			}
		}
	}
}

// TestBuildJobDoesNotTouchCU checks that BuildJob leaves the ClusterUpgrade
// as it was, and that the Job shares no memory with it.
func TestBuildJobDoesNotTouchCU(t *testing.T) {
	cu := newCU()
	before := cu.DeepCopy()
	job := mustBuild(t, cu)
	if !equality.Semantic.DeepEqual(cu, before) {
		t.Fatalf("BuildJob modified the ClusterUpgrade:\nbefore %+v\nafter  %+v", before.Spec.Upgrade.Job, cu.Spec.Upgrade.Job)
	}

	spec := &job.Spec.Template.Spec
	job.Spec.Template.Labels["app"] = "changed"
	job.Spec.Template.Annotations["note"] = "changed"
	spec.Containers[0].Env[2].Value = "changed"
	spec.Containers[0].Image = "changed"
	spec.Tolerations[0].Value = "changed"
	spec.InitContainers[0].Image = "changed"
	if !equality.Semantic.DeepEqual(cu, before) {
		t.Errorf("the Job shares memory with the ClusterUpgrade: changing the Job changed %+v", cu.Spec.Upgrade.Job)
	}
}

func TestBuildJobRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		in, want corev1.RestartPolicy
	}{
		{"", corev1.RestartPolicyNever},
		{corev1.RestartPolicyAlways, corev1.RestartPolicyNever},
		{corev1.RestartPolicyOnFailure, corev1.RestartPolicyOnFailure},
		{corev1.RestartPolicyNever, corev1.RestartPolicyNever},
	} {
		cu := newCU()
		cu.Spec.Upgrade.Job.Template.Spec.RestartPolicy = tc.in
		if got := mustBuild(t, cu).Spec.Template.Spec.RestartPolicy; got != tc.want {
			t.Errorf("template restartPolicy %q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBuildJobDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout *metav1.Duration
		want    int64
	}{
		{"unset: the API default 30m", nil, 1800},
		{"whole seconds", &metav1.Duration{Duration: 90 * time.Minute}, 5400},
		{"rounded up", &metav1.Duration{Duration: 1500 * time.Millisecond}, 2},
		{"just over a second", &metav1.Duration{Duration: time.Second + time.Nanosecond}, 2},
		{"exactly one second", &metav1.Duration{Duration: time.Second}, 1},
		{"less than a second: at least 1", &metav1.Duration{Duration: time.Nanosecond}, 1},
		{"zero: at least 1", &metav1.Duration{}, 1},
		{"negative: at least 1", &metav1.Duration{Duration: -5 * time.Second}, 1},
	} {
		cu := newCU()
		cu.Spec.Upgrade.Timeout = tc.timeout
		got := mustBuild(t, cu).Spec.ActiveDeadlineSeconds
		if got == nil || *got != tc.want {
			t.Errorf("%s: activeDeadlineSeconds = %v, want %d", tc.name, got, tc.want)
		}
	}
}

func TestBuildJobTolerations(t *testing.T) {
	all := corev1.Toleration{Operator: corev1.TolerationOpExists}
	seconds := int64(300)
	noSchedule := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	allNoExecuteFor5m := corev1.Toleration{Operator: corev1.TolerationOpExists, TolerationSeconds: &seconds}
	allNoSchedule := corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name string
		in   []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{all}},
		{"already tolerates everything", []corev1.Toleration{noSchedule, all}, []corev1.Toleration{noSchedule, all}},
		{"Exists with a key is not everything", []corev1.Toleration{noSchedule}, []corev1.Toleration{noSchedule, all}},
		{"Exists with an effect is not everything", []corev1.Toleration{allNoSchedule}, []corev1.Toleration{allNoSchedule, all}},
		{"Exists for a limited time is not everything", []corev1.Toleration{allNoExecuteFor5m}, []corev1.Toleration{allNoExecuteFor5m, all}},
	} {
		cu := newCU()
		cu.Spec.Upgrade.Job.Template.Spec.Tolerations = tc.in
		got := mustBuild(t, cu).Spec.Template.Spec.Tolerations
		if !equality.Semantic.DeepEqual(got, tc.want) {
			t.Errorf("%s: tolerations = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestBuildJobTemplateWithoutLabels(t *testing.T) {
	cu := newCU()
	cu.Spec.Upgrade.Job.Template.Labels = nil
	cu.Spec.Upgrade.Type = "" // the API default is Job
	job := mustBuild(t, cu)
	want := map[string]string{upgradev1alpha1.JobNodeLabel: testNode, upgradev1alpha1.JobClusterUpgradeLabel: "fleet"}
	if !equality.Semantic.DeepEqual(job.Spec.Template.Labels, want) {
		t.Errorf("pod template labels = %v, want %v", job.Spec.Template.Labels, want)
	}
}

func TestBuildJobErrors(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		mutate                  func(*upgradev1alpha1.ClusterUpgrade)
		node, target, namespace string
		wantErr                 string
	}{
		{"External", func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Upgrade.Type = upgradev1alpha1.ExternalUpgrade },
			testNode, testTarget, testNamespace, "upgrade.type is External, not Job"},
		{"unknown type", func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Upgrade.Type = "Ansible" },
			testNode, testTarget, testNamespace, "upgrade.type is Ansible"},
		{"no job", func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Spec.Upgrade.Job = nil },
			testNode, testTarget, testNamespace, "upgrade.job is not set"},
		{"no node", nil, "", testTarget, testNamespace, "no node name"},
		{"no target", nil, testNode, "", testNamespace, "no target version"},
		{"no namespace", nil, testNode, testTarget, "", "no namespace"},
		{"node name too long for a label", nil, strings.Repeat("n", 64), testTarget, testNamespace,
			"cannot be the value of label upgrade.nodewave.io/node"},
		{"ClusterUpgrade name too long for a label", func(cu *upgradev1alpha1.ClusterUpgrade) { cu.Name = strings.Repeat("c", 64) },
			testNode, testTarget, testNamespace, "cannot be the value of label upgrade.nodewave.io/cluster-upgrade"},
	} {
		cu := newCU()
		if tc.mutate != nil {
			tc.mutate(cu)
		}
		job, err := BuildJob(cu, tc.node, tc.target, tc.namespace)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.wantErr)
		}
		if job != nil {
			t.Errorf("%s: got a Job with the error", tc.name)
		}
	}
	if _, err := BuildJob(nil, testNode, testTarget, testNamespace); err == nil {
		t.Error("BuildJob(nil, ...) returned no error")
	}
	// The longest names that are valid label values are accepted.
	cu := newCU()
	cu.Name = strings.Repeat("c", 63)
	if _, err := BuildJob(cu, strings.Repeat("n", 30)+"."+strings.Repeat("n", 32), testTarget, testNamespace); err != nil {
		t.Errorf("63-character names: %v", err)
	}
}

func TestBuildJobServiceAccount(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		serviceAccount           string
		deprecatedServiceAccount string
		automount                *bool
		wantServiceAccount       string
		wantAutomount            bool
	}{
		{name: "none named: the upgrade ServiceAccount, no token",
			wantServiceAccount: ServiceAccount, wantAutomount: false},
		{name: "the upgrade ServiceAccount named", serviceAccount: ServiceAccount,
			wantServiceAccount: ServiceAccount, wantAutomount: false},
		{name: "named through the deprecated alias only", deprecatedServiceAccount: ServiceAccount,
			wantServiceAccount: ServiceAccount, wantAutomount: false},
		{name: "a token asked for", automount: ptr.To(true),
			wantServiceAccount: ServiceAccount, wantAutomount: true},
		{name: "no token asked for", automount: ptr.To(false),
			wantServiceAccount: ServiceAccount, wantAutomount: false},
		// CredentialPolicy refuses these before any Job is built; should
		// that check be skipped, the Job still runs as ServiceAccount.
		{name: "another ServiceAccount is replaced", serviceAccount: "nodewave-controller-manager",
			wantServiceAccount: ServiceAccount, wantAutomount: false},
		{name: "another ServiceAccount through the alias is replaced", deprecatedServiceAccount: "default", automount: ptr.To(true),
			wantServiceAccount: ServiceAccount, wantAutomount: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cu := newCU()
			spec := &cu.Spec.Upgrade.Job.Template.Spec
			spec.ServiceAccountName, spec.DeprecatedServiceAccount = tc.serviceAccount, tc.deprecatedServiceAccount
			spec.AutomountServiceAccountToken = tc.automount
			got := mustBuild(t, cu).Spec.Template.Spec
			if got.ServiceAccountName != tc.wantServiceAccount || got.DeprecatedServiceAccount != "" {
				t.Errorf("serviceAccountName = %q, serviceAccount %q, want %q and none",
					got.ServiceAccountName, got.DeprecatedServiceAccount, tc.wantServiceAccount)
			}
			if got.AutomountServiceAccountToken == nil || *got.AutomountServiceAccountToken != tc.wantAutomount {
				t.Errorf("automountServiceAccountToken = %v, want %v", got.AutomountServiceAccountToken, tc.wantAutomount)
			}
			if spec.ServiceAccountName != tc.serviceAccount || spec.DeprecatedServiceAccount != tc.deprecatedServiceAccount ||
				spec.AutomountServiceAccountToken != tc.automount {
				t.Error("BuildJob modified the template")
			}
		})
	}
}
