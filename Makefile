# nodewave — run `make help` for the targets.

# The release being built: the tag on HEAD (v0.1.0), else the last tag with
# the commits since (v0.1.0-3-g4e76085), else v0.0.0-devel. It is stamped
# into both binaries (--version, kubectl nodewave version) and the images.
VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo v0.0.0-devel)
# The linker flags of every release build: no symbol table, the version.
# (Like IMAGE_LABELS, expanded where used: no git call when make parses.)
LDFLAGS = -s -w -X github.com/nodewave/nodewave/internal/buildinfo.version=$(VERSION)

# Image of the manager, for docker-build and deploy.
IMG ?= ghcr.io/nodewave/nodewave:$(VERSION)

# The Kubernetes binaries (kube-apiserver, etcd, kubectl, ...) are built from
# the Go module proxy by hack/toolchain.sh and cached outside the repository.
TOOLCHAIN := hack/toolchain.sh
CONTROLLER_GEN := go tool controller-gen
GOLANGCI_LINT := go tool -modfile=hack/tools/go.mod golangci-lint
# actionlint is run at its own pinned version, with the dependencies its own
# go.mod names: in hack/tools/go.mod golangci-lint's newer go.yaml.in/yaml/v4
# would win, and actionlint v1.7.12 does not build with it.
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# Ginkgo flags for the envtest suites: verbose enough to follow in CI.
GINKGO_ARGS ?= -ginkgo.v=false

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

