// Package drain moves the pods off a node without ever blocking: one call
// is one pass that issues evictions and returns at once, and the controller
// calls it again on its next reconcile until the node is empty.
//
// It stands on kubectl's drain package (k8s.io/kubectl/pkg/drain): its pod
// listing (live, by spec.nodeName, never from a cluster-wide cache) and its
// filters, which leave DaemonSet pods and mirror pods alone. Evictions go
// through the policy/v1 Eviction API, so PodDisruptionBudgets are
// honoured, as kubectl's EvictPod sends them but with client-go's retries
// turned off: kube-apiserver answers 429 with Retry-After: 10 while a
// budget's status is not observed yet, and client-go would sleep through
// ten of those in a single call. It never calls kubectl's blocking
// RunNodeDrain or DeleteOrEvictPods.
//
// nodewave's own rules come on top: finished pods are left alone, and pods
// with emptyDir volumes or without a controller are evicted only when
// drain.deleteEmptyDirData or drain.force allow it; otherwise they block the
// drain, named in the result's message with the field that would allow
// them. Pods already terminating are never evicted again; they count as
// remaining until they are gone.
//
// The drain rules of spec.drain.rules and each pod's own markers
// (drainpolicy.Place) come last: a pod to skip stays and holds nothing; a
// pod to wait for is never evicted and counts as remaining until it has
// Succeeded or Failed (ForceDelete deletes it); a marker or rule that does
// not parse keeps its pod, named with the value; and a pass evicts only
// the pods of the lowest drain order still on the node, the others
// waiting for a later pass (ForceDelete deletes them all at once).
package drain
