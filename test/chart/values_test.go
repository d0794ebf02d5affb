package chart

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// manager returns the rendered manager container of release "nodewave".
func manager(t *testing.T, r *rendered) map[string]any {
	t.Helper()
	d := r.mustFind(t, "Deployment", "nodewave-controller-manager")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("want one container, found %d", len(containers))
	}
	return containers[0].(map[string]any)
}

// args returns the manager container's arguments.
func args(t *testing.T, r *rendered) []string {
	t.Helper()
	list, _, _ := unstructured.NestedStringSlice(manager(t, r), "args")
	return list
}

// podSpec returns the manager's pod spec.
func podSpec(t *testing.T, r *rendered) map[string]any {
	t.Helper()
	d := r.mustFind(t, "Deployment", "nodewave-controller-manager")
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	return spec
}

// wantArgs fails unless the manager's arguments are exactly want.
func wantArgs(t *testing.T, r *rendered, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, args(t, r)); diff != "" {
		t.Errorf("manager args (-want +got):\n%s", diff)
	}
}

// wantAbsent fails if any of the named objects was rendered.
func wantAbsent(t *testing.T, r *rendered, kindNames ...string) {
	t.Helper()
	for i := 0; i < len(kindNames); i += 2 {
		if o := r.find(kindNames[i], kindNames[i+1]); o != nil {
			t.Errorf("%s %s rendered, want none", kindNames[i], kindNames[i+1])
		}
	}
}

