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
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

assets="$("$here/toolchain.sh" dir)"
cache="$(dirname "$assets")"
SIM_DIR="${NODEWAVE_SIM_DIR:-$cache/nodewave-sim/$SIM_NAME}"
REAL_DIR="$SIM_DIR/real"
KUBECONFIG_FILE="$SIM_DIR/kubeconfig"
PKI_DIR="$SIM_DIR/kwok/clusters/$SIM_NAME/pki"

# The rig's network: a bridge on the host, one address per node, one pod
# subnet per node. Names and addresses are fixed, so one cluster with real
# nodes runs at a time on a machine.
BRIDGE=nwreal0
BRIDGE_ADDR=10.77.0.1
NODE_NET=10.77.0
POD_NET=10.78
# The cluster's Service range (kube-apiserver's default) and the first
# address in it, the kubernetes Service.
SERVICE_CIDR=10.0.0.0/24
KUBERNETES_SERVICE_IP=10.0.0.1

# Debian packages a node's root file system holds. Changing the list builds
# a new root file system (the directory name carries its hash).
NODE_PACKAGES=(systemd systemd-sysv dbus iproute2 containerd runc iptables
  containernetworking-plugins conntrack ethtool socat kmod procps ca-certificates)
HOST_PACKAGES=(debootstrap systemd-container busybox-static iproute2 openssl)

log() { echo "realnodes: $*" >&2; }
die() { log "$*"; exit 1; }

host() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

rootfs_dir() {
  local sum
  sum=$(printf '%s\n' bookworm "${NODE_PACKAGES[@]}" | sha256sum | cut -c1-12)
  echo "$cache/realnodes/rootfs-bookworm-$sum"
}

# rootfs builds the read-only root file system every node's overlay sits on.
rootfs() {
  local dir; dir=$(rootfs_dir)
  [[ -f "$dir/.complete" ]] && { echo "$dir"; return 0; }
  host
  log "building the nodes' root file system with debootstrap (a few minutes, once)"
  local tmp="$dir.tmp"
  rm -rf "$tmp"; mkdir -p "$(dirname "$dir")"
  local include; include=$(IFS=,; echo "${NODE_PACKAGES[*]}")
  debootstrap --variant=minbase --include="$include" bookworm "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1 \
    || { tail -20 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  # A node gets its own machine-id and hostname when it is made.
  rm -f "$tmp/etc/machine-id" "$tmp/var/lib/dbus/machine-id"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
  touch "$tmp/.complete"
  mv "$tmp" "$dir"; rm -f "$tmp.log"
  echo "$dir"
}


# images builds the images every node imports at boot (none can be pulled):
#   nodewave.local/pause:3.10    the pods' sandbox (hack/ociimage/pause)
#   nodewave.local/busybox:1.35  Debian's static busybox, for workloads and
#                                for the upgrade Jobs of the binary sample
images() {
  local dir="$cache/realnodes/images"
  mkdir -p "$dir"
  local tool="$dir/.ociimage"
  (cd "$here/ociimage" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$tool" . \
    && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/.pause" ./pause)
  "$tool" -tag "$PAUSE_IMAGE" -o "$dir/pause.tar" -entrypoint /pause -user 65535:65535 /pause="$dir/.pause"
  local links=() a
  for a in $(busybox --list); do
    [[ $a == busybox ]] || links+=("/bin/$a=@busybox")
  done
  "$tool" -tag "$BUSYBOX_IMAGE" -o "$dir/busybox.tar" -cmd /bin/sh /tmp=+1777 /bin/busybox=/bin/busybox "${links[@]}"
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

# network makes the bridge every node's network namespace hangs off.
network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
}

# node_net I makes node I's network namespace: a veth to the bridge, the
# node's address, a default route through the bridge, and on the host a
# route to the node's pod subnet.
node_net() {
  local i=$1 ns="nwreal-$1" host="nwreal-h$1" addr="$NODE_NET.$((10 + $1))"
  ip netns add "$ns"
  ip link add "$host" type veth peer name eth0 netns "$ns"
  ip link set "$host" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$BRIDGE_ADDR"
  ip route replace "$POD_NET.$i.0/24" via "$addr" dev "$BRIDGE"
}

