package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
	"github.com/nodewave/nodewave/internal/nodeupgrade"
)

// AllowedImagesFlag is the manager flag that sets
// ClusterUpgradeReconciler.AllowedImages; ImageNotAllowed messages name it.
const AllowedImagesFlag = "allowed-upgrade-images"

// AllowedSecretsFlag is the manager flag that sets
// ClusterUpgradeReconciler.AllowedSecrets; CredentialNotAllowed messages
// name it.
const AllowedSecretsFlag = "allowed-upgrade-secrets"

// The Job template of a ClusterUpgrade in Job mode is judged before any
// node needs it, so that a template that cannot run stalls the upgrade
// with nothing touched instead of leaving a drained node behind:
//
//   - checkImages, on every pass, against the manager's own rules (no API
//     call): its image allow-list, then the credentials of the Job
//     namespace the template may use (checkCredentials);
//   - dryRunJob, when the plan would start nodes: the Job of the first node
//     to start is created with a server-side dry run, so the API server's
//     validation and admission (webhooks, policies, quotas) judge it.
//
// The refusal of an upgrade Job at its real creation (jobRejectedError)
// stays as the fallback for what changes between the two.

// errJobHeld says a node needs a new upgrade Job while the ClusterUpgrade
// is held (scope.jobHold): the node waits where it is.
var errJobHeld = errors.New("no new upgrade Job while the ClusterUpgrade is held")

// jobMode reports whether cu upgrades its nodes with Jobs.
func jobMode(cu *upgradev1alpha1.ClusterUpgrade) bool {
	return cu.Spec.Upgrade.Type != upgradev1alpha1.ExternalUpgrade
}

// upgradeTemplateField is the upgrade Job's template in the spec.
const upgradeTemplateField = "spec.upgrade.job.template"

// jobTemplate is one pod template of a ClusterUpgrade's Jobs, with the
// field it is in.
type jobTemplate struct {
	field    string // spec.upgrade.job.template, spec.hooks.preDrain.template, ...
	template *corev1.PodTemplateSpec
}

// jobTemplates are the pod templates of cu's Jobs: the upgrade Job's in
// Job mode, then each hook Job's (spec.hooks).
func jobTemplates(cu *upgradev1alpha1.ClusterUpgrade) []jobTemplate {
	var out []jobTemplate
	if jobMode(cu) && cu.Spec.Upgrade.Job != nil {
		out = append(out, jobTemplate{upgradeTemplateField, &cu.Spec.Upgrade.Job.Template})
	}
	for _, p := range hookPoints(cu) {
		out = append(out, jobTemplate{p.Field() + ".template", &p.Job(cu.Spec.Hooks).Template})
	}
	return out
}

// checkImages judges the Job templates against the manager's own rules:
// the image allow-list (imagesNotAllowed), then the credentials of the Job
// namespace they may use (checkCredentials). reconcile calls it before any
// node starts, and holds the nodes in flight on its blocker.
func (r *ClusterUpgradeReconciler) checkImages(s *scope) *blocker {
	templates := jobTemplates(s.cu)
	if b := r.imagesNotAllowed(templates); b != nil {
		return b
	}
	return checkCredentials(templates, r.AllowedSecrets, r.JobNamespace)
}

// imagesNotAllowed refuses Job templates with an image that the manager's
// allow-list does not allow (a container's, an init or ephemeral
// container's, an image volume's), naming the images and the flag.
func (r *ClusterUpgradeReconciler) imagesNotAllowed(templates []jobTemplate) *blocker {
	if r.AllowedImages.AllowsAll() {
		return nil
	}
	var names []string
	for _, t := range templates {
		for _, ri := range r.AllowedImages.Refused(t.template) {
			what := "container " + ri.Container
			if ri.Volume != "" {
				what = "image volume " + ri.Volume
			}
			names = append(names, fmt.Sprintf("%q (%s.%s, %s)", ri.Image, t.field, ri.Field, what))
		}
	}
	if len(names) == 0 {
		return nil
	}
	verb := "image %s is"
	if len(names) > 1 {
		verb = "images %s are"
	}
	return &blocker{reason: upgradev1alpha1.ReasonImageNotAllowed, message: fmt.Sprintf(verb+
		" not allowed by the manager's --%s=%s; use an allowed image, or ask the cluster admin to allow it",
		strings.Join(names, ", "), AllowedImagesFlag, r.AllowedImages.String())}
}

