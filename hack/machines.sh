# machines.sh holds what nodewave's two real-node rigs share: machines of
# their own (a Debian root file system on an overlay, systemd as PID 1,
# containerd and runc), each booted with systemd-nspawn in a network
# namespace and cgroups of its own, hanging off one bridge on the host.
# hack/realnodes.sh (real workers beside kwok's) and hack/kubeadm.sh (a
# kubeadm-made cluster) source it; it is not run. See docs/real-nodes.md.
#
# A rig sets, before sourcing:
#   RIG          short prefix of its network namespaces, links and cgroups
#                (nwreal, nwkadm); one rig of a kind runs at a time
#   RIG_DIR      the directory holding one directory per machine
#   BRIDGE BRIDGE_ADDR   the host's bridge and its address (x.y.z.1)
#   NODE_NET     the machines' /24 (machine I is NODE_NET.(10+I))
#   POD_NET      the pods' /16 (machine I's pods are POD_NET.I.0/24)
#   cache here   the toolchain's cache directory, this script's directory
# and defines log and die.

DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Debian packages a machine's root file system holds. Changing the list
# builds a new root file system (the directory name carries its hash).
NODE_PACKAGES=(systemd systemd-sysv dbus iproute2 containerd runc iptables
  containernetworking-plugins conntrack ethtool socat kmod procps ca-certificates)

# host_packages PKG... installs the host's packages that are missing.
host_packages() {
  local missing=() p
  for p in "$@"; do
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

# rootfs builds the read-only root file system every machine's overlay sits on.
rootfs() {
  local dir; dir=$(rootfs_dir)
  [[ -f "$dir/.complete" ]] && { echo "$dir"; return 0; }
  host_packages debootstrap
  log "building the machines' root file system with debootstrap (a few minutes, once)"
  local tmp="$dir.tmp"
  rm -rf "$tmp"; mkdir -p "$(dirname "$dir")"
  local include; include=$(IFS=,; echo "${NODE_PACKAGES[*]}")
  debootstrap --variant=minbase --include="$include" bookworm "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1 \
    || { tail -20 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  # A machine gets its own machine-id and hostname when it is made.
  rm -f "$tmp/etc/machine-id" "$tmp/var/lib/dbus/machine-id"
  rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
  touch "$tmp/.complete"
  mv "$tmp" "$dir"; rm -f "$tmp.log"
  echo "$dir"
}

# ociimage_tool builds hack/ociimage (and the pause binary beside it) into
# DIR and prints the tool's path.
ociimage_tool() {
  local dir=$1
  mkdir -p "$dir"
  (cd "$here/ociimage" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$dir/.ociimage" . \
    && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/.pause" ./pause)
  echo "$dir/.ociimage"
}

# busybox_image TOOL TAG OUT builds an image of Debian's static busybox
# (every applet linked in /bin), for workloads and upgrade Jobs.
busybox_image() {
  local tool=$1 tag=$2 out=$3 links=() a
  for a in $(busybox --list); do
    [[ $a == busybox ]] || links+=("/bin/$a=@busybox")
  done
  "$tool" -tag "$tag" -o "$out" -cmd /bin/sh /tmp=+1777 /bin/busybox=/bin/busybox "${links[@]}"
}

# host_inotify raises the host's inotify instances per user to at least
# 1024 (the default is 128): each machine's systemd, containerd and kubelet
# take several, and a kubelet that gets none exits ("inotify_init: too
# many open files"), as worker-2 of a 7-machine kubeadm rig did beside the
# simulated cluster. It never lowers a higher setting; kind asks the same
# of its users.
host_inotify() {
  local f=/proc/sys/fs/inotify/max_user_instances
  if (($(cat "$f") < 1024)); then echo 1024 >"$f"; fi
}

# machines_network makes the bridge every machine hangs off.
machines_network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
}

machine_addr() { echo "$NODE_NET.$((10 + $1))"; }

# machine_net I N makes machine I (of N) its network namespace: a veth to
# the bridge, the machine's address, a route to each other machine's pod
# subnet through that machine (pods reach each other across the bridge,
# without the host forwarding), a default route through the bridge, and on
# the host a route to the machine's pod subnet.
machine_net() {
  local i=$1 n=$2 ns="$RIG-$1" host="$RIG-h$1" addr j; addr=$(machine_addr "$1")
  ip netns add "$ns"
  ip link add "$host" type veth peer name eth0 netns "$ns"
  ip link set "$host" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$BRIDGE_ADDR"
  for ((j = 0; j < n; j++)); do
    ((j == i)) || ip -n "$ns" route add "$POD_NET.$j.0/24" via "$(machine_addr "$j")"
  done
  ip route replace "$POD_NET.$i.0/24" via "$addr" dev "$BRIDGE"
}

