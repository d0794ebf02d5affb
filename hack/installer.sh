#!/usr/bin/env bash
# installer.sh IMG VERSION KUBECTL: print config/default as one manifest,
# with the manager's image IMG (name:tag or name@sha256:digest) and the label
# app.kubernetes.io/version=VERSION on every object and pod template: the
# release's install.yaml (kubebuilder's build-installer). It builds through a
# kustomize overlay under bin/, because kustomize takes no absolute path to a
# base and config/ stays untouched.
set -euo pipefail
img=$1 version=$2 kubectl=$3
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/bin/installer-overlay"
mkdir -p "$dir"

# name:tag, name@digest; a registry's port (localhost:5000/x) is no tag.
name=$img pin=""
if [[ $img == *@* ]]; then
  name=${img%@*} pin="  digest: ${img#*@}"
elif [[ ${img##*/} == *:* ]]; then
  name=${img%:*} pin="  newTag: ${img##*:}"
fi
cat >"$dir/kustomization.yaml" <<YAML
resources:
- ../../config/default
images:
- name: ghcr.io/nodewave/nodewave
  newName: $name
${pin}
labels:
- pairs:
    app.kubernetes.io/version: "$version"
  includeTemplates: true
YAML
echo "# nodewave $version: everything it needs in a cluster (kubectl apply -f install.yaml)."
echo "# Made by make build-installer from config/default, image $img."
"$kubectl" kustomize "$dir"