# node_files I ROOT writes what makes the root file system node I.
node_files() {
  local i=$1 root=$2 name="real-$1" addr="$NODE_NET.$((10 + $1))" bin
  bin="$cache/kubernetes-$SIM_REAL_VERSION"
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n%s %s\n' "$addr" "$name" >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
  install -m 0755 "$bin/kubelet" "$root/usr/bin/kubelet"
  install -m 0755 "$bin/kube-proxy" "$root/usr/bin/kube-proxy"
  mkdir -p "$root/etc/kubernetes/pki" "$root/var/lib/kubelet" "$root/var/lib/kube-proxy" \
    "$root/etc/cni/net.d" "$root/etc/containerd" "$root/etc/systemd/system/containerd.service.d" \
    "$root/opt/nodewave/images" "$root/usr/local/sbin"
  cp "$PKI_DIR/ca.crt" "$root/etc/kubernetes/pki/ca.crt"
  client_cert "$REAL_DIR/$name/kubelet" "system:node:$name" system:nodes
  kubeconfig "system:node:$name" "$REAL_DIR/$name/kubelet" >"$root/etc/kubernetes/kubelet.conf"
  client_cert "$REAL_DIR/$name/kube-proxy" system:kube-proxy system:node-proxier
  kubeconfig system:kube-proxy "$REAL_DIR/$name/kube-proxy" >"$root/etc/kubernetes/kube-proxy.conf"
  cp "$cache/realnodes/images/"*.tar "$root/opt/nodewave/images/"

  # What kind's entrypoint does before systemd's units start: mounts
  # shared, cgroups writable, and the kernel settings the kubelet writes
  # (global ones, not namespaced) kept to files of the node's own.
  cat >"$root/usr/local/sbin/nodewave-node-prepare" <<'SH'
#!/bin/sh
set -eu
mount --make-rshared /
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/self/mounts); do
  mount -o remount,bind,rw "$m" 2>/dev/null || true
done
# The node's network namespace is its own: its settings are the node's to
# write (CNI turns forwarding on, kube-proxy route_localnet).
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
for k in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops \
         kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  f=/run/nodewave/sysctl/$k
  mkdir -p "${f%/*}"
  cat "/proc/sys/$k" >"$f"
  mount --bind "$f" "/proc/sys/$k"
done
SH
  chmod 0755 "$root/usr/local/sbin/nodewave-node-prepare"
  cat >"$root/etc/systemd/system/nodewave-node-prepare.service" <<'UNIT'
[Unit]
Description=Prepare the node for containerd and the kubelet
DefaultDependencies=no
Before=containerd.service kubelet.service
After=local-fs.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/nodewave-node-prepare
[Install]
WantedBy=multi-user.target
UNIT
  cat >"$root/etc/systemd/system/nodewave-images.service" <<UNIT
