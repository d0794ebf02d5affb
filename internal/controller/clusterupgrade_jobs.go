package controller

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewave/nodewave/internal/nodeupgrade"
)

// ensureJob creates the upgrade Job of node for target unless it exists.
// External mode has no Job. While the node's new Jobs are held (s.jobHold) it
// returns errJobHeld and creates nothing.
func (r *ClusterUpgradeReconciler) ensureJob(ctx context.Context, s *scope, node, target string) error {
	if !jobMode(s.cu) {
		return nil
	}
	job, err := nodeupgrade.BuildControlPlaneJob(s.cu, node, target, r.JobNamespace, controlPlaneRole(s, node))
	if err != nil {
		return &jobRejectedError{err: err}
	}
	if s.job(job.Name) != nil {
		return nil
	}
	if s.jobHold(node) != nil {
		return errJobHeld
	}
	switch err := r.Create(ctx, job); {
	case err == nil:
		s.setJob(job.Name, job)
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil
	case refusedByAPIServer(err):
		return &jobRejectedError{err: err}
	default:
		return err
	}
}

// deleteJob deletes one of this ClusterUpgrade's Jobs with its pods, if it exists.
func (r *ClusterUpgradeReconciler) deleteJob(ctx context.Context, s *scope, name string) error {
	job := s.job(name)
	if job == nil {
		return nil
	}
	s.setJob(name, nil)
	return client.IgnoreNotFound(r.Delete(ctx, job, client.PropagationPolicy("Background")))
}
