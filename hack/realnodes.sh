#!/usr/bin/env bash
# realnodes.sh adds real worker nodes to the simulated cluster: machines of
# their own (a Debian root file system, systemd as PID 1, containerd, runc,
# a kubelet and kube-proxy under systemd units), each booted with
# systemd-nspawn in a network namespace of its own, beside kwok's fake nodes.
# See docs/real-nodes.md.
#
#   hack/realnodes.sh up          add SIM_REAL_NODES nodes (real-0 ...) to the
#                                 running cluster SIM_NAME and wait until Ready
#   hack/realnodes.sh down        remove every node, process, mount, cgroup,
#                                 network device and file the rig made (also
#                                 after a crash; safe to run twice)
#   hack/realnodes.sh exec NODE CMD...  run CMD inside a node (all its namespaces)
#   hack/realnodes.sh load TAR... import image tarballs into every node (as
#                                 `kind load image-archive` does)
#   hack/realnodes.sh env         print RELEASE_URL (the rig's release server,
#                                 reachable from pods) and RELEASES_DIR (what it serves)
#   hack/realnodes.sh rootfs      build the nodes' root file system (cached)
#   hack/realnodes.sh host        install the host's packages (apt-get)
#
# Settings (environment): SIM_NAME, SIM_REAL_NODES=3, SIM_REAL_VERSION=v1.36.3.
# Needs root. Nothing is downloaded but Debian's packages and Go modules.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
SIM_NAME="${SIM_NAME:-nodewave-sim}"
SIM_REAL_NODES="${SIM_REAL_NODES:-3}"
SIM_REAL_VERSION="${SIM_REAL_VERSION:-v1.36.3}"

assets="$("$here/toolchain.sh" dir)"
cache="$(dirname "$assets")"
SIM_DIR="${NODEWAVE_SIM_DIR:-$cache/nodewave-sim/$SIM_NAME}"
REAL_DIR="$SIM_DIR/real"
KUBECONFIG_FILE="$SIM_DIR/kubeconfig"
PKI_DIR="$SIM_DIR/kwok/clusters/$SIM_NAME/pki"

# The rig's network: a bridge on the host, one address per node, one pod
# subnet per node. Names and addresses are fixed, so one cluster with real
# nodes runs at a time on a machine.
RIG=nwreal
RIG_DIR=$REAL_DIR
BRIDGE=nwreal0
BRIDGE_ADDR=10.77.0.1
NODE_NET=10.77.0
POD_NET=10.78
# The cluster's Service range (kube-apiserver's default) and the first
# address in it, the kubernetes Service.
SERVICE_CIDR=10.0.0.0/24
KUBERNETES_SERVICE_IP=10.0.0.1

HOST_PACKAGES=(debootstrap systemd-container busybox-static iproute2 openssl)