// defaultArgs are config/manager's.
var defaultArgs = []string{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8443"}

// TestValues checks what each value changes in the rendered chart.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		check  func(t *testing.T, r *rendered)
	}{{
		name:   "defaults",
		values: nil,
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, defaultArgs...)
			appVersion := loadChart(t).Metadata.AppVersion
			if got := manager(t, r)["image"]; got != "ghcr.io/nodewave/nodewave:"+appVersion {
				t.Errorf("image %v, want ghcr.io/nodewave/nodewave:%s (the chart's appVersion)", got, appVersion)
			}
			for _, o := range r.objects {
				if got := o.GetLabels()["app.kubernetes.io/version"]; got != appVersion {
					t.Errorf("%s: app.kubernetes.io/version %q, want the appVersion %q", keyOf(o), got, appVersion)
				}
			}
			// The optional pieces are off: their CRDs may not exist.
			for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "Secret"} {
				for _, o := range r.objects {
					if o.GetKind() == kind {
						t.Errorf("%s rendered by default", keyOf(o))
					}
				}
			}
			if _, ok := manager(t, r)["imagePullPolicy"]; ok {
				t.Error("imagePullPolicy set, want Kubernetes' default")
			}
			// --create-namespace makes the namespace: the chart must not.
			wantAbsent(t, r, "Namespace", "nodewave-system")
			wantUpgradeServiceAccount(t, r, "nodewave-system", nil)
			wantControlPlaneExec(t, r, "nodewave", "nodewave-system")
			if !strings.Contains(r.notes, "The manager may exec into any pod of kube-system") {
				t.Errorf("NOTES do not say the manager may exec into kube-system's pods:\n%s", r.notes)
			}
			crd := r.mustFind(t, "CustomResourceDefinition", "clusterupgrades.upgrade.nodewave.io")
			if got := crd.GetAnnotations()["helm.sh/resource-policy"]; got != "keep" {
				t.Errorf("CRD helm.sh/resource-policy %q, want keep", got)
			}
		},
	}, {
		name: "image",
		values: map[string]any{"manager": map[string]any{"image": map[string]any{
			"repository": "registry.example.com/infra/nodewave", "tag": "v0.3.1", "pullPolicy": "IfNotPresent",
		}}},
		check: func(t *testing.T, r *rendered) {
			if got := manager(t, r)["image"]; got != "registry.example.com/infra/nodewave:v0.3.1" {
				t.Errorf("image %v", got)
			}
			if got := manager(t, r)["imagePullPolicy"]; got != "IfNotPresent" {
				t.Errorf("imagePullPolicy %v, want IfNotPresent", got)
			}
		},
	}, {
		name: "image digest wins over tag",
		values: map[string]any{"manager": map[string]any{"image": map[string]any{
			"tag": "v0.3.1", "digest": "sha256:" + strings.Repeat("ab", 32),
		}}},
		check: func(t *testing.T, r *rendered) {
			if got := manager(t, r)["image"]; got != "ghcr.io/nodewave/nodewave@sha256:"+strings.Repeat("ab", 32) {
				t.Errorf("image %v", got)
			}
		},
	}, {
		name: "replicas, pull secrets and scheduling",
		values: map[string]any{"manager": map[string]any{
			"replicas":         2,
			"imagePullSecrets": []any{map[string]any{"name": "regcred"}},
			"nodeSelector":     map[string]any{"pool": "system"},
			"tolerations":      []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}},
			"affinity":         nil, // null drops a default; {} would merge with it
			"resources":        map[string]any{"requests": map[string]any{"cpu": "1", "memory": "1Gi"}},
		}},
		check: func(t *testing.T, r *rendered) {
			d := r.mustFind(t, "Deployment", "nodewave-controller-manager")
			if got, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); got != 2 {
				t.Errorf("replicas %d, want 2", got)
			}
			spec := podSpec(t, r)
			want := map[string]any{
				"imagePullSecrets": []any{map[string]any{"name": "regcred"}},
				"nodeSelector":     map[string]any{"pool": "system"},
				// A list value replaces the default: the control-plane toleration is gone.
				"tolerations": []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}},
			}
			for field, w := range want {
				if diff := cmp.Diff(w, spec[field]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", field, diff)
				}
			}
			if _, ok := spec["affinity"]; ok {
				t.Errorf("affinity %v, want none (set to null)", spec["affinity"])
			}
			res := manager(t, r)["resources"]
			// Helm merges maps with the defaults: the limits stay.
			wantRes := map[string]any{
				"requests": map[string]any{"cpu": "1", "memory": "1Gi"},
				"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
			}
			if diff := cmp.Diff(wantRes, res); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "allowed upgrade images and Secrets, job namespace and extra args",
		values: map[string]any{
			"allowedUpgradeImages":  []any{"registry.example.com/infra/kubelet-upgrader", "registry.example.com/vendor/*"},
			"allowedUpgradeSecrets": []any{"apt-proxy", "upgrader-pull"},
			"jobNamespace":          "node-upgrades",
			"manager":               map[string]any{"extraArgs": []any{"--kube-api-qps=100", "--zap-log-level=debug"}},
		},
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, append(slices.Clone(defaultArgs),
				"--job-namespace=node-upgrades",
				"--allowed-upgrade-images=registry.example.com/infra/kubelet-upgrader,registry.example.com/vendor/*",
				"--allowed-upgrade-secrets=apt-proxy,upgrader-pull",
				"--kube-api-qps=100", "--zap-log-level=debug")...)
			// The Job Role and its binding follow the Jobs (the
			// control-plane checks' stay in kube-system); the rest stays.
			wantNamespaces(t, r, "nodewave-manager-role", "node-upgrades", "kube-system")
			wantNamespaces(t, r, "nodewave-manager-rolebinding", "node-upgrades", "kube-system")
			r.mustFindIn(t, "Role", "node-upgrades", "nodewave-manager-role")
			binding := r.mustFindIn(t, "RoleBinding", "node-upgrades", "nodewave-manager-rolebinding")
			subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
			if ns := subjects[0].(map[string]any)["namespace"]; ns != "nodewave-system" {
				t.Errorf("RoleBinding subject in namespace %v, want the manager's, nodewave-system", ns)
			}
			// The upgrade Jobs' ServiceAccount lives where they run.
			wantUpgradeServiceAccount(t, r, "node-upgrades", nil)
			// The control-plane checks' Role stays in kube-system.
			wantControlPlaneExec(t, r, "nodewave", "nodewave-system")
			if o := r.mustFind(t, "Role", "nodewave-leader-election-role"); o.GetNamespace() != "nodewave-system" {
				t.Errorf("leader election Role in %q, want the release namespace", o.GetNamespace())
			}
			if !strings.Contains(r.notes, "privileged pods in namespace node-upgrades") {
				t.Errorf("NOTES do not name the Job namespace:\n%s", r.notes)
			}
		},
	}, {
		name: "upgrade ServiceAccount pull secrets",
		values: map[string]any{"upgradeServiceAccount": map[string]any{
			"imagePullSecrets": []any{map[string]any{"name": "upgrader-pull"}},
		}},
		check: func(t *testing.T, r *rendered) {
			wantUpgradeServiceAccount(t, r, "nodewave-system", []any{map[string]any{"name": "upgrader-pull"}})
			// Not the manager's: its own pull secrets are manager.imagePullSecrets.
			if got, ok := podSpec(t, r)["imagePullSecrets"]; ok {
				t.Errorf("the manager's pod got imagePullSecrets %v", got)
			}
			wantArgs(t, r, defaultArgs...)
		},
	}, {
		name:   "control-plane checks off",
		values: map[string]any{"controlPlaneChecks": map[string]any{"enabled": false}},
		check:  wantNoControlPlaneExec,
	}, {
		name:   "leader election off",
		values: map[string]any{"leaderElection": map[string]any{"enable": false}},
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, defaultArgs[1:]...)
			wantAbsent(t, r, "Role", "nodewave-leader-election-role", "RoleBinding", "nodewave-leader-election-rolebinding")
		},
	}, {
		name: "leader election timings",
		values: map[string]any{"leaderElection": map[string]any{
			"leaseDuration": "30s", "renewDeadline": "20s", "retryPeriod": "4s",
		}},
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, "--leader-elect", "--leader-election-lease-duration=30s",
				"--leader-election-renew-deadline=20s", "--leader-election-retry-period=4s",
				"--health-probe-bind-address=:8081", "--metrics-bind-address=:8443")
		},
	}, {
		name:   "metrics off",
		values: map[string]any{"metrics": map[string]any{"enable": false}},
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, defaultArgs[:2]...)
			if ports, ok := manager(t, r)["ports"]; ok {
				t.Errorf("container ports %v, want none", ports)
			}
			wantAbsent(t, r,
				"Service", "nodewave-controller-manager-metrics-service",
				"ClusterRole", "nodewave-metrics-auth-role",
				"ClusterRoleBinding", "nodewave-metrics-auth-rolebinding",
				"ClusterRole", "nodewave-metrics-reader")
		},
	}, {
		name:   "metrics over plain HTTP on another port",
		values: map[string]any{"metrics": map[string]any{"secure": false, "port": 8080}},
		check: func(t *testing.T, r *rendered) {
			wantArgs(t, r, "--leader-elect", "--health-probe-bind-address=:8081",
				"--metrics-bind-address=:8080", "--metrics-secure=false")
			svc := r.mustFind(t, "Service", "nodewave-controller-manager-metrics-service")
			ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
			want := []any{map[string]any{"name": "http", "port": int64(8080), "protocol": "TCP", "targetPort": int64(8080)}}
			if diff := cmp.Diff(want, ports); diff != "" {
				t.Errorf("Service ports (-want +got):\n%s", diff)
			}
			cports, _, _ := unstructured.NestedSlice(manager(t, r), "ports")
			if len(cports) != 1 || cports[0].(map[string]any)["containerPort"] != int64(8080) {
				t.Errorf("container ports %v, want 8080", cports)
			}
			// No authorisation, so no metrics RBAC.
			wantAbsent(t, r, "ClusterRole", "nodewave-metrics-auth-role", "ClusterRole", "nodewave-metrics-reader")
		},
	}, {
		name:   "no helper roles, no CRD",
		values: map[string]any{"rbacHelpers": map[string]any{"enable": false}, "crd": map[string]any{"enable": false}},
		check: func(t *testing.T, r *rendered) {
			wantAbsent(t, r,
				"ClusterRole", "nodewave-clusterupgrade-admin-role",
				"ClusterRole", "nodewave-clusterupgrade-editor-role",
				"ClusterRole", "nodewave-clusterupgrade-viewer-role",
				"CustomResourceDefinition", "clusterupgrades.upgrade.nodewave.io")
			r.mustFind(t, "ClusterRole", "nodewave-manager-role")
		},
	}, {
		name:   "CRD not kept",
		values: map[string]any{"crd": map[string]any{"keep": false}},
		check: func(t *testing.T, r *rendered) {
			crd := r.mustFind(t, "CustomResourceDefinition", "clusterupgrades.upgrade.nodewave.io")
			if got, ok := crd.GetAnnotations()["helm.sh/resource-policy"]; ok {
				t.Errorf("CRD helm.sh/resource-policy %q, want none", got)
			}
		},
	}, {
		name:   "fullnameOverride",
		values: map[string]any{"fullnameOverride": "upgrader"},
		check: func(t *testing.T, r *rendered) {
			// The manager finds the upgrade Jobs' account by its fixed name.
			wantUpgradeServiceAccount(t, r, "nodewave-system", nil)
			d := r.mustFind(t, "Deployment", "upgrader-controller-manager")
			if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != "upgrader-controller-manager" {
				t.Errorf("serviceAccountName %q", sa)
			}
			r.mustFind(t, "ServiceAccount", "upgrader-controller-manager")
			r.mustFind(t, "ClusterRole", "upgrader-manager-role")
			wantControlPlaneExec(t, r, "upgrader", "nodewave-system")
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, render(t, "nodewave", "nodewave-system", tc.values))
		})
	}
}

