#!/usr/bin/env bash
# kubeadm.sh makes a Kubernetes cluster the way a cluster admin does, on
# this machine: machines of their own (hack/machines.sh), the kubeadm,
# kubelet and kubectl packages installed with apt from a package repository
# laid out like pkgs.k8s.io, `kubeadm init` on the first control-plane
# machine, `kubeadm join --control-plane` on the others (stacked etcd) and
# `kubeadm join` on the workers, behind an HAProxy load balancer as the
# control-plane endpoint. See docs/kubeadm.md.
#
#   hack/kubeadm.sh up           make the cluster (KUBEADM_CONTROL_PLANES
#                                control-plane machines cp-0 ..., KUBEADM_WORKERS
#                                workers worker-0 ...) at KUBEADM_VERSION
#   hack/kubeadm.sh down         remove every machine, process, mount, cgroup,
#                                network device and file the rig made (also
#                                after a crash; safe to run twice)
#   hack/kubeadm.sh exec NODE CMD...  run CMD inside a machine
#   hack/kubeadm.sh load TAR...  import image tarballs into every machine
#   hack/kubeadm.sh kubectl ARGS...  kubectl as the cluster's admin, through the
#                                load balancer
#   hack/kubeadm.sh etcdctl ARGS...  etcdctl against the control-plane machines'
#                                etcd members, from this host (not through the
#                                API server)
#   hack/kubeadm.sh env          print KUBECONFIG (the admin's, through the
#                                load balancer) and PACKAGES_URL
#   hack/kubeadm.sh repo         build the package repository (cached .debs)
#   hack/kubeadm.sh images       build the control-plane images (cached)
#
# Settings (environment): KUBEADM_CONTROL_PLANES=3, KUBEADM_WORKERS=3,
# KUBEADM_VERSION=v1.36.3, KUBEADM_UPGRADE_VERSION=v1.37.2 (the repository
# and the images hold both). Needs root. Nothing is downloaded but Debian's
# packages and Go modules.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
KUBEADM_CONTROL_PLANES="${KUBEADM_CONTROL_PLANES:-3}"
KUBEADM_WORKERS="${KUBEADM_WORKERS:-3}"
KUBEADM_VERSION="${KUBEADM_VERSION:-v1.36.3}"
KUBEADM_UPGRADE_VERSION="${KUBEADM_UPGRADE_VERSION:-v1.37.2}"
VERSIONS=("$KUBEADM_VERSION" "$KUBEADM_UPGRADE_VERSION")
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
# CoreDNS of kubeadm KUBEADM_VERSION and KUBEADM_UPGRADE_VERSION.
COREDNS_VERSIONS="${COREDNS_VERSIONS:-v1.14.2 v1.14.6}"

cache="$("$here/toolchain.sh" dir)"
cache="$(dirname "$cache")"
RIG_DIR="${NODEWAVE_KUBEADM_DIR:-$cache/nodewave-kubeadm}"
KUBECONFIG_FILE="$RIG_DIR/kubeconfig"

# The rig's network. Names and addresses are fixed: one kubeadm cluster runs
# at a time on a machine (beside, not instead of, a simulated cluster).
RIG=nwkadm
BRIDGE=nwkadm0
BRIDGE_ADDR=10.79.0.1
NODE_NET=10.79.0
POD_NET=10.80
# The control-plane endpoint: HAProxy on the bridge, in front of every
# control-plane machine's API server.
ENDPOINT="$BRIDGE_ADDR:6443"
# The package repository, served on the bridge.
PACKAGES_PORT=8586
PACKAGES_URL="http://$BRIDGE_ADDR:$PACKAGES_PORT"

HOST_PACKAGES=(debootstrap systemd-container busybox-static iproute2 openssl haproxy apt-utils gnupg)

