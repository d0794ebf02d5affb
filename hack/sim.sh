#!/usr/bin/env bash
# sim.sh runs nodewave's simulated cluster: real etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler, with kwok's fake kubelets, all
# started by `kwokctl --runtime binary` from the binaries hack/toolchain.sh
# builds (nothing is downloaded).
#
#   hack/sim.sh up      start the cluster, add nodes and workloads
#   hack/sim.sh down    stop it and delete its files
#   hack/sim.sh env     print the KUBECONFIG and KUBECTL of a running cluster
#
# Settings, as flags after the command (hack/sim.sh up --workers 50 --zones 2)
# or as environment variables:
#   SIM_NAME=nodewave-sim   cluster name (several can run at once)
#   SIM_WORKERS=20          worker nodes, spread over SIM_ZONES zones
#   SIM_ZONES=3             (at most 26: zone-a ... zone-z)
#   SIM_CONTROL_PLANES=3    control-plane nodes (labelled and tainted as kubeadm does)
#   SIM_VERSION=v1.36.3     kubelet version every node reports
#   SIM_REPLICAS=           replicas of the main Deployment (default: 2 per worker)
#   SIM_SERVICES=0          more Deployments (svc-0, svc-1, ...), each with
#                           SIM_SERVICE_REPLICAS=100 replicas and its own
#                           PodDisruptionBudget (maxUnavailable 10%): many
#                           budgets, as in a real cluster, not one hot one
#   SIM_ROLLOUT_TIMEOUT=180s how long to wait for the workloads to be ready
#   SIM_NODE_CLIENTS=8      kubectl clients that create the nodes side by side
#   SIM_HEARTBEAT_FACTOR=   kwokctl's --heartbeat-factor (its default 5: node
#                           leases of 200 s, renewed every 50 s; at 5,000
#                           nodes that is 100 lease writes a second, the
#                           API server's largest load at rest)
#   SIM_POD_PARALLELISM=4   kwok's workers for pod stages (ready, delete)
#   SIM_NODES_TO_SCORE=     the kube-scheduler's percentageOfNodesToScore
#                           (Kubernetes' default: adaptive, 10% at 5,000
#                           nodes, 42% at 1,000, at least 100 nodes)
#   SIM_DISABLE_QPS_LIMITS= 1: no client QPS limits in the control plane
#                           (large clusters: thousands of pods to create)
#   SIM_REAL_NODES=0        real worker nodes real-0 ... beside the kwok ones
#                           (hack/realnodes.sh; root; docs/real-nodes.md).
#                           Set it when the cluster is created: the API
#                           server is then started ready to serve them, and
#                           node heartbeats are Kubernetes' own (kwokctl's
#                           --heartbeat-factor 1: node leases of 40 s,
#                           NotReady 40 s after a kubelet stops; kwokctl
#                           stretches them five times by default)
set -euo pipefail

command="${1:-}"
shift || true
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) SIM_NAME=$2 ;;
    --workers) SIM_WORKERS=$2 ;;
    --zones) SIM_ZONES=$2 ;;
    --control-planes) SIM_CONTROL_PLANES=$2 ;;
    --version) SIM_VERSION=$2 ;;
    --replicas) SIM_REPLICAS=$2 ;;
    --real-nodes) SIM_REAL_NODES=$2 ;;
    *) echo "sim.sh: unknown flag $1" >&2; exit 2 ;;
  esac
  shift 2
done

here="$(cd "$(dirname "$0")" && pwd)"
SIM_NAME="${SIM_NAME:-nodewave-sim}"
SIM_WORKERS="${SIM_WORKERS:-20}"
SIM_ZONES="${SIM_ZONES:-3}"
SIM_CONTROL_PLANES="${SIM_CONTROL_PLANES:-3}"
SIM_VERSION="${SIM_VERSION:-v1.36.3}"
SIM_REPLICAS="${SIM_REPLICAS:-$((SIM_WORKERS * 2))}"
SIM_SERVICES="${SIM_SERVICES:-0}"
SIM_SERVICE_REPLICAS="${SIM_SERVICE_REPLICAS:-100}"
SIM_REAL_NODES="${SIM_REAL_NODES:-0}"
export SIM_NAME SIM_REAL_NODES

