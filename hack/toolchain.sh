#!/usr/bin/env bash
# toolchain.sh builds the Kubernetes binaries that nodewave's tests need, from
# the Go module proxy only (never from a release page), and caches them
# outside the repository, keyed by version.
#
#   hack/toolchain.sh envtest   kube-apiserver, etcd, kubectl; prints the
#                               directory to use as KUBEBUILDER_ASSETS
#   hack/toolchain.sh sim       everything above plus kube-controller-manager,
#                               kube-scheduler, kwok and kwokctl; prints the
#                               directory that holds them all
#   hack/toolchain.sh realnodes kubelet and kube-proxy at v1.36.3 (what real
#                               nodes start at) and kubelet at v1.37.2 (what
#                               the upgrade Job installs); prints the
#                               directory of the versioned binaries
#   hack/toolchain.sh kubeadm   kubeadm, kubelet, kubectl, kube-proxy and the
#                               control plane (kube-apiserver,
#                               kube-controller-manager, kube-scheduler) at
#                               v1.36.3 and v1.37.2, etcd and etcdctl, CoreDNS
#                               v1.14.2 and v1.14.6: what the
#                               kubeadm rig packages and images hold; prints
#                               the cache directory
#   hack/toolchain.sh prometheus
#                               the Prometheus server, for the e2e suite's
#                               alerts gate; prints its path
#   hack/toolchain.sh dir       prints the cache directory without building
#
# Idempotent: a binary already in the cache is reused. An existing
# KUBEBUILDER_ASSETS holding kube-apiserver and etcd is honoured by `envtest`.
# Progress goes to stderr; stdout carries only the resulting path.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
# The version real nodes start at, one minor below K8S_VERSION.
K8S_OLD_VERSION="${K8S_OLD_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
# The CoreDNS versions kubeadm deploys at K8S_OLD_VERSION and K8S_VERSION
# (its constants.CoreDNSVersion).
COREDNS_VERSIONS="${COREDNS_VERSIONS:-v1.14.2 v1.14.6}"
# Prometheus 3.16's module version (Prometheus tags its Go module v0.3xx).
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"

CACHE="${NODEWAVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nodewave}"
K8S_DIR="$CACHE/kubernetes-$K8S_VERSION"
ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"
KWOK_DIR="$CACHE/kwok-$KWOK_VERSION"
ASSETS_DIR="$CACHE/assets-k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"

# The binaries are tools, not part of the project: build them with the
# toolchain that is installed, whatever the project's go.mod says.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
unset GOOS GOARCH
export CGO_ENABLED=0

log() { echo "toolchain: $*" >&2; }

have() { # have DIR NAME...: every named binary exists and is executable
  local dir=$1; shift
  for name in "$@"; do [[ -x "$dir/$name" ]] || return 1; done
}

# scratch_module DIR MODULE_LINE... creates a throwaway module in DIR whose
# go.mod holds the given lines, so each tool builds at exactly its pinned
# version without touching the project's own go.mod.
scratch_module() {
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  {
    echo "module nodewave.local/toolchain"
    echo
    echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
    echo
    printf '%s\n' "$@"
  } >"$dir/go.mod"
}

