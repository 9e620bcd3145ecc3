#!/usr/bin/env bash
# See it run without a cluster: deploys the dev stack with the real Pulumi CLI to
# the local control plane of the end-to-end tests (a real kube-apiserver with
# simulated nodes, scripts/e2e-cluster.sh), and prints the stack outputs.
#
#   scripts/local-stack.sh up     # npm run local:up: start (or reuse) the control plane, pulumi up, print outputs
#   scripts/local-stack.sh down   # npm run local:down: pulumi destroy, stop the control plane, remove .local/
#
# It runs the README's deploy commands in .local/project, a copy of this
# checkout (node_modules linked) so that `pulumi config set` leaves the
# committed stacks/ files alone; the CLI starts the toolchain's Node.js
# language host, which runs index.ts. State: .local/ (the control plane, a
# file backend, PULUMI_HOME), all removed by `down`. The passphrase of this
# throwaway stack is "local". The first run builds the toolchain
# (scripts/e2e-toolchain.sh: about 18 minutes on an idle 2-core machine, then cached).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$REPO_ROOT/.local"
PROJECT="$LOCAL/project"
CLUSTER="$LOCAL/cluster"

say() { echo "local-stack: $*" >&2; }
die() { echo "local-stack: ERROR: $*" >&2; exit 1; }

[[ $# -eq 1 && ( $1 == up || $1 == down ) ]] || die "usage: $0 up|down"
[[ -d "$REPO_ROOT/node_modules/@pulumi/pulumi" ]] || die "run npm ci first"

if ! BIN=$("$REPO_ROOT/scripts/e2e-toolchain.sh" --print 2>/dev/null); then
  [[ $1 == down && ! -d "$LOCAL" ]] && { say "nothing to tear down"; exit 0; }
  say "building what is missing of the toolchain (a cold build takes about 18 minutes on an idle 2-core machine)"
  BIN=$("$REPO_ROOT/scripts/e2e-toolchain.sh" | tail -n 1)
fi

# The CLI offline, with the toolchain's Kubernetes provider and Node.js language host as installed plugins.
export PATH="$BIN:$PATH" KUBECONFIG="$CLUSTER/kubeconfig" PULUMI_HOME="$LOCAL/pulumi-home" \
  PULUMI_CONFIG_PASSPHRASE=local PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
  PULUMI_IGNORE_AMBIENT_PLUGINS=true NODE_PATH="$REPO_ROOT/node_modules"
unset PULUMI_BACKEND_URL
pulumi_version=$(pulumi version) && pulumi_version=${pulumi_version#v}
k8s_version=$(node -p "require('$REPO_ROOT/node_modules/@pulumi/kubernetes/package.json').version")
for plugin in "resource-kubernetes-v$k8s_version/pulumi-resource-kubernetes" "language-nodejs-v$pulumi_version/pulumi-language-nodejs"; do
  mkdir -p "$PULUMI_HOME/plugins/${plugin%/*}"
  ln -sfn "$BIN/${plugin#*/}" "$PULUMI_HOME/plugins/$plugin"
done

running() { [[ -f "$KUBECONFIG" ]] && kubectl get --raw /readyz >/dev/null 2>&1; }

if [[ $1 == down ]]; then
  if running && [[ -d "$PROJECT" ]]; then
    (cd "$PROJECT" && pulumi destroy --yes --skip-preview)
  fi
  [[ -d "$CLUSTER" ]] && "$REPO_ROOT/scripts/e2e-cluster.sh" down "$CLUSTER"
  rm -rf "$LOCAL"
  say "torn down"
  exit 0
fi

if ! running; then
  # A new control plane has none of the objects an older stack recorded: start the stack over too.
  [[ -d "$CLUSTER" ]] && "$REPO_ROOT/scripts/e2e-cluster.sh" down "$CLUSTER"
  rm -rf "$LOCAL/state" "$PROJECT"
  say "starting the local control plane in $CLUSTER"
  "$REPO_ROOT/scripts/e2e-cluster.sh" up "$CLUSTER"
fi

# The checkout's files as they are now; the copy's stack file keeps what `pulumi config set` and the stack's
# encryption salt wrote to it.
(cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z) | while IFS= read -r -d '' file; do
  [[ $file == node_modules/* || ! -f "$REPO_ROOT/$file" ]] && continue
  [[ $file == stacks/Pulumi.dev.yaml && -f "$PROJECT/$file" ]] && continue
  mkdir -p "$PROJECT/$(dirname "$file")"
  cp "$REPO_ROOT/$file" "$PROJECT/$file"
done
ln -sfn "$REPO_ROOT/node_modules" "$PROJECT/node_modules"

cd "$PROJECT"
mkdir -p "$LOCAL/state"
pulumi login "file://$LOCAL/state"
pulumi stack select dev --create
pulumi config set kubernetes:context e2e
pulumi config set storageClass e2e-local   # the local control plane has no default StorageClass
pulumi up --yes
pulumi stack output
say "kubectl: KUBECONFIG=$KUBECONFIG $BIN/kubectl get pods; tear down: npm run local:down"