// checkCredentials refuses Job templates that name a ServiceAccount other
// than the upgrade Jobs' own, or a Secret of the Job namespace that policy
// does not allow, naming each with its field.
func checkCredentials(templates []jobTemplate, policy nodeupgrade.CredentialPolicy, namespace string) *blocker {
	var names []string
	for _, t := range templates {
		for _, rc := range policy.Refused(t.template) {
			names = append(names, fmt.Sprintf("%s %q (%s.%s)", rc.Kind, rc.Name, t.field, rc.Field))
		}
	}
	if len(names) == 0 {
		return nil
	}
	allowed := "--" + AllowedSecretsFlag + " (none)"
	if list := policy.String(); list != "" {
		allowed = "--" + AllowedSecretsFlag + "=" + list
	}
	return &blocker{reason: upgradev1alpha1.ReasonCredentialNotAllowed, message: fmt.Sprintf(
		"the Job template uses credentials of the Job namespace %s that an upgrade Job may not use: %s; "+
			"an upgrade Job runs as the ServiceAccount %s, which has no permissions, and may use no Secret of that "+
			"namespace but those of the manager's %s: remove these fields, or ask the cluster admin to allow "+
			"the Secret (for a private registry, to add its pull secret to the ServiceAccount %s)",
		namespace, strings.Join(names, ", "), nodeupgrade.ServiceAccount, allowed, nodeupgrade.ServiceAccount)}
}

// dryRunJob has the API server judge the upgrade Job of node, the first
// node the plan starts, with a server-side dry run, before the node is
// cordoned. It returns a JobRejected blocker when the Job cannot be built
// or the API server refuses it, and an error when the API server could not
// answer (the pass is then retried with the controller's backoff).
//
// An acceptance is remembered per ClusterUpgrade UID and generation, so a
// ClusterUpgrade costs one dry run per spec (and per manager start). A
// refusal is remembered too, and judged again at once on a spec change, or
// after refusalRecheck (doubling up to maxRefusalRecheck) for causes
// outside the spec, such as an admission webhook, a namespace's policy or
// a quota.
func (r *ClusterUpgradeReconciler) dryRunJob(ctx context.Context, s *scope, node string) (*blocker, error) {
	if len(jobTemplates(s.cu)) == 0 {
		return nil, nil
	}
	if b, known := r.dryRuns.lookup(s.cu, s.now); known {
		return b, nil
	}
	message, err := r.dryRunJobs(ctx, s, node)
	if err != nil {
		return nil, err
	}
	if message == "" {
		r.dryRuns.accept(s.cu)
		return nil, nil
	}
	b := &blocker{reason: upgradev1alpha1.ReasonJobRejected, message: message}
	b.requeueAfter = r.dryRuns.refuse(s.cu, b, s.now)
	return b, nil
}

// dryRunJobs builds each Job node would get (its upgrade Job in Job mode,
// its hook Jobs) and has the API server judge it with a dry run. It
// returns why the first one cannot be built or is refused, "" when all
// are accepted, and an error when the API server could not answer.
func (r *ClusterUpgradeReconciler) dryRunJobs(ctx context.Context, s *scope, node string) (string, error) {
	type built struct {
		what, field string
		job         *batchv1.Job
		err         error
	}
	var jobs []built
	if jobMode(s.cu) {
		job, err := r.buildJob(s, node, s.cu.Spec.TargetVersion)
		jobs = append(jobs, built{"upgrade Job", "spec.upgrade.job", job, err})
	}
	for _, p := range hookPoints(s.cu) {
		job, err := r.buildHookJob(s, p, node)
		jobs = append(jobs, built{string(p) + " hook Job", p.Field(), job, err})
	}
	for _, j := range jobs {
		if j.err != nil {
			return fmt.Sprintf("cannot build the %s of node %s from %s: %v", j.what, node, j.field, j.err), nil
		}
		err := r.Create(ctx, j.job, client.DryRunAll)
		switch {
		case err == nil, apierrors.IsAlreadyExists(err), dryRunUnsupported(err):
			// The name is checked after validation and admission: a
			// Job of that name (a failed node's, kept for its logs)
			// says nothing against the template. A webhook that
			// cannot take a dry run leaves the judgement to the real
			// creation.
			continue
		case !refusedByAPIServer(err):
			return "", fmt.Errorf("dry run of the %s of node %s: %w", j.what, node, err)
		}
		return fmt.Sprintf("the API server refused the %s built from %s.template "+
			"(a dry run for node %s, before cordoning any node): %v", j.what, j.field, node, err), nil
	}
	return "", nil
}