build_kubernetes() { # build_kubernetes CMD...: binaries from k8s.io/kubernetes
  local want=() cmd
  for cmd in "$@"; do have "$K8S_DIR" "$cmd" || want+=("$cmd"); done
  [[ ${#want[@]} -eq 0 ]] && return 0
  log "building ${want[*]} $K8S_VERSION from the Go module proxy (several minutes on a cold cache)"
  local src="$CACHE/src/kubernetes-$K8S_VERSION" staging_version="v0${K8S_VERSION#v1}"
  # k8s.io/kubernetes resolves its staging modules through relative replace
  # directives that do not apply to a dependent module; replace each with the
  # published module of the matching version instead.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -nE 's/^\s*"GoMod": "(.*)",?$/\1/p')
  local replaces
  replaces=$(sed -nE "s#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+\s*\$#\t\1 => \1 $staging_version#p" "$gomod")
  [[ -n "$replaces" ]] || { log "no staging replaces found in $gomod"; exit 1; }
  local tools=()
  for cmd in "${want[@]}"; do tools+=("tool k8s.io/kubernetes/cmd/$cmd"); done
  scratch_module "$src" "require k8s.io/kubernetes $K8S_VERSION" "replace (" "$replaces" ")" "${tools[@]}"
  (cd "$src" && go mod tidy >&2)
  local major=${K8S_VERSION#v}; major=${major%%.*}
  local minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=()
  for cmd in "${want[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  mkdir -p "$K8S_DIR"
  local out; out=$(mktemp -d "$CACHE/.build.XXXXXX")
  (cd "$src" && go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  for cmd in "${want[@]}"; do mv "$out/$cmd" "$K8S_DIR/$cmd"; done
  rmdir "$out"
}

# build_kubernetes_at VERSION CMD... builds Kubernetes commands at another
# version than K8S_VERSION, each into that version's own directory.
build_kubernetes_at() {
  local version=$1; shift
  (K8S_VERSION=$version K8S_DIR="$CACHE/kubernetes-$version" && build_kubernetes "$@")
}

# build_tool DIR NAME MODULE VERSION PACKAGE builds the command PACKAGE of
# MODULE at VERSION into DIR/NAME.
build_tool() {
  local dir=$1 name=$2 module=$3 version=$4 pkg=$5
  have "$dir" "$name" && return 0
  log "building $name $version from the Go module proxy"
  local src="$CACHE/src/$name-$version"
  scratch_module "$src" "require $module $version" "tool $pkg"
  (cd "$src" && go mod tidy >&2)
  mkdir -p "$dir"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$dir/$name.tmp" "$pkg")
  mv "$dir/$name.tmp" "$dir/$name"
}

build_etcd() { build_tool "$ETCD_DIR" etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3; }

# build_etcdctl builds etcdctl beside etcd: the kubeadm rig's etcd image
# carries it, as the upstream image does.
build_etcdctl() { build_tool "$ETCD_DIR" etcdctl go.etcd.io/etcd/etcdctl/v3 "$ETCD_VERSION" go.etcd.io/etcd/etcdctl/v3; }

# build_coredns VERSION builds CoreDNS: the kubeadm rig runs kubeadm's DNS
# add-on (kubeadm upgrade apply upgrades it, and refuses to run without it).
build_coredns() {
  build_tool "$CACHE/coredns-$1" coredns github.com/coredns/coredns "$1" github.com/coredns/coredns
}

# build_prometheus builds the Prometheus server without its service
# discovery plugins (remove_all_sd: the e2e suite's targets are static) and
# without its web UI's assets (the suite reads its API only). No `go mod
# tidy`: with -mod=mod the build fetches only the modules it compiles, not
# every cloud provider's SDK.
build_prometheus() {
  local dir="$CACHE/prometheus-$PROMETHEUS_VERSION"
  have "$dir" prometheus && return 0
  log "building prometheus $PROMETHEUS_VERSION from the Go module proxy"
  local src="$CACHE/src/prometheus-$PROMETHEUS_VERSION"
  scratch_module "$src" "require github.com/prometheus/prometheus $PROMETHEUS_VERSION"
  mkdir -p "$dir"
  (cd "$src" && go build -trimpath -tags remove_all_sd -ldflags "-s -w" -o "$dir/prometheus.tmp" \
    github.com/prometheus/prometheus/cmd/prometheus)
  mv "$dir/prometheus.tmp" "$dir/prometheus"
}

build_kwok() {
  have "$KWOK_DIR" kwok kwokctl && return 0
  log "building kwok and kwokctl $KWOK_VERSION from the Go module proxy"
  local src="$CACHE/src/kwok-$KWOK_VERSION"
  scratch_module "$src" "require sigs.k8s.io/kwok $KWOK_VERSION" \
    "tool sigs.k8s.io/kwok/cmd/kwok" "tool sigs.k8s.io/kwok/cmd/kwokctl"
  (cd "$src" && go mod tidy >&2)
  mkdir -p "$KWOK_DIR"
  local out; out=$(mktemp -d "$CACHE/.build.XXXXXX")
  (cd "$src" && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    -o "$out/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
  mv "$out/kwok" "$out/kwokctl" "$KWOK_DIR/"
  rmdir "$out"
}

# link_assets NAME... gathers the named binaries in ASSETS_DIR, the one
# directory that envtest and the simulated cluster are pointed at.
link_assets() {
  mkdir -p "$ASSETS_DIR"
  local name dir
  for name in "$@"; do
    for dir in "$K8S_DIR" "$ETCD_DIR" "$KWOK_DIR"; do
      if [[ -x "$dir/$name" ]]; then ln -sfn "$dir/$name" "$ASSETS_DIR/$name"; fi
    done
  done
}

mkdir -p "$CACHE"
case "${1:-envtest}" in
  envtest)
    if [[ -n "${KUBEBUILDER_ASSETS:-}" ]] && have "$KUBEBUILDER_ASSETS" kube-apiserver etcd; then
      log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
      echo "$KUBEBUILDER_ASSETS"; exit 0
    fi
    build_etcd
    build_kubernetes kube-apiserver kubectl
    link_assets kube-apiserver etcd kubectl
    ;;
  sim)
    build_etcd
    build_kwok
    build_kubernetes kube-apiserver kubectl kube-controller-manager kube-scheduler
    link_assets kube-apiserver etcd kubectl kube-controller-manager kube-scheduler kwok kwokctl
    ;;
  realnodes)
    build_kubernetes_at "$K8S_OLD_VERSION" kubelet kube-proxy
    build_kubernetes_at "$K8S_VERSION" kubelet kube-proxy
    echo "$CACHE"; exit 0
    ;;
  kubeadm)
    for v in "$K8S_OLD_VERSION" "$K8S_VERSION"; do
      build_kubernetes_at "$v" kubeadm kubelet kubectl kube-proxy \
        kube-apiserver kube-controller-manager kube-scheduler
    done
    build_etcd
    build_etcdctl
    for v in $COREDNS_VERSIONS; do build_coredns "$v"; done
    echo "$CACHE"; exit 0
    ;;
  prometheus)
    build_prometheus
    echo "$CACHE/prometheus-$PROMETHEUS_VERSION/prometheus"; exit 0
    ;;
  dir)
    ;;
  *)
    echo "usage: $0 [envtest|sim|realnodes|kubeadm|dir]" >&2; exit 2
    ;;
esac
echo "$ASSETS_DIR"
