// Package controlplane holds the checks nodewave makes on a kubeadm-style
// control-plane node before it counts as upgraded and before the next one
// starts (docs/design-decisions.md, "Control-plane upgrades"):
//
//   - its static pods (StaticPods): every mirror pod on the node Running
//     and Ready, and kube-apiserver, kube-controller-manager and
//     kube-scheduler at the target version;
//   - its API server (APIServerEndpoint, APIServerReady): GET /readyz on
//     the address kubeadm records on the kube-apiserver mirror pod, with
//     the manager's own credentials;
//   - etcd with full quorum (EtcdExec, ParseEtcdHealth, ParseEtcdStatus,
//     EtcdQuorum): `etcdctl endpoint health --cluster` and `endpoint status
//     --cluster`, run through pods/exec inside an etcd pod with the
//     certificates kubeadm already put on the node, every member healthy,
//     as many members as etcd pods, one leader they all agree on, no alarm.
//
// The judgments are pure functions of the objects and of etcdctl's output;
// only APIServerReady and EtcdExec do I/O, and they only fetch. None of
// them retries or waits: the controller calls them again on its next pass,
// and a check that fails keeps the node verifying until upgrade.timeout.
package controlplane