cache="$("$here/toolchain.sh" dir)"
SIM_DIR="${NODEWAVE_SIM_DIR:-$(dirname "$cache")/nodewave-sim/$SIM_NAME}"
export KWOK_WORKDIR="$SIM_DIR/kwok"
KUBECONFIG_FILE="$SIM_DIR/kubeconfig"

log() { echo "sim: $*" >&2; }

up() {
  local bin
  bin="$("$here/toolchain.sh" sim)"
  KUBECTL="$bin/kubectl --kubeconfig $KUBECONFIG_FILE"
  mkdir -p "$SIM_DIR"
  if [[ -f "$KUBECONFIG_FILE" ]] && $KUBECTL get --raw /readyz >/dev/null 2>&1; then
    log "cluster $SIM_NAME is already up"
  else
    log "starting cluster $SIM_NAME (kwokctl, binary runtime)"
    kwok_config >"$SIM_DIR/kwok-config.yaml"
    "$bin/kwokctl" create cluster --name "$SIM_NAME" --runtime binary \
      --config "$SIM_DIR/kwok-config.yaml" \
      ${SIM_DISABLE_QPS_LIMITS:+--disable-qps-limits} \
      $( ((SIM_REAL_NODES > 0)) && echo --heartbeat-factor 1) \
      ${SIM_HEARTBEAT_FACTOR:+--heartbeat-factor "$SIM_HEARTBEAT_FACTOR"} \
      $([[ -n ${SIM_NODES_TO_SCORE:-} ]] && scheduler_config >"$SIM_DIR/scheduler-config.yaml" &&
        echo --kube-scheduler-config "$SIM_DIR/scheduler-config.yaml") \
      --kube-apiserver-binary "$bin/kube-apiserver" \
      --etcd-binary "$bin/etcd" \
      --kube-controller-manager-binary "$bin/kube-controller-manager" \
      --kube-scheduler-binary "$bin/kube-scheduler" \
      --kwok-controller-binary "$bin/kwok" \
      --kubeconfig "$KUBECONFIG_FILE" --quiet-pull >/dev/null 2>"$SIM_DIR/kwokctl.log" \
      || { cat "$SIM_DIR/kwokctl.log" >&2; exit 1; }
  fi
  log "adding $SIM_CONTROL_PLANES control-plane and $SIM_WORKERS worker nodes at $SIM_VERSION"
  create_nodes
  log "deploying workloads ($SIM_REPLICAS web replicas, $SIM_SERVICES services of $SIM_SERVICE_REPLICAS, PodDisruptionBudgets, a StatefulSet, a DaemonSet, emptyDir pods)"
  { workloads; services; } | $KUBECTL apply -f - >/dev/null
  $KUBECTL -n workloads rollout status deployment/web --timeout="${SIM_ROLLOUT_TIMEOUT:-180s}" >/dev/null
  $KUBECTL -n workloads wait deployment --all --for=condition=Available --timeout="${SIM_ROLLOUT_TIMEOUT:-180s}" >/dev/null
  $KUBECTL -n workloads rollout status statefulset/db --timeout="${SIM_ROLLOUT_TIMEOUT:-180s}" >/dev/null
  if ((SIM_REAL_NODES > 0)); then
    log "adding $SIM_REAL_NODES real nodes"
    "$here/realnodes.sh" up
  fi
  log "ready: export KUBECONFIG=$KUBECONFIG_FILE"
  echo "$KUBECONFIG_FILE"
}