# machine_files I NAME ROOT SANDBOX_IMAGE [SRC=ALIAS...] writes what every
# machine holds: its identity, the preparation kind's entrypoint does, and
# containerd with a CNI network of the machine's own pod subnet. Image
# tarballs put in ROOT/opt/nodewave/images are imported at boot, and each
# SRC=ALIAS pair tagged so (images no machine can pull).
machine_files() {
  local i=$1 name=$2 root=$3 sandbox=$4 addr; shift 4
  addr=$(machine_addr "$i")
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n%s %s\n' "$addr" "$name" >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
  mkdir -p "$root/etc/cni/net.d" "$root/etc/containerd" "$root/etc/systemd/system/containerd.service.d" \
    "$root/opt/nodewave/images" "$root/usr/local/sbin"

  # What kind's entrypoint does before systemd's units start: mounts
  # shared, cgroups writable, and the kernel settings the kubelet writes
  # (global ones, not namespaced) kept to files of the machine's own.
  cat >"$root/usr/local/sbin/nodewave-node-prepare" <<'SH'
#!/bin/sh
set -eu
mount --make-rshared /
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/self/mounts); do
  mount -o remount,bind,rw "$m" 2>/dev/null || true
done
# The machine's network namespace is its own: its settings are the
# machine's to write (CNI turns forwarding on, kube-proxy route_localnet).
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
Description=Prepare the machine for containerd and the kubelet
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
  {
    cat <<'UNIT'
[Unit]
Description=Import the images the machine cannot pull
After=containerd.service
Requires=containerd.service
Before=kubelet.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for f in /opt/nodewave/images/*.tar; do ctr -n k8s.io images import "$f"; done'
UNIT
    local pair
    for pair in "$@"; do
      echo "ExecStart=/usr/bin/ctr -n k8s.io images tag --force ${pair%%=*} ${pair#*=}"
    done
    printf '[Install]\nWantedBy=multi-user.target\n'
  } >"$root/etc/systemd/system/nodewave-images.service"
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
  sandbox_image = "$sandbox"
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
  local unit
  for unit in nodewave-node-prepare nodewave-images; do
    ln -sf "/etc/systemd/system/$unit.service" "$root/etc/systemd/system/multi-user.target.wants/$unit.service"
  done
}

# machine_kube_proxy I NAME ROOT BINARY KUBECONFIG installs kube-proxy
# (BINARY) on machine I under a systemd unit enabled at boot, in iptables
# mode, reaching the API server with the kubeconfig file KUBECONFIG.
machine_kube_proxy() {
  local i=$1 name=$2 root=$3 binary=$4 kubeconfig=$5
  install -m 0755 "$binary" "$root/usr/local/bin/kube-proxy"
  install -D -m 0600 "$kubeconfig" "$root/var/lib/kube-proxy/kubeconfig"
  cat >"$root/var/lib/kube-proxy/config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig}
hostnameOverride: $name
bindAddress: $(machine_addr "$i")
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  cat >"$root/etc/systemd/system/kube-proxy.service" <<'UNIT'
[Unit]
Description=kube-proxy: Services on the machine
After=network-online.target
[Service]
ExecStart=/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.yaml
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf /etc/systemd/system/kube-proxy.service "$root/etc/systemd/system/multi-user.target.wants/kube-proxy.service"
}

# machine_cgroup_dirs NAME prints, for each cgroup hierarchy this shell is
# in, the directory of a child group named for the machine.
machine_cgroup_dirs() {
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
    [[ -n $mnt ]] && echo "$mnt${path%/}/$RIG-$name"
  done </proc/self/cgroup
}

# machine_root NAME BASE mounts machine NAME's root, an overlay on BASE,
# and prints its path.
machine_root() {
  local name=$1 base=$2 dir="$RIG_DIR/$1"
  mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$dir/containerd"
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
  echo "$dir/root"
}

# machine_boot I NAME starts machine I with systemd-nspawn, in its own cgroups.
machine_boot() {
  local i=$1 name=$2 dir="$RIG_DIR/$2"
  machine_cgroup_dirs "$name" >"$dir/cgroups"
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
      --network-namespace-path="/run/netns/$RIG-$i" </dev/null >"$dir/console.log" 2>&1
  ) &
  echo $! >"$dir/nspawn.pid"
}

# machine_leader NAME is the pid (on this machine) of the machine's init, or
# nothing.
machine_leader() {
  local name=$1 pid d
  d=$(head -1 "$RIG_DIR/$name/cgroups" 2>/dev/null) || return 0
  [[ -f "$d/cgroup.procs" ]] || return 0
  for pid in $(find "$(dirname "$d")/$RIG-$name" -name cgroup.procs -exec cat {} + 2>/dev/null); do
    if [[ $(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status" 2>/dev/null) == 1 ]]; then
      echo "$pid"; return 0
    fi
  done
}

# machine_exec NAME CMD... runs CMD in every namespace of machine NAME.
machine_exec() {
  local name=$1 pid; shift
  pid=$(machine_leader "$name")
  [[ -n $pid ]] || die "machine $name is not running"
  nsenter -t "$pid" -a -- "$@"
}

# machines_load TAR... imports image tarballs into every running machine's
# containerd (as `kind load image-archive` does).
machines_load() {
  local dir name f
  for dir in "$RIG_DIR"/*/; do
    name=$(basename "$dir")
    [[ -f "$dir/cgroups" && -n $(machine_leader "$name") ]] || continue
    for f in "$@"; do
      cp "$f" "$dir/root/opt/nodewave/images/"
      machine_exec "$name" ctr -n k8s.io images import "/opt/nodewave/images/$(basename "$f")" >/dev/null
    done
    log "loaded $* into $name"
  done
}

