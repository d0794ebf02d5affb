package e2e

import (
	"context"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// managerUser is the manager's ServiceAccount as the authorizer sees it.
const managerUser = "system:serviceaccount:" + jobNamespace + ":nodewave-controller-manager"

// access is one question to the authorizer about the manager's ServiceAccount.
type access struct {
	verb, group, resource, subresource, namespace string
}

func (a access) String() string {
	r := a.resource
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.group != "" {
		r += "." + a.group
	}
	ns := a.namespace
	if ns == "" {
		ns = "(cluster)"
	}
	return a.verb + " " + r + " in " + ns
}

// allowed asks the API server's authorizer (a SubjectAccessReview, which
// evaluates the RBAC objects config/rbac installed).
func allowed(ctx context.Context, a access) bool {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   managerUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + jobNamespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group,
			Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace},
	}}
	Expect(admin.Create(ctx, sar)).To(Succeed())
	return sar.Status.Allowed
}

var _ = Describe("security of the installed manager", func() {
	It("grants the manager's ServiceAccount only what it needs (RBAC least privilege)", func(ctx SpecContext) {
		needed := []access{
			{verb: "list", resource: "nodes"}, {verb: "watch", resource: "nodes"}, {verb: "patch", resource: "nodes"},
			{verb: "list", resource: "pods"}, {verb: "watch", resource: "pods"}, {verb: "create", resource: "pods", subresource: "eviction", namespace: "workloads"},
			{verb: "delete", resource: "pods", namespace: "workloads"}, // drain.onTimeout: ForceDelete only
			{verb: "list", group: "policy", resource: "poddisruptionbudgets"},
			// health.replacementsReady reads the workloads the drains evicted.
			{verb: "get", group: "apps", resource: "replicasets", namespace: "workloads"},
			{verb: "get", group: "apps", resource: "statefulsets", namespace: "workloads"},
			{verb: "get", resource: "replicationcontrollers", namespace: "workloads"},
			{verb: "create", group: "batch", resource: "jobs", namespace: jobNamespace},
			{verb: "delete", group: "batch", resource: "jobs", namespace: jobNamespace},
			{verb: "watch", group: "upgrade.nodewave.io", resource: "clusterupgrades"},
			{verb: "patch", group: "upgrade.nodewave.io", resource: "clusterupgrades", subresource: "status"},
			{verb: "create", group: "events.k8s.io", resource: "events", namespace: "default"},
			{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: jobNamespace},
			// etcdctl in kubeadm's etcd pods, for spec.controlPlane's quorum check.
			{verb: "create", resource: "pods", subresource: "exec", namespace: "kube-system"},
			{verb: "get", resource: "pods", subresource: "exec", namespace: "kube-system"},
		}
		refused := []access{
			{verb: "get", resource: "secrets", namespace: jobNamespace},
			{verb: "list", resource: "secrets"},
			{verb: "get", resource: "secrets", namespace: "kube-system"},
			{verb: "get", resource: "configmaps", namespace: "kube-system"},
			{verb: "create", group: "batch", resource: "jobs", namespace: "default"},
			{verb: "create", group: "batch", resource: "jobs", namespace: "kube-system"},
			{verb: "create", resource: "pods", namespace: jobNamespace},
			// pods/exec in kube-system only.
			{verb: "create", resource: "pods", subresource: "exec", namespace: "workloads"},
			{verb: "get", resource: "pods", subresource: "exec", namespace: "workloads"},
			{verb: "create", resource: "pods", subresource: "exec", namespace: jobNamespace},
			{verb: "create", resource: "pods", subresource: "exec", namespace: "default"},
			{verb: "create", resource: "pods", subresource: "exec"}, // in every namespace
			{verb: "create", resource: "pods", subresource: "attach", namespace: "kube-system"},
			{verb: "create", resource: "pods", namespace: "kube-system"},
			{verb: "patch", resource: "pods", namespace: "workloads"},
			{verb: "delete", resource: "nodes"}, {verb: "update", resource: "nodes"}, {verb: "create", resource: "nodes"},
			{verb: "patch", resource: "nodes", subresource: "status"},
			{verb: "patch", group: "apps", resource: "deployments", namespace: "workloads"},
			{verb: "list", group: "apps", resource: "replicasets"}, // get only: no cache of every ReplicaSet
			{verb: "update", group: "apps", resource: "statefulsets", namespace: "workloads"},
			{verb: "delete", group: "apps", resource: "daemonsets", namespace: "workloads"},
			{verb: "patch", group: "policy", resource: "poddisruptionbudgets", namespace: "workloads"},
			{verb: "create", group: "upgrade.nodewave.io", resource: "clusterupgrades"},
			{verb: "delete", group: "upgrade.nodewave.io", resource: "clusterupgrades"},
			{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: jobNamespace},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
			{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "roles", namespace: jobNamespace},
			{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system"},
			{verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
		}
		for _, a := range needed {
			Expect(allowed(ctx, a)).To(BeTrue(), "the manager needs to %s", a)
		}
		for _, a := range refused {
			Expect(allowed(ctx, a)).To(BeFalse(), "the manager may %s", a)
		}

		By("no role bound to it uses a wildcard, and only a Role of kube-system grants pods/exec")
		bound := managerRoles(ctx)
		Expect(bound).NotTo(BeEmpty())
		for _, b := range bound {
			for _, r := range b.rules {
				for _, field := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
					Expect(field).NotTo(ContainElement("*"), "%s: rule %+v", b.role, r)
				}
			}
		}
		Expect(execGrants(bound)).To(ConsistOf("Role kube-system/nodewave-manager-role"),
			"the roles bound to the manager that grant pods/exec")

		By("the check of pods/exec can fail: the ClusterRole with pods/exec added is refused")
		withExec := slices.Clone(bound)
		for i, b := range withExec {
			if b.role == "ClusterRole nodewave-manager-role" {
				withExec[i].rules = append(slices.Clone(b.rules),
					rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}})
			}
		}
		Expect(execGrants(withExec)).To(ContainElement("ClusterRole nodewave-manager-role"))
	})

	It("ships a manager Deployment that Pod Security 'restricted' admits", func(ctx SpecContext) {
		dep := &appsv1.Deployment{}
		for _, doc := range renderedConfig() {
			if strings.Contains(doc, "\nkind: Deployment\n") || strings.HasPrefix(doc, "kind: Deployment\n") {
				Expect(yaml.Unmarshal([]byte(doc), dep)).To(Succeed())
			}
		}
		Expect(dep.Name).NotTo(BeEmpty(), "config/default renders no Deployment")
		spec := dep.Spec.Template.Spec
		Expect(spec.Containers).To(HaveLen(1))
		c := spec.Containers[0]
		Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			Expect(c.Resources.Requests).To(HaveKey(res))
			Expect(c.Resources.Limits).To(HaveKey(res))
		}
		Expect(c.Args).To(ContainElement(HavePrefix("--metrics-bind-address=:8443")), "metrics served over HTTPS")
		Expect(c.Args).NotTo(ContainElement(HavePrefix("--metrics-secure=false")))

		By("creating its pod, server-side dry run, in a namespace that enforces the restricted profile")
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-restricted",
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
		Expect(client.IgnoreAlreadyExists(admin.Create(ctx, ns))).To(Succeed())
		// The API server admits no pod in a namespace before
		// kube-controller-manager has given it its default ServiceAccount;
		// after a restart of the API server its informers may take seconds.
		Eventually(func() error {
			return admin.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
		}).Should(Succeed())
		pod := func(spec corev1.PodSpec) *corev1.Pod {
			spec.ServiceAccountName = "" // the ServiceAccount lives in the manager's namespace
			return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, GenerateName: "manager-"}, Spec: spec}
		}
		Expect(admin.Create(ctx, pod(*spec.DeepCopy()), client.DryRunAll)).To(Succeed())

		By("the same pod without its container securityContext is refused: the check can fail")
		weak := spec.DeepCopy()
		weak.Containers[0].SecurityContext = nil
		err := admin.Create(ctx, pod(*weak), client.DryRunAll)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("violates PodSecurity \"restricted"))
	})
})

