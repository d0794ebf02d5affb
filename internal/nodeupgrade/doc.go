// Package nodeupgrade builds the per-node upgrade Job of a ClusterUpgrade
// whose upgrade.type is Job, and reads a Job's outcome.
//
// One Job upgrades one node to one target version. BuildJob turns the
// admin's pod template (spec.upgrade.job.template) into that Job: pinned to
// the node, tolerating every taint, told what to do through the
// NODEWAVE_TARGET_VERSION and NODEWAVE_NODE_NAME environment variables,
// labelled for the node and the ClusterUpgrade, owned by the ClusterUpgrade
// and bounded by upgrade.timeout. Its name, from JobName, is deterministic,
// so the controller finds the Job again after a restart without keeping any
// state of its own.
//
// JobPhase says whether such a Job is running, succeeded or failed. It is
// only a hint: the kubelet's reported version is the truth, so the
// controller treats a succeeded Job on a node still at the old version as
// not done, and a failed Job on a node already Ready at the target as done.
//
// ImagePolicy is the manager's allow-list of upgrade images
// (--allowed-upgrade-images): it says which images of a Job template it
// does not allow (containers', init and ephemeral containers', image
// volumes'), comparing references as a container runtime reads them.
//
// CredentialPolicy says which credentials of the Job namespace a Job
// template may not use: a ServiceAccount other than ServiceAccount
// (nodewave-upgrade, bound to no role, which BuildJob sets on every Job
// without its token), and the Secrets it does not allow by name. Neither
// policy is a privilege boundary: the upgrade Job is root on its node.
//
// The package is pure: it does no I/O and never modifies its arguments.
package nodeupgrade
