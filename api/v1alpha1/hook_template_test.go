package v1alpha1_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	upgradev1alpha1 "github.com/nodewave/nodewave/api/v1alpha1"
)

// A hook's template has the pod template's schema, as the upgrade Job's
// has: an object the manager's typed informer cannot decode must not get
// into the API server, or it stops every ClusterUpgrade, not only its own.
var _ = Describe("a hook template with a wrongly typed field", func() {
	It("is refused at admission, naming the field, and so cannot stop the manager's informer", func(ctx SpecContext) {
		u := validObject("hook-wrong-type")
		set("hooks.preDrain", map[string]any{"template": map[string]any{"spec": map[string]any{"containers": int64(5)}}})(u)
		createErr := env.Client.Create(ctx, u, client.FieldValidation("Strict"))
		if createErr == nil {
			DeferCleanup(func(ctx context.Context) { Expect(env.Client.Delete(ctx, u)).To(Succeed()) })
		}

		// The manager's informer: a cache of typed ClusterUpgrades.
		informers, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme})
		Expect(err).NotTo(HaveOccurred())
		_, err = informers.GetInformer(ctx, &upgradev1alpha1.ClusterUpgrade{}, cache.BlockUntilSynced(false))
		Expect(err).NotTo(HaveOccurred())
		cacheCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go func() { _ = informers.Start(cacheCtx) }()
		syncCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		Expect(informers.WaitForCacheSync(syncCtx)).To(BeTrue(),
			"the informer never synced: the API server accepted a template the typed client cannot decode")
		Expect(informers.List(ctx, &upgradev1alpha1.ClusterUpgradeList{})).To(Succeed())

		Expect(createErr).To(HaveOccurred(), "the API server accepted spec.hooks.preDrain.template.spec.containers: 5")
		Expect(createErr.Error()).To(ContainSubstring("spec.hooks.preDrain.template.spec.containers"))
		Expect(createErr.Error()).To(ContainSubstring("must be of type array"))
	})
})