// wantUpgradeServiceAccount fails unless the chart renders the upgrade
// Jobs' ServiceAccount, nodewave-upgrade, in namespace, mounting no token
// by default, with pullSecrets, and bound to no role.
func wantUpgradeServiceAccount(t *testing.T, r *rendered, namespace string, pullSecrets []any) {
	t.Helper()
	sa := r.mustFind(t, "ServiceAccount", "nodewave-upgrade")
	if sa.GetNamespace() != namespace {
		t.Errorf("ServiceAccount nodewave-upgrade in namespace %q, want %q", sa.GetNamespace(), namespace)
	}
	if automount, ok, _ := unstructured.NestedBool(sa.Object, "automountServiceAccountToken"); !ok || automount {
		t.Errorf("ServiceAccount nodewave-upgrade: automountServiceAccountToken %v (set: %v), want false", automount, ok)
	}
	got, _, _ := unstructured.NestedSlice(sa.Object, "imagePullSecrets")
	if diff := cmp.Diff(pullSecrets, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ServiceAccount nodewave-upgrade imagePullSecrets (-want +got):\n%s", diff)
	}
	for _, o := range r.objects {
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			if s.(map[string]any)["name"] == "nodewave-upgrade" {
				t.Errorf("%s binds a role to nodewave-upgrade, which must have none", keyOf(o))
			}
		}
	}
}