log() { echo "kubeadm-rig: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=hack/machines.sh
source "$here/machines.sh"

bin_dir() { echo "$cache/kubernetes-$1"; }
# deb_version v1.36.3 prints 1.36.3-1.1, the form pkgs.k8s.io's packages have.
deb_version() { echo "${1#v}-1.1"; }
# minor v1.36.3 prints v1.36, the name of the version's repository.
minor() { local v=${1#v}; echo "v${v%.*}"; }

# --- The package repository ----------------------------------------------

# debs VERSION builds kubeadm, kubelet and kubectl .deb packages of VERSION
# from the toolchain's binaries (cached; the recipe's hash is in the name).
debs() {
  local version=$1 v; v=$(deb_version "$1")
  local sum; sum=$(declare -f deb_package debs | sha256sum | cut -c1-12)
  local dir="$cache/kubeadm/debs-$sum/$version"
  [[ -f "$dir/.complete" ]] && { echo "$dir"; return 0; }
  rm -rf "$dir"; mkdir -p "$dir"
  log "packaging kubeadm, kubelet and kubectl $version (dpkg-deb)"
  deb_package "$dir" kubectl "$v" "" "$(bin_dir "$version")/kubectl" \
    "Command-line utility for interacting with a Kubernetes cluster"
  deb_package "$dir" kubelet "$v" "iptables (>= 1.4.21), iproute2, socat, util-linux, mount, ethtool, conntrack" \
    "$(bin_dir "$version")/kubelet" "Node agent for Kubernetes clusters"
  deb_package "$dir" kubeadm "$v" "" "$(bin_dir "$version")/kubeadm" \
    "Command-line utility for administering a Kubernetes cluster"
  touch "$dir/.complete"
  echo "$dir"
}

# deb_package DIR NAME VERSION DEPENDS BINARY DESCRIPTION writes
# DIR/NAME_VERSION_amd64.deb holding /usr/bin/NAME, and for kubelet its
# systemd unit, for kubeadm the kubelet drop-in kubeadm's packages ship.
deb_package() {
  local dir=$1 name=$2 version=$3 depends=$4 binary=$5 description=$6
  local tree; tree=$(mktemp -d)
  mkdir -p "$tree/DEBIAN" "$tree/usr/bin"
  install -m 0755 "$binary" "$tree/usr/bin/$name"
  case $name in
    kubelet)
      mkdir -p "$tree/usr/lib/systemd/system"
      cat >"$tree/usr/lib/systemd/system/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
      ;;
    kubeadm)
      mkdir -p "$tree/usr/lib/systemd/system/kubelet.service.d"
      cat >"$tree/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'UNIT'
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
UNIT
      ;;
  esac
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: amd64"
    echo "Maintainer: nodewave <nodewave@nodewave.local>"
    echo "Section: admin"
    echo "Priority: optional"
    [[ -n $depends ]] && echo "Depends: $depends"
    echo "Homepage: https://kubernetes.io"
    echo "Description: $description"
    echo " Built by nodewave's kubeadm rig from the binary of the Go module proxy."
  } >"$tree/DEBIAN/control"
  SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -Zgzip -z1 --build "$tree" "$dir/${name}_${version}_amd64.deb" >/dev/null
  rm -rf "$tree"
}