log() { echo "realnodes: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=hack/machines.sh
source "$here/machines.sh"

host() { host_packages "${HOST_PACKAGES[@]}"; }

# images builds the images every node imports at boot (none can be pulled):
#   nodewave.local/pause:3.10    the pods' sandbox (hack/ociimage/pause)
#   nodewave.local/busybox:1.35  Debian's static busybox, for workloads and
#                                for the upgrade Jobs of the binary sample
images() {
  local dir="$cache/realnodes/images" tool
  tool=$(ociimage_tool "$dir")
  "$tool" -tag "$PAUSE_IMAGE" -o "$dir/pause.tar" -entrypoint /pause -user 65535:65535 /pause="$dir/.pause"
  busybox_image "$tool" "$BUSYBOX_IMAGE" "$dir/busybox.tar"
  echo "$dir"
}
PAUSE_IMAGE=nodewave.local/pause:3.10
BUSYBOX_IMAGE=nodewave.local/busybox:1.35
# The busybox image is also known on the nodes by the upstream name the
# binary sample's Job uses (Debian's busybox is 1.35 too), so the sample
# runs unchanged: with imagePullPolicy IfNotPresent nothing is pulled.
UPSTREAM_BUSYBOX_IMAGE=docker.io/library/busybox:1.35

# The release server: the kubelet (and kube-proxy) binaries of
# SIM_UPGRADE_VERSION in dl.k8s.io's layout, /release/vX.Y.Z/bin/linux/ARCH/,
# each with its .sha256, served on the bridge's address.
SIM_UPGRADE_VERSION="${SIM_UPGRADE_VERSION:-v1.37.2}"
RELEASE_PORT=8585
RELEASES_DIR="$REAL_DIR/releases"
RELEASE_URL="http://$BRIDGE_ADDR:$RELEASE_PORT/release"

# releases fills RELEASES_DIR and starts the release server.
releases() {
  local out="$RELEASES_DIR/release/$SIM_UPGRADE_VERSION/bin/linux/amd64" b
  mkdir -p "$out"
  for b in kubelet kube-proxy; do
    cp "$cache/kubernetes-$SIM_UPGRADE_VERSION/$b" "$out/$b"
    sha256sum "$out/$b" | cut -d' ' -f1 >"$out/$b.sha256"
  done
  if [[ -f "$REAL_DIR/httpd.pid" ]] && kill -0 "$(cat "$REAL_DIR/httpd.pid")" 2>/dev/null; then
    return 0
  fi
  busybox httpd -f -p "$BRIDGE_ADDR:$RELEASE_PORT" -h "$RELEASES_DIR" </dev/null >"$REAL_DIR/httpd.log" 2>&1 &
  echo $! >"$REAL_DIR/httpd.pid"
}

# api_port is the simulated cluster's API server port on this machine.
api_port() {
  sed -nE 's#^\s*server: https://[^:]+:([0-9]+).*#\1#p' "$KUBECONFIG_FILE" | head -1
}

# node_cert NAME CN ORG writes NAME.crt and NAME.key, a client certificate
# signed by the cluster's CA, into the directory on stdin's behalf ($2's dir).
client_cert() {
  local out=$1 cn=$2 org=$3
  openssl req -new -newkey rsa:2048 -nodes -keyout "$out.key" -subj "/O=$org/CN=$cn" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
    -days 30 -out "$out.crt" 2>/dev/null
  rm -f "$out.csr"
}

# kubeconfig USER CERT_BASE prints a kubeconfig reaching the API server at
# the bridge's address, with the client certificate inlined.
kubeconfig() {
  local user=$1 base=$2
  cat <<YAML
apiVersion: v1
kind: Config
clusters:
- name: $SIM_NAME
  cluster:
    server: https://$BRIDGE_ADDR:$(api_port)
    certificate-authority-data: $(base64 -w0 <"$PKI_DIR/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$base.crt")
    client-key-data: $(base64 -w0 <"$base.key")
contexts:
- name: default
  context: {cluster: $SIM_NAME, user: $user}
current-context: default
YAML
}

# node_files I ROOT writes what makes the machine's root file system node I.
node_files() {
  local i=$1 root=$2 name="real-$1" addr bin
  addr=$(machine_addr "$i")
  bin="$cache/kubernetes-$SIM_REAL_VERSION"
  machine_files "$i" "$name" "$root" "$PAUSE_IMAGE" "$BUSYBOX_IMAGE=$UPSTREAM_BUSYBOX_IMAGE"
  install -m 0755 "$bin/kubelet" "$root/usr/bin/kubelet"
  mkdir -p "$root/etc/kubernetes/pki" "$root/var/lib/kubelet"
  cp "$PKI_DIR/ca.crt" "$root/etc/kubernetes/pki/ca.crt"
  client_cert "$REAL_DIR/$name/kubelet" "system:node:$name" system:nodes
  kubeconfig "system:node:$name" "$REAL_DIR/$name/kubelet" >"$root/etc/kubernetes/kubelet.conf"
  client_cert "$REAL_DIR/$name/kube-proxy" system:kube-proxy system:node-proxier
  kubeconfig system:kube-proxy "$REAL_DIR/$name/kube-proxy" >"$REAL_DIR/$name/kube-proxy.conf"
  machine_kube_proxy "$i" "$name" "$root" "$bin/kube-proxy" "$REAL_DIR/$name/kube-proxy.conf"
  cp "$cache/realnodes/images/"*.tar "$root/opt/nodewave/images/"
  cat >"$root/var/lib/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
failSwapOn: false
address: $addr
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
authorization: {mode: Webhook}
podCIDR: $POD_NET.$i.0/24
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  cat >"$root/etc/systemd/system/kubelet.service" <<UNIT
[Unit]
Description=kubelet: The Kubernetes Node Agent
After=containerd.service nodewave-images.service
Wants=containerd.service nodewave-images.service
[Service]
ExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf \\
  --hostname-override=$name --node-ip=$addr \\
  --node-labels=sim.nodewave.io/real=true,pool=real,topology.kubernetes.io/zone=zone-real
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/kubelet.service "$root/etc/systemd/system/multi-user.target.wants/kubelet.service"
}

up() {
  [[ $EUID -eq 0 ]] || die "real nodes need root"
  [[ -f "$KUBECONFIG_FILE" ]] || die "no simulated cluster $SIM_NAME: run hack/sim.sh up first"
  host
  local base; base=$(rootfs)
  "$here/toolchain.sh" realnodes >/dev/null
  images >/dev/null
  host_inotify
  machines_network
  releases
  local i name root
  for ((i = 0; i < SIM_REAL_NODES; i++)); do
    name="real-$i"
    if [[ -n $(machine_leader "$name") ]]; then log "$name is already running"; continue; fi
    log "starting $name"
    root=$(machine_root "$name" "$base")
    node_files "$i" "$root"
    machine_net "$i" "$SIM_REAL_NODES"
    machine_boot "$i" "$name"
  done
  log "waiting for the real nodes to be Ready"
  local kubectl="$assets/kubectl --kubeconfig $KUBECONFIG_FILE"
  for ((i = 0; i < SIM_REAL_NODES; i++)); do
    local deadline=$((SECONDS + 180))
    until $kubectl get node "real-$i" >/dev/null 2>&1; do
      ((SECONDS < deadline)) || die "real-$i did not register in 180 s (see $REAL_DIR/real-$i/console.log)"
      sleep 1
    done
    $kubectl wait --for=condition=Ready "node/real-$i" --timeout=180s >/dev/null \
      || die "real-$i is not Ready"
  done
  log "ready: $SIM_REAL_NODES real nodes"
}

case "${1:-}" in
  up) up ;;
  down) machines_down ;;
  exec) shift; name=${1:?node}; shift; machine_exec "$name" "$@" ;;
  rootfs) rootfs ;;
  images) images ;;
  load) shift; machines_load "$@" ;;
  env) echo "RELEASE_URL=$RELEASE_URL RELEASES_DIR=$RELEASES_DIR" ;;
  host) host ;;
  *) echo "usage: $0 up|down|exec NODE CMD...|load TAR...|env|rootfs|images|host" >&2; exit 2 ;;
esac
