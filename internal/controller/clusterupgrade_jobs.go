package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
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
	job, err := r.buildJob(s, node, target)
	if err != nil {
		return &jobRejectedError{field: upgradeTemplateField, err: err}
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
		return &jobRejectedError{field: upgradeTemplateField, err: err}
	default:
		return err
	}
}

// buildJob builds the upgrade Job of node for target, with its
// control-plane role when it is a control-plane node.
func (r *ClusterUpgradeReconciler) buildJob(s *scope, node, target string) (*batchv1.Job, error) {
	return nodeupgrade.BuildControlPlaneJob(s.cu, node, target, r.JobNamespace, controlPlaneRole(s, node))
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