# The embedded pod templates (corev1.PodTemplateSpec) of the CRD.
POD_TEMPLATES := spec.upgrade.job.template spec.hooks.preDrain.template spec.hooks.postUpgrade.template
POD_TEMPLATE_REF := [PodTemplateSpec](https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-template-v1/\#PodTemplateSpec) (core/v1)

# hack/crdtrim keeps the pod templates' schema but drops the descriptions
# under them and their ephemeralContainers (a Job's pod never has any), so
# the CRD fits a plain `kubectl apply -f` (docs/design-decisions.md).
CRDTRIM := $(foreach t,$(POD_TEMPLATES),-trim $(t) -drop $(t).spec.ephemeralContainers)

# Embedded Kubernetes types that the API reference links to instead of
# listing their thousands of fields.
APIDOCS_EXTERNAL := $(foreach t,$(POD_TEMPLATES),-external '$(t)=$(POD_TEMPLATE_REF)')

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests under config/, copy them into the Helm chart, and write docs/api-reference.md from the CRD.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:generateEmbeddedObjectMeta=true paths="./..." output:crd:artifacts:config=config/crd/bases
	go run ./hack/crdtrim $(CRDTRIM) config/crd/bases/upgrade.nodewave.io_clusterupgrades.yaml
	go run ./hack/chartsync
	go run ./hack/apidocs -out docs/api-reference.md $(APIDOCS_EXTERNAL) config/crd/bases/*.yaml

.PHONY: generate
generate: ## Generate DeepCopy methods for the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

# Modules of their own beside the manager's, so that what only a test, a
# benchmark or a build helper needs stays out of the manager's go.mod (and
# out of what `go install` users download): each has a go.mod that reaches
# the manager's packages through `replace github.com/nodewave/nodewave =>
# ../..` where it uses them. vet, lint, tidy and verify cover every one.
#   test/chart          the Helm chart's test (Helm, kustomize)
#   test/observability  the Prometheus and Grafana checks (the Prometheus module, large: its first build takes minutes)
#   test/gitops         the Argo CD health check and the Flux example (gopher-lua, the Flux API types, kustomize)
#   test/bench          the benchmark harness (gonum/plot)
#   hack/ociimage       the image builder (go-containerregistry, the SPDX tools, the CA bundle)
#   hack/release        the plugin's release archives and krew manifest (krew)
CHART_TEST := test/chart
OBSERVABILITY_MOD := test/observability
GITOPS_MOD := test/gitops
BENCH_MOD := test/bench
OCIIMAGE_MOD := hack/ociimage
RELEASE_MOD := hack/release
MODULES := $(CHART_TEST) $(OBSERVABILITY_MOD) $(GITOPS_MOD) $(BENCH_MOD) $(OCIIMAGE_MOD) $(RELEASE_MOD)
# Runs its argument in the repository's root and then in every module of
# MODULES, stopping at the first failure.
in-every-module = $(1) && for mod in $(MODULES); do (cd $$mod && $(1)) || exit 1; done

.PHONY: vet
vet: ## Run go vet on every module (the manager's and those of MODULES).
	$(call in-every-module,go vet ./...)

.PHONY: lint
lint: ## Run golangci-lint (built from hack/tools/go.mod) on every module, and actionlint on .github/workflows.
	go run $(ACTIONLINT)
	$(call in-every-module,go tool -modfile=$(CURDIR)/hack/tools/go.mod golangci-lint run ./...)

.PHONY: tidy
tidy: ## Run go mod tidy on every module.
	$(call in-every-module,go mod tidy)

.PHONY: verify
verify: ## Fail if regenerating changes any generated file (CRD, RBAC, DeepCopy, the chart's copies, the API reference) or a go.mod; gofmt, vet, lint.
	@sum() { find api config charts docs/api-reference.md go.mod go.sum $(foreach mod,$(MODULES),$(mod)/go.mod $(mod)/go.sum) -type f | LC_ALL=C sort | xargs sha256sum; }; \
	before="$$(sum)"; \
	$(MAKE) -s manifests generate tidy; \
	if [ "$$before" != "$$(sum)" ]; then \
		echo "generated files were out of date and have been regenerated; review and commit:"; \
		diff <(echo "$$before") <(sum) | sed -n 's/^> [0-9a-f]*  /  /p'; exit 1; \
	fi
	@test -z "$$(gofmt -l api cmd internal hack test 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l api cmd internal hack test; exit 1; }
	$(MAKE) vet lint

.PHONY: toolchain
toolchain: ## Build (or reuse) kube-apiserver, etcd and kubectl for envtest.
	$(TOOLCHAIN) envtest

.PHONY: toolchain-sim
toolchain-sim: ## Build (or reuse) every binary of the simulated cluster (adds kube-controller-manager, kube-scheduler, kwok, kwokctl).
	$(TOOLCHAIN) sim

##@ Test

.PHONY: test
test: ## Everything CI runs: generated files current, unit tests, the Prometheus and Grafana checks, short fuzz runs, envtest and end-to-end suites.
	$(MAKE) verify
	$(MAKE) test-unit test-observability test-fuzz test-integration test-chart test-release test-e2e test-real

# Fuzz targets as package:function. `go test -fuzz` takes one target at a
# time; test-unit already runs their committed corpora (testdata/fuzz) as
# plain tests.
FUZZ_TARGETS := ./internal/version:FuzzParse ./internal/plan:FuzzCompute ./internal/plan:FuzzHandOn
FUZZTIME ?= 15s

# test-fuzz ignores one failure: "context deadline exceeded" with no failing
# input written, which is go test racing its own -fuzztime deadline
# (go.dev/issue/75804, fixed in Go 1.27), not a finding.
.PHONY: test-fuzz
test-fuzz: ## Short fuzz runs of every fuzz target, seeded from the committed corpora; FUZZTIME=15s each by default.
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; fn=$${target##*:}; log=$$(mktemp); rc=0; \
		echo "go test $$pkg -run='^$$' -fuzz='^$$fn\$$' -fuzztime=$(FUZZTIME)"; \
		go test $$pkg -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) >$$log 2>&1 || rc=$$?; \
		grep '^fuzz: elapsed' $$log | tail -n 1 || true; \
		if [ $$rc -ne 0 ]; then \
			if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
				echo "  ignored: go test's end-of-fuzztime race (go.dev/issue/75804), no failing input"; \
			else \
				grep -v '^fuzz: elapsed' $$log; rm -f $$log; exit 1; \
			fi; \
		fi; \
		rm -f $$log; \
	done

# Packages whose tests start a real kube-apiserver and etcd (envtest).
ENVTEST_PKGS := ./api/... ./internal/controller/... ./internal/drain/... ./cmd/kubectl-nodewave

# The modules whose tests are unit tests too (no binaries, seconds).
UNIT_MODULES := $(GITOPS_MOD) $(BENCH_MOD) $(OCIIMAGE_MOD) $(RELEASE_MOD)

.PHONY: test-unit
test-unit: ## Unit tests: pure code, no binaries (the manager's module and those of UNIT_MODULES).
	go test -race -count=1 $$(go list ./... | grep -v -e /api/v1alpha1 -e /internal/controller -e /internal/drain -e /test/e2e -e /test/release -e '/cmd/kubectl-nodewave$$')
	for mod in $(UNIT_MODULES); do (cd $$mod && go test -race -count=1 ./...) || exit 1; done

.PHONY: test-observability
test-observability: ## config/prometheus and config/grafana: alerts evaluated over synthetic series, every query's metrics checked against the manager's registry.
	cd $(OBSERVABILITY_MOD) && go test -count=1 ./...

.PHONY: test-integration
test-integration: ## envtest suites: a real kube-apiserver and etcd.
	assets="$$($(TOOLCHAIN) envtest)"; \
	KUBEBUILDER_ASSETS="$$assets" go test -count=1 $(ENVTEST_PKGS) $(GINKGO_ARGS)

.PHONY: test-chart
test-chart: ## The Helm chart: renders it and compares it with config/default (kustomize), lints it, installs it on envtest.
	assets="$$($(TOOLCHAIN) envtest)"; \
	cd $(CHART_TEST) && KUBEBUILDER_ASSETS="$$assets" go test -count=1 ./...

.PHONY: test-release
test-release: ## What a release publishes: builds the image (twice: reproducible) and the installer, checks them, applies the installer to envtest; the Dockerfile agrees with make image.
	assets="$$($(TOOLCHAIN) envtest)"; \
	KUBEBUILDER_ASSETS="$$assets" go test -count=1 -timeout 20m ./test/release/

##@ Simulated cluster

.PHONY: demo
demo: ## Upgrade 20 simulated nodes, Concurrent 25%, and watch it live (KEEP=1 keeps the cluster).
	hack/demo.sh

.PHONY: sim-up
sim-up: ## Start the simulated cluster (kwok): 20 workers in 3 zones, 3 control-plane nodes, workloads.
	hack/sim.sh up

.PHONY: sim-down
sim-down: ## Stop the simulated cluster and delete its files.
	hack/sim.sh down

.PHONY: kubeadm-up
kubeadm-up: ## Make a kubeadm cluster on machines of its own (root): 3 control-plane machines (stacked etcd), 3 workers, v1.36.3, packages from a local apt repository (docs/kubeadm.md).
	hack/kubeadm.sh up

.PHONY: kubeadm-down
kubeadm-down: ## Remove the kubeadm cluster: every machine, process, mount, cgroup, network device and file.
	hack/kubeadm.sh down

.PHONY: test-e2e
test-e2e: ## End-to-end suite on a simulated cluster (kwok) and a real Prometheus; E2E_KEEP=1 keeps the cluster.
	$(TOOLCHAIN) sim >/dev/null
	$(TOOLCHAIN) prometheus >/dev/null
	go test -count=1 -timeout 30m ./test/e2e/... -ginkgo.label-filter='!real && !kubeadm' $(GINKGO_ARGS)

.PHONY: test-real
test-real: ## End-to-end tier on real nodes (root): real kubelets, containerd and containers beside kwok's nodes, the manager deployed from config/default (docs/real-nodes.md).
	$(TOOLCHAIN) sim >/dev/null
	$(TOOLCHAIN) realnodes >/dev/null
	E2E_TIER=real go test -count=1 -timeout 30m ./test/e2e/... -ginkgo.label-filter=real $(GINKGO_ARGS)

.PHONY: test-kubeadm
test-kubeadm: ## End-to-end tier on a cluster kubeadm made (root): the whole-cluster kubeadm sample (control plane, then workers) run unchanged but for its image, the manager deployed from config/default; not part of make test (docs/kubeadm.md).
	$(TOOLCHAIN) kubeadm >/dev/null
	E2E_TIER=kubeadm go test -count=1 -timeout 60m ./test/e2e/... -ginkgo.label-filter=kubeadm $(GINKGO_ARGS)

##@ Benchmarks (not part of test)

BENCH_OUT ?= bench-results
# The harness runs from the repository's root (it starts hack/sim.sh, builds
# ./cmd and writes BENCH_OUT there), so it is built from its module into
# bin/bench rather than run with `go run`.
BENCH := bin/bench

.PHONY: bench-harness
bench-harness: ## Build the benchmark harness (test/bench, a module of its own) into bin/bench; `bin/bench -h` lists its flags.
	cd $(BENCH_MOD) && go build -o $(CURDIR)/$(BENCH) .

.PHONY: bench
bench: bench-harness ## The benchmarks of docs/benchmarks.md: 1,000 nodes at 20,000 and 5,000 pods, Concurrent 10%; 100 nodes Sequential and 10/25/50%. About two hours on a 2-core machine.
	$(TOOLCHAIN) sim >/dev/null
	$(BENCH) -nodes 1000 -pods 20000 -max-unavailable 10% -scrape-every 10s -out $(BENCH_OUT)
	$(BENCH) -nodes 1000 -pods 5000 -max-unavailable 10% -scrape-every 10s -out $(BENCH_OUT)
	for mu in 10% 25% 50% ""; do $(BENCH) -nodes 100 -max-unavailable "$$mu" -out $(BENCH_OUT) || exit 1; done

.PHONY: bench-5000
bench-5000: bench-harness ## Kubernetes' own limit: 5,000 nodes, 25,000 pods under 176 PodDisruptionBudgets, Concurrent 10% (500 in flight), with a CPU and a heap profile (docs/benchmarks.md says how long it takes).
	$(TOOLCHAIN) sim >/dev/null
	$(BENCH) -nodes 5000 -pods 25000 -max-unavailable 10% -scrape-every 10s -out $(BENCH_OUT)

GROWTH_NODES ?= 100 1000 5000
.PHONY: bench-growth
bench-growth: bench-harness ## How each cost grows with the cluster: GROWTH_NODES nodes at 5 pods each, Concurrent 10%, one after the other, then one table and one plot (BENCH_OUT/growth.png).
	$(TOOLCHAIN) sim >/dev/null
	for n in $(GROWTH_NODES); do $(BENCH) -nodes $$n -pods $$((n * 5)) -max-unavailable 10% -out $(BENCH_OUT) || exit 1; done
	$(BENCH) -out $(BENCH_OUT) -growth $$(for n in $(GROWTH_NODES); do printf '%s,' $(BENCH_OUT)/$${n}nodes-$$((n * 5))pods-concurrent-10pc.json; done | sed 's/,$$//')

.PHONY: bench-small
bench-small: bench-harness ## The quick regression run: 100 nodes, 2,000 pods, Concurrent 10% (a couple of minutes).
	$(TOOLCHAIN) sim >/dev/null
	$(BENCH) -nodes 100 -max-unavailable 10% -out $(BENCH_OUT)

##@ Build

.PHONY: build
build: ## Build the manager binary into bin/manager.
	go build -o bin/manager ./cmd

.PHONY: build-plugin
build-plugin: ## Build the kubectl plugin into bin/kubectl-nodewave (put bin/ on PATH for `kubectl nodewave`).
	go build -o bin/kubectl-nodewave ./cmd/kubectl-nodewave

.PHONY: build-plugins
build-plugins: ## Cross-build the kubectl plugin's release archives (linux, darwin: amd64, arm64; windows/amd64) into $(DIST)/kubectl-nodewave_$(VERSION)_<os>_<arch>.tar.gz, reproducibly, and its krew manifest $(DIST)/nodewave.krew.yaml.
	cd $(RELEASE_MOD) && go run . -version $(VERSION) -ldflags "$(LDFLAGS)" -root $(CURDIR) -out $(abspath $(DIST))

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	go run ./cmd --metrics-secure=false --metrics-bind-address=:8080

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

# The platforms of the manager's image and where release artifacts go.
PLATFORMS ?= linux/amd64 linux/arm64
DIST ?= dist
# Reproducible builds date what they write by the commit, not the clock.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# The image's base files and labels (hack/image/README.md).
IMAGE_FILES := /etc/passwd=$(CURDIR)/hack/image/passwd /etc/group=$(CURDIR)/hack/image/group /tmp=+1777
IMAGE_LABELS = $(foreach l,title=nodewave version=$(VERSION) licenses=Apache-2.0 source=https://github.com/nodewave/nodewave \
	revision=$(shell git rev-parse HEAD 2>/dev/null),-label org.opencontainers.image.$(l))

.PHONY: image
image: ## Build the manager's image for PLATFORMS without a Docker engine: $(DIST)/image (OCI layout), $(DIST)/nodewave-image.tar (its archive, for ctr/docker load) and $(DIST)/nodewave-image.spdx.json (SBOM).
	for p in $(PLATFORMS); do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags="$(LDFLAGS)" -o bin/image/$${p#*/}/manager ./cmd; \
	done
	mkdir -p $(DIST)
	cd $(OCIIMAGE_MOD) && SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go run . -tag $(IMG) \
		-o $(abspath $(DIST))/nodewave-image.tar -layout $(abspath $(DIST))/image -sbom $(abspath $(DIST))/nodewave-image.spdx.json \
		$(foreach p,$(PLATFORMS),-platform $(p)) $(IMAGE_LABELS) -entrypoint /manager -user 65532:65532 \
		-ca-certificates /etc/ssl/certs/ca-certificates.crt /manager=$(CURDIR)/bin/image/{arch}/manager $(IMAGE_FILES)

