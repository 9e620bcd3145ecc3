#!/usr/bin/env bash
# Builds the end-to-end toolchain from Go modules into a cache folder outside
# the repository, and prints its bin directory as the last line of stdout.
#
#   scripts/e2e-toolchain.sh           build what is missing, print the bin dir
#   scripts/e2e-toolchain.sh --print   print the bin dir if complete, else exit 1
#   scripts/e2e-toolchain.sh --check   the same (for CI: "is the toolchain here?")
#
# The bin dir holds: kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kine, kwok, pulumi, pulumi-language-yaml, pulumi-resource-kubernetes,
# pulumi-resource-pulumi-nodejs (the dynamic-provider shim) and
# pulumi-language-nodejs (our stand-in for the Node.js language host,
# e2e/language-host/, copied to share/language-host/); share/ holds KWOK's
# stages, the Prometheus Operator's ServiceMonitor and PodMonitor CRDs
# (share/prometheus-operator-crds.yaml) and cert-manager's Certificate CRD
# (share/cert-manager-crds-<version>.yaml). See e2e/TOOLCHAIN.md
# for the versions and why each piece is built this way.
#
# Every run checks each expected piece and builds or installs only the missing
# ones, so adding a piece never rebuilds the others.
#
# Environment:
#   EMQX_E2E_CACHE  cache root (default: $HOME/.cache/emqx-cluster-e2e)
#   GOMODCACHE, GOCACHE, GOPROXY ... are used as the go command finds them.
#
# A cold build takes about 30-60 minutes on 2 cores and downloads a few GB of
# modules; later runs reuse the finished binaries and return at once.
set -euo pipefail

K8S_VERSION=v1.35.4          # k8s.io/kubernetes; staging modules at v0.35.4
KINE_VERSION=v0.17.5         # github.com/k3s-io/kine
KWOK_VERSION=v0.8.0          # sigs.k8s.io/kwok
PULUMI_VERSION=v3.248.0      # pulumi pkg/v3 + sdk/v3; npm @pulumi/pulumi 3.248.0
PULUMI_K8S_VERSION=4.25.0    # npm @pulumi/kubernetes; provider/v4 pseudo-version in its go.mod
PULUMI_YAML_VERSION=v1.25.0  # github.com/pulumi/pulumi-yaml, required in its wrapper's go.mod
PROMETHEUS_OPERATOR_VERSION=v0.85.0  # github.com/prometheus-operator/prometheus-operator: its CRD manifests
CERT_MANAGER_VERSION=v1.21.2 # github.com/cert-manager/cert-manager: its Certificate CRD (no controller runs)
LAYOUT=1                     # bump when the build steps change the binaries

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WRAPPERS="$REPO_ROOT/e2e/toolchain"
CACHE_ROOT=${EMQX_E2E_CACHE:-$HOME/.cache/emqx-cluster-e2e}

say() { echo "e2e-toolchain: $*" >&2; }
die() { echo "e2e-toolchain: ERROR: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "the go command is not on PATH (Go >= 1.26.5 is needed)"
GOOS_ARCH=$(go env GOOS)-$(go env GOARCH)
KEY="k8s-${K8S_VERSION}_kine-${KINE_VERSION}_kwok-${KWOK_VERSION}_pulumi-${PULUMI_VERSION}_pk8s-v${PULUMI_K8S_VERSION}_${GOOS_ARCH}_l${LAYOUT}"
DIR="$CACHE_ROOT/$KEY"
BIN="$DIR/bin"

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kine kwok pulumi pulumi-language-yaml
  pulumi-resource-kubernetes pulumi-resource-pulumi-nodejs pulumi-language-nodejs)
HOST_SRC="$REPO_ROOT/e2e/language-host/main.js"
HOST_COPY="$DIR/share/language-host/main.js"
MONITORING_CRDS="$DIR/share/prometheus-operator-crds.yaml"
# Named with its version, so another version is a missing piece, installed next to the other pieces.
CERT_MANAGER_CRDS="$DIR/share/cert-manager-crds-$CERT_MANAGER_VERSION.yaml"

have() { local f; for f in "$@"; do [[ -x "$BIN/$f" ]] || return 1; done; }
# Prints each expected piece that is missing (or, for the language host, older than the repository's).
missing() {
  local f
  for f in "${BINARIES[@]}"; do have "$f" || echo "bin/$f"; done
  [[ -s "$DIR/share/kwok-stages.yaml" ]] || echo "share/kwok-stages.yaml"
  [[ -s "$MONITORING_CRDS" ]] || echo "share/prometheus-operator-crds.yaml"
  grep -qs "certificates.cert-manager.io" "$CERT_MANAGER_CRDS" || echo "share/cert-manager-crds-$CERT_MANAGER_VERSION.yaml"
  cmp -s "$HOST_SRC" "$HOST_COPY" || echo "share/language-host/main.js"
}