[Unit]
Description=Import the images the node cannot pull
After=containerd.service
Requires=containerd.service
Before=kubelet.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for f in /opt/nodewave/images/*.tar; do ctr -n k8s.io images import "\$f"; done'
ExecStart=/usr/bin/ctr -n k8s.io images tag --force $BUSYBOX_IMAGE $UPSTREAM_BUSYBOX_IMAGE
[Install]
WantedBy=multi-user.target
UNIT
  cat >"$root/etc/systemd/system/containerd.service.d/nodewave.conf" <<'UNIT'
[Unit]
After=nodewave-node-prepare.service
Requires=nodewave-node-prepare.service
[Service]
ExecStartPre=
OOMScoreAdjust=0
LimitNOFILE=20000
LimitNPROC=infinity
UNIT
  cat >"$root/etc/containerd/config.toml" <<TOML
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
TOML
  cat >"$root/etc/cni/net.d/10-nodewave.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "nodewave",
  "plugins": [
    {"type": "ptp", "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_NET.$i.0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
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
  cat >"$root/var/lib/kube-proxy/config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: /etc/kubernetes/kube-proxy.conf}
hostnameOverride: $name
bindAddress: $addr
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  cat >"$root/etc/systemd/system/kube-proxy.service" <<'UNIT'
[Unit]
Description=kube-proxy: Services on the node
After=network-online.target
[Service]
ExecStart=/usr/bin/kube-proxy --config=/var/lib/kube-proxy/config.yaml
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
UNIT
  local unit
  for unit in nodewave-node-prepare nodewave-images kubelet kube-proxy; do
    ln -sf "/etc/systemd/system/$unit.service" "$root/etc/systemd/system/multi-user.target.wants/$unit.service"
  done
}

# cgroup_dirs NAME prints, for each cgroup hierarchy this shell is in, the
# directory of a child group named for the node.
cgroup_dirs() {
  local name=$1 ctrls path mnt
  while IFS=: read -r _ ctrls path; do
    if [[ -z $ctrls ]]; then
      mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
    else
      mnt=$(awk -v c="${ctrls#name=}" '$3 == "cgroup" {
        n = split(c, want, ","); ok = 1
        for (i = 1; i <= n; i++) if (index("," $4 ",", "," want[i] ",") == 0) ok = 0
        if (ok) {print $2; exit}}' /proc/self/mounts)
    fi
    [[ -n $mnt ]] && echo "$mnt${path%/}/nwreal-$name"
  done </proc/self/cgroup
}

# boot I starts node I with systemd-nspawn, in its own cgroups.
boot() {
  local i=$1 name="real-$1" dir="$REAL_DIR/real-$1"
  cgroup_dirs "$name" >"$dir/cgroups"
  (
    local d
    while read -r d; do
      mkdir -p "$d"
      if [[ -f "$d/cpuset.cpus" ]]; then
        cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
        cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
      fi
      echo $BASHPID >"$d/cgroup.procs"
    done <"$dir/cgroups"
    SYSTEMD_SECCOMP=0 exec setsid systemd-nspawn --quiet --console=passive \
      -D "$dir/root" -M "$name" -b --register=no --keep-unit --capability=all \
      --bind=/dev/kmsg --bind="$dir/containerd:/var/lib/containerd" \
      --network-namespace-path="/run/netns/nwreal-$i" </dev/null >"$dir/console.log" 2>&1
  ) &
  echo $! >"$dir/nspawn.pid"
}

# leader NAME is the pid (on this machine) of the node's init, or nothing.
leader() {
  local name=$1 pid d
  d=$(head -1 "$REAL_DIR/$name/cgroups" 2>/dev/null) || return 0
  [[ -f "$d/cgroup.procs" ]] || return 0
  for pid in $(find "$(dirname "$d")/nwreal-$name" -name cgroup.procs -exec cat {} + 2>/dev/null); do
    if [[ $(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status" 2>/dev/null) == 1 ]]; then
      echo "$pid"; return 0
    fi
  done
}

# in NAME CMD... runs CMD in every namespace of node NAME.
in_node() {
  local name=$1 pid; shift
  pid=$(leader "$name")
  [[ -n $pid ]] || die "node $name is not running"
  nsenter -t "$pid" -a -- "$@"
}

up() {
  [[ $EUID -eq 0 ]] || die "real nodes need root"
  [[ -f "$KUBECONFIG_FILE" ]] || die "no simulated cluster $SIM_NAME: run hack/sim.sh up first"
  host
  local base; base=$(rootfs)
  "$here/toolchain.sh" realnodes >/dev/null
  images >/dev/null
  network
  releases
  local i name dir
  for ((i = 0; i < SIM_REAL_NODES; i++)); do
    name="real-$i"; dir="$REAL_DIR/$name"
    if [[ -n $(leader "$name") ]]; then log "$name is already running"; continue; fi
    log "starting $name"
    mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$dir/containerd"
    mount -t overlay overlay -o "lowerdir=$base,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
    node_files "$i" "$dir/root"
    node_net "$i"
    boot "$i"
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

# load imports image tarballs into every running node's containerd.
load() {
  local dir name f
  for dir in "$REAL_DIR"/real-*; do
    name=$(basename "$dir")
    [[ -n $(leader "$name") ]] || continue
    for f in "$@"; do
      cp "$f" "$dir/root/opt/nodewave/images/"
      in_node "$name" ctr -n k8s.io images import "/opt/nodewave/images/$(basename "$f")" >/dev/null
    done
    log "loaded $* into $name"
  done
}

# down removes what up made, whatever state it was left in.
down() {
  local dir name pid d i
  for dir in "$REAL_DIR"/real-*; do
    [[ -d $dir ]] || continue
    name=$(basename "$dir")
    pid=$(leader "$name")
    if [[ -n $pid ]]; then
      nsenter -t "$pid" -a -- systemctl poweroff >/dev/null 2>&1 || true
      for _ in $(seq 1 60); do [[ -z $(leader "$name") ]] && break; sleep 0.5; done
    fi
    # Whatever is left in the node's cgroups is killed.
    if [[ -f "$dir/cgroups" ]]; then
      while read -r d; do
        [[ -d $d ]] || continue
        find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      done <"$dir/cgroups"
    fi
    [[ -f "$dir/nspawn.pid" ]] && kill -9 "$(cat "$dir/nspawn.pid")" 2>/dev/null || true
  done
  [[ -f "$REAL_DIR/httpd.pid" ]] && kill "$(cat "$REAL_DIR/httpd.pid")" 2>/dev/null || true
  # Mounts under the rig's directory, deepest first.
  if [[ -d $REAL_DIR ]]; then
    awk -v p="$REAL_DIR/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r d; do
      umount -l "$d" 2>/dev/null || true
    done
  fi
  # Cgroups, deepest first (a directory with processes left cannot go).
  find /sys/fs/cgroup -depth -type d -path '*nwreal-real-*' 2>/dev/null | while read -r d; do
    rmdir "$d" 2>/dev/null || true
  done
  for i in $(ip netns list 2>/dev/null | awk '$1 ~ /^nwreal-[0-9]+$/ {sub("nwreal-", "", $1); print $1}'); do
    ip netns del "nwreal-$i" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  if awk -v p="$REAL_DIR/" 'index($2, p) == 1' /proc/self/mounts | grep -q .; then
    die "mounts under $REAL_DIR are left; not deleting it"
  fi
  rm -rf "$REAL_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  exec) shift; name=${1:?node}; shift; in_node "$name" "$@" ;;
  rootfs) rootfs ;;
  images) images ;;
  load) shift; load "$@" ;;
  env) echo "RELEASE_URL=$RELEASE_URL RELEASES_DIR=$RELEASES_DIR" ;;
  host) host ;;
  *) echo "usage: $0 up|down|exec NODE CMD...|load TAR...|env|rootfs|images|host" >&2; exit 2 ;;
esac