down() {
  local bin
  bin="$("$here/toolchain.sh" sim)"
  if [[ -d "$SIM_DIR/real" ]]; then
    "$here/realnodes.sh" down
  fi
  if [[ -d "$KWOK_WORKDIR" ]]; then
    "$bin/kwokctl" delete cluster --name "$SIM_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$SIM_DIR"
  log "cluster $SIM_NAME is down"
}

# kwok_config prints the cluster's settings.
#  - kwok's defaults, plus a label that freezes an object's status: kwok
#    leaves the status of nodes and pods labelled sim.nodewave.io/frozen
#    alone, so a test can hold a node NotReady (or a pod Pending) by
#    labelling it and patching its status; removing the label hands it back
#    to kwok, which makes it Ready (Running) again.
#  - kube-controller-manager and kube-scheduler without leader election:
#    there is one of each, and with it they exit when the API server is
#    away longer than their renew deadline (the e2e suite restarts it).
kwok_config() {
  cat <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
YAML
  if ((SIM_REAL_NODES > 0)); then
    real_nodes_config
  fi
  cat <<YAML
componentsPatches:
- name: kube-controller-manager
  extraArgs:
  - {key: leader-elect, value: "false"}
- name: kube-scheduler
  extraArgs:
  - {key: leader-elect, value: "false"}
YAML
  if ((SIM_REAL_NODES > 0)); then
    real_nodes_patches
  fi
  cat <<YAML
---
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  cidr: 10.0.0.0/24
  disregardStatusWithLabelSelector: sim.nodewave.io/frozen
  nodePlayStageParallelism: 4
  podPlayStageParallelism: ${SIM_POD_PARALLELISM:-4}
  nodeLeaseParallelism: 4
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
YAML
}

# scheduler_config prints the kube-scheduler's configuration when
# SIM_NODES_TO_SCORE is set: that percentage of the nodes scored for each
# pod, without leader election (as componentsPatches sets it otherwise)
# and with the client limits --disable-qps-limits sets.
scheduler_config() {
  cat <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
percentageOfNodesToScore: $SIM_NODES_TO_SCORE
YAML
  if [[ -n ${SIM_DISABLE_QPS_LIMITS:-} ]]; then
    echo "clientConnection: {qps: 5000, burst: 10000}"
  fi
}

# real_nodes_config: with real nodes (hack/realnodes.sh), the API server's
# certificate also names the address the nodes reach it at (the rig's
# bridge) and the kubernetes Service's address (pods reach it through
# kube-proxy on their node).
real_nodes_config() {
  cat <<YAML
options:
  kubeApiserverCertSANs: [10.77.0.1, 10.0.0.1]
YAML
}

# real_nodes_patches: the API server advertises the bridge's address (the
# kubernetes Service's endpoint), reaches kubelets at their InternalIP and
# authenticates to them with a client certificate, as kubeadm sets it up;
# kwok's controller plays only the nodes annotated as fake, never the real
# ones (kwokctl's binary runtime otherwise tells it to manage every node).
real_nodes_patches() {
  local pki="$KWOK_WORKDIR/clusters/$SIM_NAME/pki"
  cat <<YAML
- name: kube-apiserver
  extraArgs:
  - {key: advertise-address, value: 10.77.0.1}
  - {key: kubelet-preferred-address-types, value: InternalIP}
  - {key: kubelet-client-certificate, value: $pki/admin.crt}
  - {key: kubelet-client-key, value: $pki/admin.key}
- name: kwok-controller
  extraArgs:
  - {key: manage-all-nodes, value: "false"}
  - {key: manage-nodes-with-annotation-selector, value: kwok.x-k8s.io/node=fake}
YAML
}