// refusedByAPIServer reports whether err is the API server refusing an
// object for what it is (validation, admission, authorisation, quota), as
// opposed to failing to answer: only a change can make it accept it.
// Admission webhooks deny with 400 unless they say otherwise; validation
// answers 422; policies, quotas and RBAC 403.
func refusedByAPIServer(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err)
}

// dryRunUnsupported reports whether err is an admission webhook refusing
// a dry run because it may have side effects (possible only for webhooks
// registered before admissionregistration/v1 required sideEffects None or
// NoneOnDryRun): it says nothing about the Job.
func dryRunUnsupported(err error) bool {
	return apierrors.IsBadRequest(err) && strings.Contains(err.Error(), "does not support dry run")
}

// How soon a refused dry run is tried again without a spec change: after
// refusalRecheck, doubling on each refusal up to maxRefusalRecheck.
const (
	refusalRecheck    = 30 * time.Second
	maxRefusalRecheck = 10 * time.Minute
)

// dryRunMemo remembers the last dry-run outcome of each ClusterUpgrade, by
// UID. It lives in memory only: a restarted manager judges again.
type dryRunMemo struct {
	mu    sync.Mutex
	byUID map[types.UID]dryRunOutcome
}

// dryRunOutcome is the outcome of the dry runs of one generation.
type dryRunOutcome struct {
	generation int64
	// refusal is nil when the API server accepted the Job.
	refusal *blocker
	// refusals counts the refusals of this generation; recheckAt is when
	// the last one is judged again.
	refusals  int
	recheckAt time.Time
}

// lookup returns the remembered outcome for cu's generation: known is
// false when there is none, or when a refusal is due to be judged again.
func (m *dryRunMemo) lookup(cu *upgradev1alpha1.ClusterUpgrade, now time.Time) (b *blocker, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.byUID[cu.UID]
	switch {
	case !ok || o.generation != cu.Generation:
		return nil, false
	case o.refusal == nil:
		return nil, true
	case !now.Before(o.recheckAt):
		return nil, false
	}
	refusal := *o.refusal
	refusal.requeueAfter = o.recheckAt.Sub(now)
	return &refusal, true
}

// accept remembers that the API server accepted cu's Job.
func (m *dryRunMemo) accept(cu *upgradev1alpha1.ClusterUpgrade) {
	m.store(cu.UID, dryRunOutcome{generation: cu.Generation})
}

// refuse remembers a refusal of cu's Job and returns when to judge it again.
func (m *dryRunMemo) refuse(cu *upgradev1alpha1.ClusterUpgrade, b *blocker, now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	refusals := 1
	if o, ok := m.byUID[cu.UID]; ok && o.generation == cu.Generation && o.refusal != nil {
		refusals = o.refusals + 1
	}
	wait := refusalRecheck
	for i := 1; i < refusals && wait < maxRefusalRecheck; i++ {
		wait *= 2
	}
	wait = min(wait, maxRefusalRecheck)
	m.storeLocked(cu.UID, dryRunOutcome{generation: cu.Generation, refusal: b, refusals: refusals, recheckAt: now.Add(wait)})
	return wait
}

// forget drops what is remembered of a deleted ClusterUpgrade.
func (m *dryRunMemo) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byUID, uid)
}

func (m *dryRunMemo) store(uid types.UID, o dryRunOutcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.storeLocked(uid, o)
}

func (m *dryRunMemo) storeLocked(uid types.UID, o dryRunOutcome) {
	if m.byUID == nil {
		m.byUID = map[types.UID]dryRunOutcome{}
	}
	m.byUID[uid] = o
}