# machine_processes NAME lists the processes in machine NAME's cgroups,
# exiting ones included.
machine_processes() {
  grep -l -E "/$RIG-$1(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | sort -u || true
}

# machines_down removes every machine, process, mount, cgroup, network
# device and file the rig made, whatever state it was left in; each
# RIG_DIR/*.pid is a server of the rig's to stop.
machines_down() {
  local dir name pid d i
  for dir in "$RIG_DIR"/*/; do
    dir=${dir%/}
    [[ -f $dir/cgroups || -f $dir/nspawn.pid ]] || continue
    name=$(basename "$dir")
    pid=$(machine_leader "$name")
    if [[ -n $pid ]]; then
      nsenter -t "$pid" -a -- systemctl poweroff >/dev/null 2>&1 || true
      for _ in $(seq 1 60); do [[ -z $(machine_leader "$name") ]] && break; sleep 0.5; done
    fi
    # Whatever is left of the machine is killed, until nothing is: a
    # process may fork as its siblings die, and a killed one (systemd-nspawn
    # among them) shows in the machine's cgroups until it is reaped.
    [[ -f "$dir/nspawn.pid" ]] && kill -9 "$(cat "$dir/nspawn.pid")" 2>/dev/null || true
    local left
    for _ in $(seq 1 40); do
      left=$(machine_processes "$name")
      [[ -z $left ]] && break
      echo "$left" | xargs -r kill -9 2>/dev/null || true
      sleep 0.25
    done
    [[ -z $left ]] || log "$name: processes $(echo "$left" | tr '\n' ' ')are left"
  done
  for pid in "$RIG_DIR"/*.pid; do
    [[ -f $pid ]] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  # Mounts under the rig's directory, deepest first.
  if [[ -d $RIG_DIR ]]; then
    awk -v p="$RIG_DIR/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r d; do
      umount -l "$d" 2>/dev/null || true
    done
  fi
  # Cgroups, deepest first (a directory with processes left cannot go).
  find /sys/fs/cgroup -depth -type d -path "*/$RIG-*" 2>/dev/null | while read -r d; do
    rmdir "$d" 2>/dev/null || true
  done
  for i in $(ip netns list 2>/dev/null | awk -v r="$RIG" '$1 ~ "^" r "-[0-9]+$" {sub(r "-", "", $1); print $1}'); do
    ip netns del "$RIG-$i" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  if awk -v p="$RIG_DIR/" 'index($2, p) == 1' /proc/self/mounts | grep -q .; then
    die "mounts under $RIG_DIR are left; not deleting it"
  fi
  rm -rf "$RIG_DIR"
}