##@ Deployment

KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo "$$($(TOOLCHAIN) envtest)/kubectl")

.PHONY: build-installer
build-installer: ## Write $(DIST)/install.yaml: config/default as one manifest, with image IMG and version VERSION pinned (kubectl apply -f).
	mkdir -p $(DIST)
	hack/installer.sh "$(IMG)" "$(VERSION)" "$(KUBECTL)" > $(DIST)/install.yaml.tmp
	mv $(DIST)/install.yaml.tmp $(DIST)/install.yaml

# The Helm chart of a release: version X.Y.Z, appVersion vX.Y.Z (the image's
# tag). helm is built from the module proxy at the version test/chart uses.
HELM := go run helm.sh/helm/v3/cmd/helm@v3.22.0

.PHONY: chart-package
chart-package: ## Package charts/nodewave as $(DIST)/nodewave-X.Y.Z.tgz with version and appVersion from VERSION.
	mkdir -p $(DIST)
	$(HELM) package charts/nodewave --version $(patsubst v%,%,$(VERSION)) --app-version $(VERSION) -d $(abspath $(DIST))

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRD (and every ClusterUpgrade) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: build-installer ## Deploy nodewave with image IMG into the cluster: make build-installer, then kubectl apply -f $(DIST)/install.yaml.
	$(KUBECTL) apply -f $(DIST)/install.yaml

.PHONY: undeploy
undeploy: ## Remove the manager, its RBAC and the CRD from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/default
