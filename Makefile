# nodewave — run `make help` for the targets.

# The release being built: the tag on HEAD (v0.1.0), else the last tag with
# the commits since (v0.1.0-3-g4e76085), else v0.0.0-devel. It is stamped
# into both binaries (--version, kubectl nodewave version) and the images.
VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo v0.0.0-devel)
# The linker flags of every release build: no symbol table, the version.
LDFLAGS := -s -w -X github.com/nodewave/nodewave/internal/buildinfo.version=$(VERSION)

# Image of the manager, for docker-build and deploy.
IMG ?= ghcr.io/nodewave/nodewave:latest

# The Kubernetes binaries (kube-apiserver, etcd, kubectl, ...) are built from
# the Go module proxy by hack/toolchain.sh and cached outside the repository.
TOOLCHAIN := hack/toolchain.sh
CONTROLLER_GEN := go tool controller-gen
GOLANGCI_LINT := go tool -modfile=hack/tools/go.mod golangci-lint

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

# Embedded Kubernetes types that the API reference links to instead of
# listing their thousands of fields.
APIDOCS_EXTERNAL := -external 'spec.upgrade.job.template=[PodTemplateSpec](https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-template-v1/\#PodTemplateSpec) (core/v1)'

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests under config/, copy them into the Helm chart, and write docs/api-reference.md from the CRD.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:generateEmbeddedObjectMeta=true paths="./..." output:crd:artifacts:config=config/crd/bases
	go run ./hack/chartsync
	go run ./hack/apidocs -out docs/api-reference.md $(APIDOCS_EXTERNAL) config/crd/bases/*.yaml

.PHONY: generate
generate: ## Generate DeepCopy methods for the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

# The Helm chart's test is a module of its own (Helm and kustomize stay out
# of the manager's go.mod); vet, lint and verify cover it too.
CHART_TEST := test/chart
# The Prometheus and Grafana checks are a module of their own too, so that
# the Prometheus module (large: its first build takes minutes) stays out of
# the manager's go.mod; vet, lint and verify cover it as well.
OBSERVABILITY_MOD := test/observability
# The image builder of the real-node rig, a module of its own.
OCIIMAGE_MOD := hack/ociimage
# The plugin's release archives and krew manifest, a module of its own
# (krew's module stays out of the manager's go.mod).
RELEASE_MOD := hack/release

.PHONY: vet
vet: ## Run go vet (the manager's module and the chart and observability tests').
	go vet ./...
	cd $(CHART_TEST) && go vet ./...
	cd $(OBSERVABILITY_MOD) && go vet ./...
	cd $(OCIIMAGE_MOD) && go vet ./...
	cd $(RELEASE_MOD) && go vet ./...

.PHONY: lint
lint: ## Run golangci-lint (built from hack/tools/go.mod) on every module.
	$(GOLANGCI_LINT) run ./...
	cd $(CHART_TEST) && go tool -modfile=$(CURDIR)/hack/tools/go.mod golangci-lint run ./...
	cd $(OBSERVABILITY_MOD) && go tool -modfile=$(CURDIR)/hack/tools/go.mod golangci-lint run ./...
	cd $(OCIIMAGE_MOD) && go tool -modfile=$(CURDIR)/hack/tools/go.mod golangci-lint run ./...
	cd $(RELEASE_MOD) && go tool -modfile=$(CURDIR)/hack/tools/go.mod golangci-lint run ./...

.PHONY: verify
verify: ## Fail if regenerating changes any generated file (CRD, RBAC, DeepCopy, the chart's copies, the API reference) or go.mod; gofmt, vet, lint.
	@sum() { find api config charts docs/api-reference.md go.mod go.sum $(CHART_TEST)/go.mod $(CHART_TEST)/go.sum $(OBSERVABILITY_MOD)/go.mod $(OBSERVABILITY_MOD)/go.sum $(OCIIMAGE_MOD)/go.mod $(OCIIMAGE_MOD)/go.sum $(RELEASE_MOD)/go.mod $(RELEASE_MOD)/go.sum -type f | LC_ALL=C sort | xargs sha256sum; }; \
	before="$$(sum)"; \
	$(MAKE) -s manifests generate; go mod tidy; (cd $(CHART_TEST) && go mod tidy); (cd $(OBSERVABILITY_MOD) && go mod tidy); (cd $(OCIIMAGE_MOD) && go mod tidy); (cd $(RELEASE_MOD) && go mod tidy); \
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
	$(MAKE) test-unit test-observability test-fuzz test-integration test-chart test-e2e test-real

# Fuzz targets as package:function. `go test -fuzz` takes one target at a
# time; test-unit already runs their committed corpora (testdata/fuzz) as
# plain tests.
FUZZ_TARGETS := ./internal/version:FuzzParse ./internal/plan:FuzzCompute
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

.PHONY: test-unit
test-unit: ## Unit tests: pure code, no binaries.
	go test -race -count=1 $$(go list ./... | grep -v -e /api/v1alpha1 -e /internal/controller -e /internal/drain -e /test/e2e -e '/cmd/kubectl-nodewave$$')
	cd $(OCIIMAGE_MOD) && go test -count=1 ./...
	cd $(RELEASE_MOD) && go test -count=1 ./...

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

.PHONY: bench
bench: ## The benchmarks of docs/benchmarks.md: 1,000 nodes at 20,000 and 5,000 pods, Concurrent 10%; 100 nodes Sequential and 10/25/50%. About two hours on a 2-core machine.
	$(TOOLCHAIN) sim >/dev/null
	go run ./test/bench -nodes 1000 -pods 20000 -max-unavailable 10% -scrape-every 10s -out $(BENCH_OUT)
	go run ./test/bench -nodes 1000 -pods 5000 -max-unavailable 10% -scrape-every 10s -out $(BENCH_OUT)
	for mu in 10% 25% 50% ""; do go run ./test/bench -nodes 100 -max-unavailable "$$mu" -out $(BENCH_OUT) || exit 1; done

.PHONY: bench-small
bench-small: ## The quick regression run: 100 nodes, 2,000 pods, Concurrent 10% (a couple of minutes).
	$(TOOLCHAIN) sim >/dev/null
	go run ./test/bench -nodes 100 -max-unavailable 10% -out $(BENCH_OUT)

##@ Build

.PHONY: build
build: ## Build the manager binary into bin/manager.
	go build -o bin/manager ./cmd

.PHONY: build-plugin
build-plugin: ## Build the kubectl plugin into bin/kubectl-nodewave (put bin/ on PATH for `kubectl nodewave`).
	go build -o bin/kubectl-nodewave ./cmd/kubectl-nodewave

.PHONY: build-plugins
build-plugins: ## Cross-build the kubectl plugin's release archives (linux, darwin: amd64, arm64; windows/amd64) into dist/kubectl-nodewave_$(VERSION)_<os>_<arch>.tar.gz, reproducibly, and its krew manifest dist/nodewave.krew.yaml.
	cd $(RELEASE_MOD) && go run . -version $(VERSION) -ldflags "$(LDFLAGS)" -root $(CURDIR) -out $(CURDIR)/dist

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	go run ./cmd --metrics-secure=false --metrics-bind-address=:8080

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: image
image: ## Build the manager image without a Docker engine into bin/nodewave-image.tar (linux/amd64; what the Dockerfile builds: static /manager, user 65532).
	mkdir -p bin
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w" -o bin/image/manager ./cmd
	cd $(OCIIMAGE_MOD) && go run . -tag $(IMG) -o $(CURDIR)/bin/nodewave-image.tar \
		-entrypoint /manager -user 65532:65532 /manager=$(CURDIR)/bin/image/manager /tmp=+1777

##@ Deployment

KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo "$$($(TOOLCHAIN) envtest)/kubectl")

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRD (and every ClusterUpgrade) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the manager with image IMG into the cluster.
	$(KUBECTL) kustomize config/default | sed -e 's#ghcr.io/nodewave/nodewave:latest#$(IMG)#' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the manager, its RBAC and the CRD from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/default