# repo lays out one repository per minor version under RIG_DIR/packages as
# pkgs.k8s.io does (core:/stable:/v1.MM/deb/, a flat repository signed by
# the rig's own key, Release.key beside it) and starts its server.
repo() {
  host_packages "${HOST_PACKAGES[@]}"
  "$here/toolchain.sh" kubeadm >/dev/null
  export GNUPGHOME="$RIG_DIR/gnupg"
  if [[ ! -d $GNUPGHOME ]]; then
    mkdir -p -m 0700 "$GNUPGHOME"
    gpg --batch --quiet --passphrase '' --quick-gen-key "nodewave kubeadm rig <rig@nodewave.local>" ed25519 sign never 2>/dev/null
  fi
  local version dir debs
  for version in "${VERSIONS[@]}"; do
    debs=$(debs "$version")
    dir="$RIG_DIR/packages/core:/stable:/$(minor "$version")/deb"
    rm -rf "$dir"; mkdir -p "$dir/amd64"
    ln "$debs"/*.deb "$dir/amd64/" 2>/dev/null || cp "$debs"/*.deb "$dir/amd64/"
    (cd "$dir" && apt-ftparchive packages amd64 >Packages && gzip -9kn Packages \
      && apt-ftparchive -o APT::FTPArchive::Release::Origin=nodewave-rig release . >Release \
      && gpg --batch --yes --quiet --armor --export >Release.key \
      && gpg --batch --yes --quiet --clearsign -o InRelease Release \
      && gpg --batch --yes --quiet -abs -o Release.gpg Release)
  done
  if ! { [[ -f "$RIG_DIR/packages.pid" ]] && kill -0 "$(cat "$RIG_DIR/packages.pid")" 2>/dev/null; }; then
    busybox httpd -f -p "$BRIDGE_ADDR:$PACKAGES_PORT" -h "$RIG_DIR/packages" </dev/null >"$RIG_DIR/packages.log" 2>&1 &
    echo $! >"$RIG_DIR/packages.pid"
  fi
}

# --- Images ----------------------------------------------------------------

PAUSE_IMAGE=registry.k8s.io/pause:3.10.2
ETCD_IMAGE_TAG="${ETCD_VERSION#v}-0"
# Debian's busybox, also known as nodewave.local/busybox:1.35 as on the
# real-node rig (docs/real-nodes.md), for workloads.
BUSYBOX_IMAGE=docker.io/library/busybox:1.35

# images builds, under the names kubeadm expects, every image the machines
# load (none can be pulled): the control plane and CoreDNS of both versions,
# etcd (with etcdctl), pause, and Debian's busybox for workloads and upgrade
# Jobs.
images() {
  local dir="$cache/kubeadm/images" tool version c
  tool=$(ociimage_tool "$dir")
  "$tool" -tag "$PAUSE_IMAGE" -o "$dir/pause.tar" -entrypoint /pause -user 65535:65535 /pause="$dir/.pause"
  busybox_image "$tool" "$BUSYBOX_IMAGE" "$dir/busybox.tar"
  local path=PATH=/usr/local/bin:/usr/bin:/bin
  for version in "${VERSIONS[@]}"; do
    for c in kube-apiserver kube-controller-manager kube-scheduler; do
      [[ -f "$dir/$c-$version.tar" ]] && continue
      "$tool" -tag "registry.k8s.io/$c:$version" -o "$dir/$c-$version.tar" -env "$path" \
        "/usr/local/bin/$c=$(bin_dir "$version")/$c" /tmp=+1777
    done
  done
  # CoreDNS runs as root here: upstream's image runs as 65532 with a file
  # capability to bind port 53, which a tarball of loose files cannot carry;
  # kubeadm's Deployment adds NET_BIND_SERVICE and drops everything else.
  for version in $COREDNS_VERSIONS; do
    "$tool" -tag "registry.k8s.io/coredns/coredns:$version" -o "$dir/coredns-$version.tar" \
      -entrypoint /coredns /coredns="$cache/coredns-$version/coredns"
  done
  local etcd_dir="$cache/etcd-$ETCD_VERSION"
  "$tool" -tag "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" -o "$dir/etcd.tar" -env "$path" \
    /usr/local/bin/etcd="$etcd_dir/etcd" /usr/local/bin/etcdctl="$etcd_dir/etcdctl" /tmp=+1777 /var/lib/etcd=+0700
  echo "$dir"
}

# --- Machines --------------------------------------------------------------

# machines prints each machine as "INDEX NAME ROLE".
machines() {
  local i
  for ((i = 0; i < KUBEADM_CONTROL_PLANES; i++)); do echo "$i cp-$i control-plane"; done
  for ((i = 0; i < KUBEADM_WORKERS; i++)); do echo "$((KUBEADM_CONTROL_PLANES + i)) worker-$i worker"; done
}

# machine_setup I NAME ROLE ROOT writes what a cluster admin's machine has
# before kubeadm: the images it cannot pull, the Kubernetes apt source of
# KUBEADM_VERSION's minor with the repository's key (the install guide's
# steps), and no other apt source (the machines reach nothing else).
machine_setup() {
  local i=$1 name=$2 role=$3 root=$4 images; images="$cache/kubeadm/images"
  machine_files "$i" "$name" "$root" "$PAUSE_IMAGE" "$BUSYBOX_IMAGE=nodewave.local/busybox:1.35"
  cp "$images/pause.tar" "$images/busybox.tar" "$images"/coredns-*.tar "$root/opt/nodewave/images/"
  if [[ $role == control-plane ]]; then
    local version c
    cp "$images/etcd.tar" "$root/opt/nodewave/images/"
    for version in "${VERSIONS[@]}"; do
      for c in kube-apiserver kube-controller-manager kube-scheduler; do
        cp "$images/$c-$version.tar" "$root/opt/nodewave/images/"
      done
    done
  fi
  rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/etc/apt/keyrings" "$root/etc/apt/sources.list.d"
  GNUPGHOME="$RIG_DIR/gnupg" gpg --batch --quiet --export >"$root/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $PACKAGES_URL/core:/stable:/$(minor "$KUBEADM_VERSION")/deb/ /" \
    >"$root/etc/apt/sources.list.d/kubernetes.list"
  # The machine's own network settings kubeadm's preflight checks.
  cat >"$root/etc/sysctl.d/99-kubernetes.conf" <<'CONF'
net.ipv4.ip_forward = 1
CONF
}

# install_packages NAME installs kubelet, kubeadm and kubectl with apt and
# holds them, as the install guide says.
install_packages() {
  local name=$1 v; v=$(deb_version "$KUBEADM_VERSION")
  machine_exec "$name" sh -ec "
    sysctl -q -p /etc/sysctl.d/99-kubernetes.conf
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubelet=$v kubeadm=$v kubectl=$v >/tmp/apt.log 2>&1 \
      || { cat /tmp/apt.log >&2; exit 1; }
    apt-mark hold kubelet kubeadm kubectl >/dev/null
    systemctl enable --now --quiet kubelet"
}

# wait_booted NAME waits until the machine's systemd has started its units.
wait_booted() {
  local name=$1 deadline=$((SECONDS + 120))
  until [[ -n $(machine_leader "$name") ]] \
    && machine_exec "$name" systemctl is-active --quiet nodewave-images.service 2>/dev/null; do
    ((SECONDS < deadline)) || die "$name did not boot in 120 s (see $RIG_DIR/$name/console.log)"
    sleep 1
  done
}

# loadbalancer starts HAProxy on the control-plane endpoint, checking each
# API server's /readyz, as kubeadm's high-availability guide does, and
# closing the connections to one marked down (on-marked-down
# shutdown-sessions): without it, kubelets whose connection went through an
# API server that a control-plane upgrade was restarting kept it, failed to
# renew their leases for over 40 s, and were marked NotReady, their pods
# with them (docs/kubeadm.md).
loadbalancer() {
  local cfg="$RIG_DIR/haproxy.cfg" i
  {
    cat <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  timeout check 2s
frontend apiserver
  bind $ENDPOINT
  default_backend control-plane
backend control-plane
  option httpchk GET /readyz
  http-check expect status 200
  balance roundrobin
  default-server inter 1s fall 2 rise 2 check check-ssl verify none on-marked-down shutdown-sessions
CFG
    for ((i = 0; i < KUBEADM_CONTROL_PLANES; i++)); do
      echo "  server cp-$i $(machine_addr "$i"):6443"
    done
  } >"$cfg"
  if ! { [[ -f "$RIG_DIR/haproxy.pid" ]] && kill -0 "$(cat "$RIG_DIR/haproxy.pid")" 2>/dev/null; }; then
    haproxy -W -db -f "$cfg" </dev/null >"$RIG_DIR/haproxy.log" 2>&1 &
    echo $! >"$RIG_DIR/haproxy.pid"
  fi
}

# Preflight checks a machine of this rig cannot pass, and why:
#   SystemVerification  no kernel config to read inside a machine
#   Swap                the host has swap; the kubelet is told failSwapOn: false
#   FileContent--proc-sys-net-bridge-bridge-nf-call-iptables  no bridge in a
#                       machine (pods are routed, ptp)
PREFLIGHT_IGNORED=(SystemVerification Swap FileContent--proc-sys-net-bridge-bridge-nf-call-iptables)

node_registration() {
  local name=$1 addr=$2
  cat <<YAML
nodeRegistration:
  name: $name
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - {name: node-ip, value: "$addr"}
  ignorePreflightErrors: [$(IFS=,; echo "${PREFLIGHT_IGNORED[*]}")]
YAML
}

# init_config prints kubeadm's configuration for the first control-plane
# machine: the cluster's version and endpoint, etcd's image tag (the etcd
# built here), kube-proxy's add-on off (see docs/kubeadm.md),
# and the kubelet settings a machine without systemd cgroups needs.
init_config() {
  local token=$1 key=$2 addr; addr=$(machine_addr 0)
  cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: "$token"
  ttl: 24h0m0s
certificateKey: "$key"
localAPIEndpoint: {advertiseAddress: "$addr", bindPort: 6443}
$(node_registration cp-0 "$addr")
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: nodewave-kubeadm
kubernetesVersion: $KUBEADM_VERSION
controlPlaneEndpoint: "$ENDPOINT"
apiServer:
  certSANs: ["$BRIDGE_ADDR"]
etcd:
  local: {imageTag: "$ETCD_IMAGE_TAG"}
networking: {serviceSubnet: 10.96.0.0/12}
proxy: {disabled: true}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
}

join_config() {
  local name=$1 addr=$2 role=$3 token=$4 hash=$5 key=$6
  cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken: {apiServerEndpoint: "$ENDPOINT", token: "$token", caCertHashes: ["$hash"]}
$(node_registration "$name" "$addr")
YAML
  if [[ $role == control-plane ]]; then
    cat <<YAML
controlPlane:
  localAPIEndpoint: {advertiseAddress: "$addr", bindPort: 6443}
  certificateKey: "$key"
YAML
  fi
}

# kube_proxy I NAME runs kube-proxy on the machine under a systemd unit of
# the rig's, with a client certificate from the cluster's CA (kubeadm's
# kube-proxy add-on is off: see docs/kubeadm.md).
kube_proxy() {
  local i=$1 name=$2
  machine_kube_proxy "$i" "$name" "$RIG_DIR/$name/root" "$(bin_dir "$KUBEADM_VERSION")/kube-proxy" "$RIG_DIR/kube-proxy.conf"
  machine_exec "$name" sh -c 'systemctl daemon-reload && systemctl start kube-proxy.service'
}

kubectl_() { "$(bin_dir "$KUBEADM_UPGRADE_VERSION")/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# etcdctl_ runs the rig's etcdctl on this host against every control-plane
# machine's etcd, with the health-check client certificate kubeadm made on
# cp-0: it does not go through the API server, so it answers while that
# does not.
etcdctl_() {
  local pki="$RIG_DIR/cp-0/root/etc/kubernetes/pki/etcd" endpoints=() i
  for ((i = 0; i < KUBEADM_CONTROL_PLANES; i++)); do endpoints+=("https://$(machine_addr "$i"):2379"); done
  "$cache/etcd-$ETCD_VERSION/etcdctl" --endpoints="$(IFS=,; echo "${endpoints[*]}")" --cacert="$pki/ca.crt" \
    --cert="$pki/healthcheck-client.crt" --key="$pki/healthcheck-client.key" "$@"
}

up() {
  [[ $EUID -eq 0 ]] || die "the kubeadm rig needs root"
  host_packages "${HOST_PACKAGES[@]}"
  local base; base=$(rootfs)
  "$here/toolchain.sh" kubeadm >/dev/null
  mkdir -p "$RIG_DIR"
  images >/dev/null
  host_inotify
  machines_network
  repo
  loadbalancer
  local i name role root
  while read -r i name role; do
    if [[ -n $(machine_leader "$name") ]]; then log "$name is already running"; continue; fi
    log "starting $name ($role)"
    root=$(machine_root "$name" "$base")
    machine_setup "$i" "$name" "$role" "$root"
    machine_net "$i" "$((KUBEADM_CONTROL_PLANES + KUBEADM_WORKERS))"
    machine_boot "$i" "$name"
  done < <(machines)
  local pids=()
  while read -r i name role; do
    (wait_booted "$name" && install_packages "$name" && log "$name: kubelet, kubeadm, kubectl $KUBEADM_VERSION installed (apt)") &
    pids+=($!)
  done < <(machines)
  for i in "${pids[@]}"; do wait "$i" || die "a machine failed to install its packages"; done

  if [[ ! -f $KUBECONFIG_FILE ]]; then
    local token key
    token="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n').$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    init_config "$token" "$key" >"$RIG_DIR/cp-0/kubeadm-init.yaml"
    install -D -m 0600 "$RIG_DIR/cp-0/kubeadm-init.yaml" "$RIG_DIR/cp-0/root/etc/kubernetes/kubeadm-init.yaml"
    log "cp-0: kubeadm init"
    machine_exec cp-0 kubeadm init --config /etc/kubernetes/kubeadm-init.yaml --upload-certs \
      >"$RIG_DIR/cp-0/kubeadm-init.log" 2>&1 || { tail -30 "$RIG_DIR/cp-0/kubeadm-init.log" >&2; die "kubeadm init failed"; }
    cp "$RIG_DIR/cp-0/root/etc/kubernetes/admin.conf" "$KUBECONFIG_FILE"
    local hash
    hash="sha256:$(openssl x509 -pubkey -in "$RIG_DIR/cp-0/root/etc/kubernetes/pki/ca.crt" \
      | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)"
    # kube-proxy's client certificate, from the cluster's CA.
    machine_exec cp-0 kubeadm kubeconfig user --client-name system:kube-proxy \
      --config /etc/kubernetes/kubeadm-init.yaml >"$RIG_DIR/kube-proxy.conf" 2>/dev/null \
      || die "kubeadm kubeconfig user failed"
    kube_proxy 0 cp-0
    while read -r i name role; do
      [[ $name == cp-0 ]] && continue
      join_config "$name" "$(machine_addr "$i")" "$role" "$token" "$hash" "$key" >"$RIG_DIR/$name/kubeadm-join.yaml"
      install -D -m 0600 "$RIG_DIR/$name/kubeadm-join.yaml" "$RIG_DIR/$name/root/etc/kubernetes/kubeadm-join.yaml"
      if [[ $role == control-plane ]]; then log "$name: kubeadm join --control-plane"; else log "$name: kubeadm join"; fi
      machine_exec "$name" kubeadm join --config /etc/kubernetes/kubeadm-join.yaml \
        >"$RIG_DIR/$name/kubeadm-join.log" 2>&1 || { tail -30 "$RIG_DIR/$name/kubeadm-join.log" >&2; die "kubeadm join of $name failed"; }
      kube_proxy "$i" "$name"
    done < <(machines)
  fi
  log "waiting for every node to be Ready"
  while read -r i name role; do
    kubectl_ wait --for=condition=Ready "node/$name" --timeout=300s >/dev/null || die "$name is not Ready"
  done < <(machines)
  log "ready: $KUBEADM_CONTROL_PLANES control-plane and $KUBEADM_WORKERS worker machines at $KUBEADM_VERSION (KUBECONFIG=$KUBECONFIG_FILE)"
}

case "${1:-}" in
  up) up ;;
  down) machines_down ;;
  exec) shift; name=${1:?machine}; shift; machine_exec "$name" "$@" ;;
  load) shift; machines_load "$@" ;;
  kubectl) shift; kubectl_ "$@" ;;
  etcdctl) shift; etcdctl_ "$@" ;;
  env) echo "KUBECONFIG=$KUBECONFIG_FILE PACKAGES_URL=$PACKAGES_URL" ;;
  repo) mkdir -p "$RIG_DIR"; repo ;;
  images) images ;;
  *) echo "usage: $0 up|down|exec NODE CMD...|load TAR...|kubectl ARGS...|etcdctl ARGS...|env|repo|images" >&2; exit 2 ;;
esac