// wantNamespaces fails unless the namespaced objects named name are in
// namespaces, one each.
func wantNamespaces(t *testing.T, r *rendered, name string, namespaces ...string) {
	t.Helper()
	var got []string
	for _, o := range r.objects {
		if o.GetName() == name && o.GetNamespace() != "" {
			got = append(got, o.GetNamespace())
		}
	}
	if diff := cmp.Diff(namespaces, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("namespaces of the objects named %s (-want +got):\n%s", name, diff)
	}
}

// wantNoControlPlaneExec checks the chart rendered with
// controlPlaneChecks.enabled=false: nothing in kube-system, no role
// granting pods/exec, no word of it in the NOTES, and the rest of the
// manager's RBAC as with the defaults.
func wantNoControlPlaneExec(t *testing.T, r *rendered) {
	t.Helper()
	if got := execGrants(r.objects); len(got) != 0 {
		t.Errorf("pods/exec granted with controlPlaneChecks.enabled=false: %v", got)
	}
	for _, o := range r.objects {
		if o.GetNamespace() == "kube-system" {
			t.Errorf("%s rendered with controlPlaneChecks.enabled=false", keyOf(o))
		}
	}
	if strings.Contains(r.notes, "kube-system") {
		t.Errorf("NOTES mention kube-system with controlPlaneChecks.enabled=false:\n%s", r.notes)
	}
	r.mustFind(t, "ClusterRole", "nodewave-manager-role")
	r.mustFindIn(t, "Role", "nodewave-system", "nodewave-manager-role")
	r.mustFindIn(t, "RoleBinding", "nodewave-system", "nodewave-manager-rolebinding")
	wantArgs(t, r, defaultArgs...)
}

// wantControlPlaneExec fails unless the chart renders the control-plane
// checks' Role, <fullname>-manager-role, in kube-system with exactly get
// and create on pods/exec, bound there to the manager's ServiceAccount
// (<fullname>-controller-manager in namespace, the release's), and unless
// no other role grants pods/exec.
func wantControlPlaneExec(t *testing.T, r *rendered, fullname, namespace string) {
	t.Helper()
	role := r.mustFindIn(t, "Role", "kube-system", fullname+"-manager-role")
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	if diff := cmp.Diff([]any{"/pods/exec create", "/pods/exec get"}, permissions(rules)); diff != "" {
		t.Errorf("Role kube-system/%s grants (-want +got):\n%s", role.GetName(), diff)
	}
	for _, p := range execOnlyInKubeSystem(r.objects, namespace, fullname+"-controller-manager") {
		t.Error(p)
	}
}

// dnsLabel is a Kubernetes name that is valid for every kind (RFC 1123
// label, which is also what a Service's name must be, less a leading digit).
var dnsLabel = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// TestLongReleaseNameGivesValidNames renders with the longest release name
// Helm allows: every name must still be a valid DNS label of at most 63
// characters, and distinct.
func TestLongReleaseNameGivesValidNames(t *testing.T) {
	release := "a-release-name-of-fifty-three-characters-exactly-wxyz"
	if len(release) != 53 {
		t.Fatalf("the release name has %d characters, want 53", len(release))
	}
	r := render(t, release, "nodewave-system", nil)
	seen := map[string]string{}
	for _, o := range r.objects {
		name := o.GetName()
		if o.GetKind() != "CustomResourceDefinition" && (len(name) > 63 || !dnsLabel.MatchString(name)) {
			t.Errorf("%s: name %q (%d characters) is not a valid DNS label", keyOf(o), name, len(name))
		}
		// The same name in two namespaces is fine (the manager's Roles in
		// the Job namespace and in kube-system are both <prefix>-manager-role).
		id := o.GetKind() + "/" + o.GetNamespace() + "/" + name
		if other, ok := seen[id]; ok {
			t.Errorf("%s and %s share a name", other, keyOf(o))
		}
		seen[id] = keyOf(o).String()
	}
}