# node NAME ZONE ROLE prints one fake node; kwok manages nodes that carry
# the kwok.x-k8s.io/node annotation. Builtins only (printf, no cat or
# subshell): 5,000 nodes are printed in about a second, not a minute.
node() {
  local name=$1 zone=$2 role=$3 placement
  if [[ $role == control-plane ]]; then
    placement='    node-role.kubernetes.io/control-plane: ""
spec:
  taints:
  - key: node-role.kubernetes.io/control-plane
    effect: NoSchedule'
  else
    placement='    pool: general'
  fi
  printf '%s\n' "---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    topology.kubernetes.io/zone: $zone
    type: kwok
$placement
status:
  allocatable: {cpu: \"32\", memory: 256Gi, pods: \"110\"}
  capacity: {cpu: \"32\", memory: 256Gi, pods: \"110\"}
  nodeInfo:
    kubeletVersion: $SIM_VERSION"
}

# nodes [PART PARTS] prints the control-plane nodes and the workers, in
# zones zone-a, zone-b, ... round robin; with PART and PARTS, only every
# PARTS-th node from the PART-th (0-based), so that PARTS clients can
# create them side by side.
nodes() {
  local part=${1:-0} parts=${2:-1} i name letters=abcdefghijklmnopqrstuvwxyz
  for ((i = part; i < SIM_CONTROL_PLANES; i += parts)); do
    node "control-plane-$i" "zone-${letters:i % SIM_ZONES:1}" control-plane
  done
  for ((i = part; i < SIM_WORKERS; i += parts)); do
    printf -v name 'worker-%03d' "$i"
    node "$name" "zone-${letters:i % SIM_ZONES:1}" worker
  done
}

# create_nodes adds the nodes with SIM_NODE_CLIENTS kubectl clients side by
# side: one client creates about 30 nodes a second here (each object is a
# GET and a POST in turn), so 5,000 nodes took three minutes.
create_nodes() {
  local parts=${SIM_NODE_CLIENTS:-8} part pids=()
  for ((part = 0; part < parts; part++)); do
    nodes "$part" "$parts" | $KUBECTL apply -f - >/dev/null &
    pids+=($!)
  done
  for part in "${pids[@]}"; do
    wait "$part"
  done
}

# services: SIM_SERVICES more Deployments, each with its own budget.
services() {
  local i
  for ((i = 0; i < SIM_SERVICES; i++)); do
    cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: svc-$i, namespace: workloads}
spec:
  replicas: $SIM_SERVICE_REPLICAS
  selector: {matchLabels: {app: svc-$i}}
  template:
    metadata: {labels: {app: svc-$i}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: svc, image: registry.example.com/svc:v1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: svc-$i, namespace: workloads}
spec:
  maxUnavailable: 10%
  selector: {matchLabels: {app: svc-$i}}
YAML
  done
}

# workloads that make drains real. Their images exist nowhere: they run
# only on kwok's nodes (nodeSelector type: kwok), never on real ones.
workloads() {
  cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: workloads}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: workloads}
spec:
  replicas: $SIM_REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: web, image: registry.example.com/web:v1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: workloads}
spec:
  maxUnavailable: 10%
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: workloads}
spec:
  replicas: $((SIM_WORKERS / 2 + 1))
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: api, image: registry.example.com/api:v1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: workloads}
spec:
  minAvailable: 50%
  selector: {matchLabels: {app: api}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: workloads}
spec:
  replicas: 3
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      nodeSelector: {type: kwok}
      containers:
      - name: cache
        image: registry.example.com/cache:v1
        volumeMounts: [{name: scratch, mountPath: /scratch}]
      volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: workloads}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: db, image: registry.example.com/db:v1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db, namespace: workloads}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: db}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: workloads}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: agent, image: registry.example.com/agent:v1}]
YAML
}

case "$command" in
  up) up ;;
  down) down ;;
  env)
    bin="$("$here/toolchain.sh" sim)"
    echo "export KUBECONFIG=$KUBECONFIG_FILE KUBECTL=$bin/kubectl"
    ;;
  *) echo "usage: $0 up|down|env [--name N] [--workers N] [--zones N] [--control-planes N] [--version vX.Y.Z] [--replicas N]" >&2; exit 2 ;;
esac