// boundRole is a Role or ClusterRole bound to the manager's ServiceAccount,
// as "Kind [namespace/]name", with its rules.
type boundRole struct {
	role  string
	rules []rbacv1.PolicyRule
}

// managerRoles reads every role bound to the manager's ServiceAccount: by
// a ClusterRoleBinding, or by a RoleBinding in any namespace (kube-system's
// included).
func managerRoles(ctx context.Context) []boundRole {
	var out []boundRole
	bindings := &rbacv1.ClusterRoleBindingList{}
	Expect(admin.List(ctx, bindings)).To(Succeed())
	for _, b := range bindings.Items {
		if boundToManager(b.Subjects) {
			role := &rbacv1.ClusterRole{}
			Expect(admin.Get(ctx, client.ObjectKey{Name: b.RoleRef.Name}, role)).To(Succeed())
			out = append(out, boundRole{"ClusterRole " + role.Name, role.Rules})
		}
	}
	roleBindings := &rbacv1.RoleBindingList{}
	Expect(admin.List(ctx, roleBindings)).To(Succeed())
	for _, b := range roleBindings.Items {
		if !boundToManager(b.Subjects) {
			continue
		}
		if b.RoleRef.Kind == "ClusterRole" {
			role := &rbacv1.ClusterRole{}
			Expect(admin.Get(ctx, client.ObjectKey{Name: b.RoleRef.Name}, role)).To(Succeed())
			out = append(out, boundRole{"ClusterRole " + role.Name + " in " + b.Namespace, role.Rules})
			continue
		}
		role := &rbacv1.Role{}
		Expect(admin.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.RoleRef.Name}, role)).To(Succeed())
		out = append(out, boundRole{"Role " + role.Namespace + "/" + role.Name, role.Rules})
	}
	return out
}

// execGrants lists the roles that grant pods/exec (any verb, wildcards
// included).
func execGrants(roles []boundRole) []string {
	var out []string
	for _, b := range roles {
		for _, r := range b.rules {
			core := slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, "*")
			exec := slices.ContainsFunc(r.Resources, func(res string) bool {
				return res == "pods/exec" || res == "pods/*" || res == "*" || res == "*/exec"
			})
			if core && exec && len(r.Verbs) > 0 {
				out = append(out, b.role)
				break
			}
		}
	}
	return out
}

func boundToManager(subjects []rbacv1.Subject) bool {
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == jobNamespace && s.Name == "nodewave-controller-manager" {
			return true
		}
	}
	return false
}