if [[ "${1:-}" == "--print" || "${1:-}" == "--check" ]]; then
  todo=$(missing)
  [[ -z "$todo" ]] || { say "toolchain incomplete (missing: $(echo $todo)): run scripts/e2e-toolchain.sh"; exit 1; }
  echo "$BIN"
  exit 0
elif [[ $# -gt 0 ]]; then
  die "unknown argument: $1 (usage: $0 [--print|--check])"
fi

if [[ -z "$(missing)" ]]; then
  say "reusing $DIR"
  echo "$BIN"
  exit 0
fi

# Go version check: kine needs 1.26.5, and GOTOOLCHAIN=local keeps the go
# command from trying to fetch another toolchain.
GOVER=$(go env GOVERSION)
if ! printf '%s\n' go1.26.5 "$GOVER" | sort -V -C; then
  die "Go $GOVER is too old: kine $KINE_VERSION needs go1.26.5 or newer"
fi

mkdir -p "$BIN" "$DIR/src" "$DIR/logs"

# One builder at a time per cache folder.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$DIR/.lock"
  flock 9
  if [[ -z "$(missing)" ]]; then echo "$BIN"; exit 0; fi
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
NICE=(nice -n 10)

# Copies a wrapper module into the cache (keeping its generated go.sum).
stage() {
  local name=$1 dst="$DIR/src/$1"
  mkdir -p "$dst"
  cp "$WRAPPERS/$name"/go.mod "$dst/go.mod"
  if compgen -G "$WRAPPERS/$name/*.go" >/dev/null; then cp "$WRAPPERS/$name"/*.go "$dst/"; fi
  echo "$dst"
}

# Runs `go build` for the packages in a wrapper, logging to logs/<name>.log.
# usage: gobuild <name> <ldflags> <tags> <pkg>...
gobuild() {
  local name=$1 ldflags=$2 tags=$3; shift 3
  local src="$DIR/src/$name" log="$DIR/logs/$name.log" out="$DIR/tmp-$name"
  rm -rf "$out"; mkdir -p "$out"
  say "building $name ($*) -- log: $log"
  local start=$SECONDS
  if ! (cd "$src" && "${NICE[@]}" go build -trimpath -pgo=off -tags "$tags" -ldflags "$ldflags" -o "$out/" "$@") >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building $name failed (full log: $log)"
  fi
  mv "$out"/* "$BIN/"
  rmdir "$out"
  local took=$((SECONDS - start))
  echo "$name $((took / 60))m$((took % 60))s" >>"$DIR/build-times.txt"
  say "built $name in $((took / 60))m$((took % 60))s"
}

# 1. Kubernetes control plane and kubectl.
if ! have kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  src=$(stage kubernetes)
  gomod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
  staging=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod")
  [[ -n "$staging" ]] || die "no staging modules found in $gomod"
  # e.g. v1.35.4 -> v0.35.4
  sv="v0.${K8S_VERSION#v1.}"
  for m in $staging; do (cd "$src" && go mod edit -replace "$m=$m@$sv"); done
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  build_date=$(cd "$src" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "k8s.io/kubernetes@$K8S_VERSION")
  V=k8s.io/component-base/version
  gobuild kubernetes \
    "-s -w -X $V.gitMajor=1 -X $V.gitMinor=$minor -X $V.gitVersion=$K8S_VERSION -X $V.gitTreeState=clean -X $V.buildDate=$build_date" \
    "" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
fi

# 2. Datastore.
if ! have kine; then
  stage kine >/dev/null
  gobuild kine "-s -w -X github.com/k3s-io/kine/pkg/version.Version=$KINE_VERSION" "" github.com/k3s-io/kine
fi

# 3. KWOK, and the stages that make it act like kubelets: kwokctl writes these
#    into the controller's configuration; the controller alone has none.
if ! have kwok || [[ ! -s "$DIR/share/kwok-stages.yaml" ]]; then
  src=$(stage kwok)
  have kwok || gobuild kwok "-s -w" "" sigs.k8s.io/kwok/cmd/kwok
  kdir=$(cd "$src" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$DIR/share"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f "$kdir/kustomize/stage/$f" ]] || die "kwok stage $f not found in $kdir"
    echo "---"
    cat "$kdir/kustomize/stage/$f"
  done >"$DIR/share/kwok-stages.yaml"
fi

# 4. Pulumi CLI.
if ! have pulumi; then
  stage pulumi >/dev/null
  gobuild pulumi "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    "osusergo,grpcnotrace" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
fi

# 5. The Node.js language host: its module
#    github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 is not
#    served here (see e2e/TOOLCHAIN.md), so our stand-in is installed instead:
#    plain Node.js that loads @pulumi/pulumi from the project it runs (or
#    NODE_PATH). The CLI finds it on PATH, or as an installed plugin
#    ($PULUMI_HOME/plugins/language-nodejs-$PULUMI_VERSION/pulumi-language-nodejs).
if ! have pulumi-language-nodejs || ! cmp -s "$HOST_SRC" "$HOST_COPY"; then
  [[ $(node "$HOST_SRC" -version) == "$PULUMI_VERSION" ]] || die "$HOST_SRC does not stand in for $PULUMI_VERSION"
  mkdir -p "${HOST_COPY%/*}"
  cp "$HOST_SRC" "$HOST_COPY.tmp" && mv "$HOST_COPY.tmp" "$HOST_COPY"
  printf '#!/bin/sh\n# Node.js language host stand-in (e2e/language-host/main.js).\nexec node "%s" "$@"\n' "$HOST_COPY" >"$BIN/pulumi-language-nodejs"
  chmod +x "$BIN/pulumi-language-nodejs"
  say "installed the Node.js language host stand-in"
fi

# 5b. The YAML language host. The CLI looks for it next to itself (a bundled
#     plugin), so it goes into the bin dir with the CLI.
if ! have pulumi-language-yaml; then
  stage pulumi-yaml >/dev/null
  gobuild pulumi-yaml "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_YAML_VERSION" "" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
fi

# 6. Kubernetes provider plugin.
if ! have pulumi-resource-kubernetes; then
  src=$(stage pulumi-kubernetes)
  pdir=$(cd "$src" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -f "$pdir/cmd/pulumi-resource-kubernetes/schema.json" ]] || die "provider module has no cmd/pulumi-resource-kubernetes/schema.json (dir: $pdir)"
  for f in schema.json terraform-mapping.json; do
    cp "$pdir/cmd/pulumi-resource-kubernetes/$f" "$src/$f"; chmod u+w "$src/$f"
  done
  gobuild pulumi-kubernetes "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_K8S_VERSION" "" .
  mv "$BIN/pulumi-kubernetes" "$BIN/pulumi-resource-kubernetes"
fi

# 7. Dynamic-provider plugin: the CLI starts `pulumi-resource-pulumi-nodejs`
#    for pulumi.dynamic.Resource. It runs the dynamic-provider entry point of
#    the @pulumi/pulumi package that Node resolves from the plugin's working
#    directory (the program's) or from NODE_PATH.
cat >"$BIN/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Pulumi dynamic-provider plugin: runs @pulumi/pulumi's dynamic-provider with node.
entry=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || {
  echo "pulumi-resource-pulumi-nodejs: cannot resolve @pulumi/pulumi from $(pwd) (set NODE_PATH to a node_modules folder)" >&2
  exit 1
}
exec node "$entry" "$@"
EOF
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"

# 8. The Prometheus Operator's ServiceMonitor and PodMonitor CRDs, as the
#    operator's module ships them (example/prometheus-operator-crd), for stacks
#    with `monitoring`: e2e-cluster.sh applies them. Nothing is built.
install_monitoring_crds() {
  local dir f
  dir=$(cd "$DIR/src" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$DIR/share"
  for f in servicemonitors podmonitors; do
    f="$dir/example/prometheus-operator-crd/monitoring.coreos.com_$f.yaml"
    [[ -f "$f" ]] || die "$f not found (prometheus-operator $PROMETHEUS_OPERATOR_VERSION)"
    echo "---"
    cat "$f"
  done >"$MONITORING_CRDS.tmp"
  mv "$MONITORING_CRDS.tmp" "$MONITORING_CRDS"
  say "installed the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION ServiceMonitor and PodMonitor CRDs"
}
[[ -s "$MONITORING_CRDS" ]] || install_monitoring_crds
# 9. cert-manager's Certificate CRD, from its Go module's deploy/crds, so the API
#    server accepts the Certificates the component creates (tls.certificate).
install_cert_manager_crds() {
  local tmp cdir
  tmp=$(mktemp -d)
  # Outside any module: only the module's files are wanted, nothing is built.
  cdir=$(cd "$tmp" && GOFLAGS= go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rmdir "$tmp"
  local crd="$cdir/deploy/crds/cert-manager.io_certificates.yaml"
  [[ -f "$crd" ]] || die "no Certificate CRD at $crd (cert-manager $CERT_MANAGER_VERSION)"
  mkdir -p "$DIR/share"
  cp "$crd" "$CERT_MANAGER_CRDS.tmp" && chmod u+w "$CERT_MANAGER_CRDS.tmp" && mv "$CERT_MANAGER_CRDS.tmp" "$CERT_MANAGER_CRDS"
  say "installed cert-manager $CERT_MANAGER_VERSION's Certificate CRD"
}
grep -qs "certificates.cert-manager.io" "$CERT_MANAGER_CRDS" || install_cert_manager_crds

todo=$(missing)
[[ -z "$todo" ]] || die "still missing in $DIR: $(echo $todo)"
date -u +%Y-%m-%dT%H:%M:%SZ >"$DIR/.complete"
say "toolchain ready in $DIR"
echo "$BIN"