// TestBadValuesAreRefused checks that a mistyped or unknown value stops
// `helm install` and `helm template` with a message naming it.
func TestBadValuesAreRefused(t *testing.T) {
	c := loadChart(t)
	for _, tc := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"manager": map[string]any{"replica": 2}}, "additional properties 'replica' not allowed"},
		{map[string]any{"manager": map[string]any{"replicas": 0}}, "/manager/replicas"},
		{map[string]any{"metrics": map[string]any{"port": "https"}}, "/metrics/port"},
		{map[string]any{"metrics": map[string]any{"port": 70000}}, "/metrics/port"},
		{map[string]any{"crd": map[string]any{"enabled": true}}, "additional properties 'enabled' not allowed"},
		{map[string]any{"allowedUpgradeImages": "registry.example.com/a"}, "/allowedUpgradeImages"},
		{map[string]any{"allowedUpgradeImages": []any{"a,b"}}, "/allowedUpgradeImages/0"},
		{map[string]any{"jobNamespace": "Node_Upgrades"}, "/jobNamespace"},
		{map[string]any{"allowedUpgradeSecrets": []any{"a,b"}}, "/allowedUpgradeSecrets/0"},
		{map[string]any{"allowedUpgradeSecrets": []any{"apt-*"}}, "/allowedUpgradeSecrets/0"},
		{map[string]any{"upgradeServiceAccount": map[string]any{"imagePullSecrets": []any{"upgrader-pull"}}}, "/upgradeServiceAccount/imagePullSecrets/0"},
		{map[string]any{"upgradeServiceAccount": map[string]any{"name": "other"}}, "additional properties 'name' not allowed"},
		{map[string]any{"leaderElection": map[string]any{"leaseDuration": "15"}}, "/leaderElection/leaseDuration"},
		{map[string]any{"manager": map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}}, "/manager/image/pullPolicy"},
		{map[string]any{"manager": map[string]any{"extraArgs": []any{"kube-api-qps=100"}}}, "/manager/extraArgs/0"},
		{map[string]any{"controlPlaneChecks": map[string]any{"enable": false}}, "additional properties 'enable' not allowed"},
		{map[string]any{"controlPlaneChecks": map[string]any{"enabled": "false"}}, "/controlPlaneChecks/enabled"},
		// The Job Role and the kube-system Role would share a name there.
		{map[string]any{"jobNamespace": "kube-system"}, "jobNamespace: the upgrade Jobs (jobNamespace, else the release namespace) cannot run in kube-system"},
		// Two active managers would each spend the whole budget.
		{map[string]any{"manager": map[string]any{"replicas": 2}, "leaderElection": map[string]any{"enable": false}},
			"manager.replicas: more than one replica needs leaderElection.enable=true"},
		{map[string]any{"metrics": map[string]any{"enable": false, "serviceMonitor": map[string]any{"enabled": true}}},
			"metrics.serviceMonitor.enabled: the ServiceMonitor scrapes the metrics Service"},
		{map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"interval": "30"}}}, "/metrics/serviceMonitor/interval"},
		{map[string]any{"manager": map[string]any{"priorityClassName": "System Critical"}}, "/manager/priorityClassName"},
		{map[string]any{"manager": map[string]any{"podAnnotations": map[string]any{"kubectl.kubernetes.io/default-container": "x"}}},
			"manager.podAnnotations: kubectl.kubernetes.io/default-container is the chart's"},
		{map[string]any{"extraObjects": []any{42}}, "/extraObjects/0"},
		{map[string]any{"grafana": map[string]any{"dashboard": map[string]any{"labels": map[string]any{"grafana_dashboard": 1}}}},
			"/grafana/dashboard/labels/grafana_dashboard"},
		{map[string]any{"networkPolicy": map[string]any{"enable": true}}, "additional properties 'enable' not allowed"},
	} {
		_, err := renderChart(c, "nodewave", "nodewave-system", tc.values)
		if err == nil {
			t.Errorf("values %v were accepted, want an error naming %q", tc.values, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %v: error %q does not name %q", tc.values, err, tc.want)
		}
	}
}
