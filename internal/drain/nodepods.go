package drain

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// nodePods watches the pods of one draining node: one field-selected LIST
// and one WATCH for the whole drain, where listing the node's pods on every
// pass cost a LIST every poll interval (at 1,000 nodes, with drains of
// minutes, most of the manager's requests). It holds only that node's
// pods, so the manager's memory still does not grow with the cluster's.
//
// It is a plain informer (a reflector, a store and the handler called in
// line), not a shared one: a shared informer gives each handler a
// notification buffer of its own, 16 KiB at least, and with 500 nodes
// draining at once those buffers were the largest item of the manager's
// heap after the Node cache.
type nodePods struct {
	store      cache.Store
	controller cache.Controller
	stop       context.CancelFunc
}

// watchNodePods starts watching node's pods; changed is called, from the
// informer's goroutine, when one of them is deleted or changes phase: only
// then can the node have become drained (a pod gone, or finished, which a
// drain leaves alone). Other events (status updates, the deletion mark, a
// pod added) cannot drain it, and the node's next pass sees them anyway.
func watchNodePods(client kubernetes.Interface, node string, changed func()) *nodePods {
	onNode := fields.OneTermEqualSelector("spec.nodeName", node).String()
	pods := client.CoreV1().Pods(metav1.NamespaceAll)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = onNode
			return pods.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = onNode
			return pods.Watch(ctx, opts)
		},
	}
	store, controller := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Pod{},
		Transform:     trimPod,
		Handler: cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(old, cur any) {
				if phaseOf(old) != phaseOf(cur) {
					changed()
				}
			},
			DeleteFunc: func(any) { changed() },
		},
	})
	ctx, stop := context.WithCancel(context.Background())
	go controller.RunWithContext(ctx)
	return &nodePods{store: store, controller: controller, stop: stop}
}

// synced waits until the first list has arrived, or ctx ends; it reports
// whether it has.
func (w *nodePods) synced(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), w.controller.HasSynced)
}

// list is the node's pods as last seen, as a PodList kubectl's drain
// helper would have listed. The items are copies: the helper may change
// them.
func (w *nodePods) list() *corev1.PodList {
	objs := w.store.List()
	l := &corev1.PodList{Items: make([]corev1.Pod, 0, len(objs))}
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			l.Items = append(l.Items, *p.DeepCopy())
		}
	}
	return l
}

// trimPod keeps of a watched pod only what a drain pass reads (kubectl's
// filters and nodewave's): its metadata but managedFields (owners,
// annotations, labels, deletion), its node, its emptyDir volumes and its
// phase. Containers, the service account token's projected volume and the
// status's conditions are most of a pod, and a hundred draining nodes hold
// thousands of pods.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // a tombstone
	}
	t := &corev1.Pod{ObjectMeta: p.ObjectMeta, Spec: corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{Phase: p.Status.Phase}}
	t.ManagedFields = nil
	for _, v := range p.Spec.Volumes {
		if v.EmptyDir != nil {
			t.Spec.Volumes = append(t.Spec.Volumes, v)
		}
	}
	return t, nil
}

func phaseOf(obj any) corev1.PodPhase {
	if p, ok := obj.(*corev1.Pod); ok {
		return p.Status.Phase
	}
	return ""
}
