#!/usr/bin/env bash
# demo.sh shows nodewave's main job on a local simulated cluster: it builds
# what is missing, starts the cluster (hack/sim.sh), installs the CRD, runs
# the manager and the simulated node agent, shows `kubectl nodewave plan`
# for a Concurrent 25% ClusterUpgrade, applies it, shows the upgrade live,
# prints a summary with `kubectl nodewave status` and tears it all down.
# KEEP=1 leaves the cluster and the manager running.
#
# It runs kubectl and the kubectl plugin as a reader would (`kubectl ...`,
# `kubectl nodewave ...`, from a PATH directory holding both): test/docs
# counts the docs' commands that appear here as run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
export SIM_NAME="${SIM_NAME:-nodewave-demo}"
export SIM_WORKERS="${SIM_WORKERS:-20}"
TARGET="${TARGET:-v1.37.2}"
KEEP="${KEEP:-0}"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building nodewave and the Kubernetes binaries it needs (cached after the first run)"
"$here/toolchain.sh" sim >/dev/null
(cd "$root" && go build -o bin/manager ./cmd && go build -o bin/nodeagent ./test/nodeagent/cmd/nodeagent &&
  go build -o bin/kubectl-nodewave ./cmd/kubectl-nodewave)

say "starting a simulated cluster: $SIM_WORKERS workers in 3 zones, 3 control-plane nodes, kubelet v1.36.3"
"$here/sim.sh" up >/dev/null
eval "$("$here/sim.sh" env)"
export KUBECONFIG
workdir="$(dirname "$KUBECONFIG")"
# kubectl and the plugin on PATH, so that `kubectl nodewave` works.
pathdir="$workdir/demo-bin"
mkdir -p "$pathdir"
ln -sf "$KUBECTL" "$pathdir/kubectl"
ln -sf "$root/bin/kubectl-nodewave" "$pathdir/kubectl-nodewave"
export PATH="$pathdir:$PATH"
cd "$workdir"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $KEEP != 1 ]]; then
    "$here/sim.sh" down >/dev/null 2>&1 || true
  else
    echo "cluster kept: export KUBECONFIG=$KUBECONFIG (stop it with: SIM_NAME=$SIM_NAME hack/sim.sh down)"
  fi
}
trap cleanup EXIT

say "installing the ClusterUpgrade CRD and starting the manager"
kubectl apply --server-side -k "$root/config/crd" >/dev/null
kubectl create namespace nodewave-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# The ServiceAccount the upgrade Jobs run as (config/rbac), bound to nothing.
kubectl -n nodewave-system create serviceaccount nodewave-upgrade --dry-run=client -o yaml | kubectl apply -f - >/dev/null
metrics_port=$((20000 + RANDOM % 20000))
"$root/bin/manager" --kubeconfig "$KUBECONFIG" --job-namespace nodewave-system \
  --metrics-secure=false --metrics-bind-address "127.0.0.1:$metrics_port" \
  --health-probe-bind-address "127.0.0.1:$((metrics_port + 1))" >"$workdir/manager.log" 2>&1 &
pids+=($!)
# The simulated node agent: a node in state upgrading reports its target
# kubelet version 3-9 s later, as a real node's kubelet would after its Job.
"$root/bin/nodeagent" --kubeconfig "$KUBECONFIG" --min-delay 3s --max-delay 9s >"$workdir/nodeagent.log" 2>&1 &
pids+=($!)
sleep 2
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { echo "a demo process died; its log:" >&2; tail -20 "$workdir"/*.log >&2; exit 1; }
done

say "a Concurrent 25% ClusterUpgrade to $TARGET (clusterupgrade.yaml)"
cat >clusterupgrade.yaml <<YAML
apiVersion: upgrade.nodewave.io/v1alpha1
kind: ClusterUpgrade
metadata:
  name: workers-$TARGET
spec:
  targetVersion: $TARGET
  strategy:
    type: Concurrent
    maxUnavailable: 25%
  drain:
    timeout: 5m
  health:
    soakDuration: 3s
  upgrade:
    type: Job
    timeout: 10m
    job:
      template:
        spec:
          containers:
          - name: upgrade
            image: registry.example.com/kubelet-upgrader:v1
YAML
sed 's/^/    /' clusterupgrade.yaml

say "before applying it: kubectl nodewave plan -f clusterupgrade.yaml (order, first waves, blockers)"
# (client-go notes its own request throttling on stderr; only that is dropped.)
kubectl nodewave plan -f clusterupgrade.yaml 2> >(grep -v 'client-side throttling' >&2) | sed 's/^/    /'

say "applying it: kubectl apply -f clusterupgrade.yaml"
kubectl apply -f clusterupgrade.yaml

say "watching: kubectl get clusterupgrades -w, and the node states"
start=$(date +%s)
# kubectl's watch prints a line per status write; drop the ones that only
# differ in AGE.
kubectl get clusterupgrades -w > >(awk '{key = $0; sub(/[0-9]+[smh]+[0-9]*[smh]*$/, "", key)} key != last {print; fflush(); last = key}') &
pids+=($!)
phase=""
last=""
while (( $(date +%s) - start < 900 )); do
  phase=$(kubectl get cu "workers-$TARGET" -o jsonpath='{.status.phase}' 2>/dev/null || true)
  states=$(kubectl get nodes -l '!node-role.kubernetes.io/control-plane' \
    -o jsonpath='{range .items[*]}{.metadata.labels.upgrade\.nodewave\.io/state}{"\n"}{end}' |
    sed 's/^$/pending/' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
  if [[ $states != "$last" ]]; then
    printf '  %4ss  nodes: %s\n' "$(( $(date +%s) - start ))" "$states"
    last=$states
  fi
  [[ $phase == Succeeded || $phase == Failed ]] && break
  sleep 1
done
elapsed=$(( $(date +%s) - start ))
sleep 1
kill "${pids[2]}" 2>/dev/null || true
sleep 0.5 # let the watch's last lines out before the summary

say "per node: kubectl nodewave status workers-$TARGET"
kubectl nodewave status "workers-$TARGET" | sed 's/^/    /'

say "summary"
metric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 ~ "^"m {s += $2} END {printf "%d", s}'; }
kubectl get cu "workers-$TARGET" -o wide
echo
printf '  phase:            %s\n' "$phase"
field() { local v; v=$(kubectl get cu "workers-$TARGET" -o jsonpath="{.status.$1}"); echo "${v:-0}"; }
printf '  nodes upgraded:   %s of %s (%s failed)\n' "$(field upgradedNodes)" "$(field totalNodes)" "$(field failedNodes)"
printf '  time:             %ss\n' "$elapsed"
printf '  evictions:        %s accepted, %s refused by a PodDisruptionBudget and retried\n' \
  "$(metric 'nodewave_evictions_total\{result="evicted"')" "$(metric 'nodewave_evictions_total\{result="blocked"')"
printf '  kubelet versions: %s\n' "$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.nodeInfo.kubeletVersion}{"\n"}{end}' | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
printf '  workloads:        %s\n' "$(kubectl -n workloads get deploy,statefulset --no-headers | awk '{printf "%s %s  ", $1, $2}')"
[[ $phase == Succeeded ]]
