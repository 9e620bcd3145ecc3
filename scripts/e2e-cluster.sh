#!/usr/bin/env bash
# A real, local Kubernetes control plane for the end-to-end tests: kine
# (SQLite) + kube-apiserver + kube-controller-manager + kube-scheduler + KWOK
# fake nodes, all on 127.0.0.1, built by scripts/e2e-toolchain.sh.
#
#   scripts/e2e-cluster.sh up <statedir>           start; writes <statedir>/kubeconfig (context e2e)
#   scripts/e2e-cluster.sh down <statedir>         stop exactly the processes `up` started
#   scripts/e2e-cluster.sh recycle-pvs <statedir>  make Released volumes Available again
#   scripts/e2e-cluster.sh restart-apiserver <statedir>
#                                                  stop kube-apiserver (TERM, KILL after 3 s), wait E2E_APISERVER_DOWN_SECONDS
#                                                  (default 0), start it again with the same flags and port
#
# After `up`, <statedir>/env can be sourced (KUBECONFIG and PATH with the
# toolchain's bin dir). Pods scheduled onto the fake nodes become Running and
# Ready without running any container; PVCs of class `e2e-local` bind to
# pre-created hostPath volumes; NodePort Services get ports in 30000-32767;
# LoadBalancer Services never get an address.
#
# Environment:
#   E2E_BIN_DIR        toolchain bin dir (default: `scripts/e2e-toolchain.sh --print`)
#   E2E_NODES          number of fake nodes (default 3); node e2e-node-<i> is labelled
#                      topology.kubernetes.io/zone=e2e-zone-<i % 3>
#   E2E_PV_SIZES       sizes in Gi of the pre-created volumes (default "1 1 1 2 2 2 5 5 5 10 10 10")
#   E2E_START_TIMEOUT  seconds allowed for startup (default 120)
#   E2E_APISERVER_DOWN_SECONDS  restart-apiserver: seconds the API server stays down (default 0)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPONENTS=(kine kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { echo "e2e-cluster: $*" >&2; }
die() { echo "e2e-cluster: ERROR: $*" >&2; exit 1; }

usage() { die "usage: $0 up|down|recycle-pvs|restart-apiserver <statedir>"; }
[[ $# -eq 2 ]] || usage
CMD=$1
mkdir -p "$2"
STATE=$(cd "$2" && pwd)

bin_dir() {
  if [[ -n "${E2E_BIN_DIR:-}" ]]; then echo "$E2E_BIN_DIR"; return; fi
  "$REPO_ROOT/scripts/e2e-toolchain.sh" --print
}

# PID bookkeeping: <statedir>/pids/<component>. A PID counts as ours only while
# its command line still names the state dir (guards against PID reuse).
ours() {
  local pid=$1
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE/"
}

stop_all() {
  local c pid left
  for c in kwok kube-scheduler kube-controller-manager kube-apiserver kine; do
    [[ -f "$STATE/pids/$c" ]] || continue
    pid=$(cat "$STATE/pids/$c")
    if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do
    left=0
    for c in "${COMPONENTS[@]}"; do
      [[ -f "$STATE/pids/$c" ]] || continue
      pid=$(cat "$STATE/pids/$c")
      if ours "$pid"; then left=1; fi
    done
    [[ $left -eq 0 ]] && break
    sleep 0.2
  done
  for c in "${COMPONENTS[@]}"; do
    [[ -f "$STATE/pids/$c" ]] || continue
    pid=$(cat "$STATE/pids/$c")
    if ours "$pid"; then
      say "$c (pid $pid) did not stop on TERM; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/pids/$c"
  done
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 20000))
    # Not listening and not handed out earlier in this run.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [[ " ${USED_PORTS:-} " != *" $p "* ]]; then
      USED_PORTS="${USED_PORTS:-} $p"
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

show_logs() {
  local c
  for c in "${COMPONENTS[@]}"; do
    [[ -f "$STATE/logs/$c.log" ]] || continue
    echo "----- $c: last 40 lines of $STATE/logs/$c.log -----" >&2
    tail -n 40 "$STATE/logs/$c.log" >&2
  done
}

fail() {
  say "startup failed: $*"
  show_logs
  stop_all
  exit 1
}

start() {
  local name=$1; shift
  setsid "$@" >"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name"
}

alive() {
  local c pid
  for c in "$@"; do
    pid=$(cat "$STATE/pids/$c" 2>/dev/null) || return 1
    ours "$pid" || { echo "$c"; return 1; }
  done
}

DEADLINE=0
wait_for() { # wait_for <what> <components that must stay alive> -- <command...>
  local what=$1 comps=$2; shift 3
  local dead
  until "$@" >/dev/null 2>&1; do
    # shellcheck disable=SC2086
    if ! dead=$(alive $comps); then fail "$dead exited while waiting for $what"; fi
    ((SECONDS < DEADLINE)) || fail "timed out waiting for $what"
    sleep 0.5
  done
}

pki() {
  local d="$STATE/pki"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=e2e-ca" 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # name cn org [sans]
    cert() {
      local ext
      ext=$(mktemp)
      printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' \
        "$([[ -n "${4:-}" ]] && echo serverAuth,clientAuth || echo clientAuth)" >"$ext"
      [[ -n "${4:-}" ]] && echo "subjectAltName=$4" >>"$ext"
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2${3:+/O=$3}" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 30 -extfile "$ext" 2>/dev/null
      rm -f "$1.csr" "$ext"
    }
    cert apiserver kube-apiserver "" "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin e2e-admin system:masters
    cert controller-manager system:kube-controller-manager ""
    cert scheduler system:kube-scheduler ""
    cert kwok e2e-kwok system:masters
  ) || fail "generating certificates with openssl"
}

kubeconfig() { # file user context
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $STATE/pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $STATE/pki/$2.crt
    client-key: $STATE/pki/$2.key
contexts:
- name: $3
  context:
    cluster: e2e
    user: $2
current-context: $3
EOF
}

cluster_objects() {
  local i n=${E2E_NODES:-3} zone
  {
    for i in $(seq 0 $((n - 1))); do
      zone="e2e-zone-$((i % 3))"
      cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: e2e-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: e2e-node-$i
    topology.kubernetes.io/zone: $zone
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 1Ti}
  capacity: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 1Ti}
  nodeInfo:
    architecture: amd64
    kubeletVersion: fake
    kubeProxyVersion: fake
    operatingSystem: linux
  phase: Running
EOF
    done
    cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: e2e-local
  # The cluster's default class, as kind, minikube and k3d have one: programs that name no class get it.
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
allowVolumeExpansion: true
reclaimPolicy: Retain
EOF
    i=0
    for size in ${E2E_PV_SIZES:-1 1 1 2 2 2 5 5 5 10 10 10}; do
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: e2e-pv-$(printf %02d $i)-${size}gi
  labels: {e2e.local/volume: "true"}
spec:
  capacity: {storage: ${size}Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: e2e-local
  volumeMode: Filesystem
  hostPath: {path: $STATE/volumes/pv-$i, type: DirectoryOrCreate}
EOF
      i=$((i + 1))
    done
  } >"$STATE/cluster-objects.yaml"
  "$KUBECTL" apply -f "$STATE/cluster-objects.yaml" >"$STATE/logs/apply.log" 2>&1 || {
    cat "$STATE/logs/apply.log" >&2
    fail "creating nodes, storage class and volumes"
  }
}

# The Prometheus Operator's ServiceMonitor and PodMonitor CRDs (from the
# toolchain's share/), so that stacks with `monitoring` converge. Needs BIN.
monitoring_crds() {
  local crds="$BIN/../share/prometheus-operator-crds.yaml"
  [[ -s "$crds" ]] || fail "$crds is missing: run scripts/e2e-toolchain.sh"
  # Server-side: the CRDs are too large for client-side apply's last-applied annotation.
  "$KUBECTL" apply --server-side -f "$crds" >"$STATE/logs/monitoring-crds.log" 2>&1 &&
    "$KUBECTL" wait --for condition=Established --timeout=60s \
      crd/servicemonitors.monitoring.coreos.com crd/podmonitors.monitoring.coreos.com >>"$STATE/logs/monitoring-crds.log" 2>&1 || {
    cat "$STATE/logs/monitoring-crds.log" >&2
    fail "installing the ServiceMonitor and PodMonitor CRDs"
  }
}

# kube-apiserver in front of kine; `up` and `restart-apiserver` start it with the
# same flags. Needs BIN, KINE_PORT and API_PORT.
start_apiserver() {
  say "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$KINE_PORT" \
    --storage-backend=etcd3 \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$STATE/pki/apiserver.crt" --tls-private-key-file="$STATE/pki/apiserver.key" \
    --client-ca-file="$STATE/pki/ca.crt" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$STATE/pki/sa.pub" \
    --service-account-signing-key-file="$STATE/pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --service-node-port-range=30000-32767 \
    --allow-privileged=true \
    --enable-priority-and-fairness=false \
    --profiling=false
}

up() {
  local BIN
  BIN=$(bin_dir) || die "toolchain not found: run scripts/e2e-toolchain.sh first (or set E2E_BIN_DIR)"
  for b in kine kube-apiserver kube-controller-manager kube-scheduler kwok kubectl; do
    [[ -x "$BIN/$b" ]] || die "$BIN/$b is missing: run scripts/e2e-toolchain.sh"
  done
  command -v openssl >/dev/null 2>&1 || die "openssl is needed to make the cluster's certificates"
  KUBECTL="$BIN/kubectl"

  if [[ -d "$STATE/pids" ]]; then
    for c in "${COMPONENTS[@]}"; do
      if [[ -f "$STATE/pids/$c" ]] && ours "$(cat "$STATE/pids/$c")"; then
        die "a cluster is already running from $STATE: run '$0 down $STATE' first"
      fi
    done
  fi
  rm -rf "$STATE/pki" "$STATE/data" "$STATE/logs" "$STATE/pids" "$STATE/volumes" "$STATE/kubeconfig" "$STATE/ports" \
    "$STATE"/kubeconfig-* "$STATE/env" "$STATE/bin-dir" "$STATE/cluster-objects.yaml" "$STATE/kwok.yaml"
  mkdir -p "$STATE/data" "$STATE/logs" "$STATE/pids" "$STATE/volumes"

  DEADLINE=$((SECONDS + ${E2E_START_TIMEOUT:-120}))
  pki
  local KINE_PORT API_PORT
  KINE_PORT=$(free_port)
  API_PORT=$(free_port)
  kubeconfig "$STATE/kubeconfig" admin e2e
  kubeconfig "$STATE/kubeconfig-controller-manager" controller-manager e2e
  kubeconfig "$STATE/kubeconfig-scheduler" scheduler e2e
  kubeconfig "$STATE/kubeconfig-kwok" kwok e2e
  export KUBECONFIG="$STATE/kubeconfig"

  say "starting kine on 127.0.0.1:$KINE_PORT"
  start kine "$BIN/kine" \
    --listen-address="127.0.0.1:$KINE_PORT" \
    --endpoint="sqlite://$STATE/data/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=OFF&_txlock=immediate" \
    --metrics-bind-address=0
  wait_for "kine" kine -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$KINE_PORT"

  echo "KINE_PORT=$KINE_PORT API_PORT=$API_PORT" >"$STATE/ports"
  start_apiserver
  wait_for "kube-apiserver /readyz" "kine kube-apiserver" -- "$KUBECTL" get --raw /readyz

  say "starting kube-controller-manager and kube-scheduler"
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/kubeconfig-controller-manager" \
    --authentication-kubeconfig="$STATE/kubeconfig-controller-manager" \
    --authorization-kubeconfig="$STATE/kubeconfig-controller-manager" \
    --bind-address=127.0.0.1 --secure-port=0 \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$STATE/pki/sa.key" \
    --root-ca-file="$STATE/pki/ca.crt" \
    --cluster-signing-cert-file="$STATE/pki/ca.crt" --cluster-signing-key-file="$STATE/pki/ca.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --node-monitor-grace-period=60s \
    --concurrent-statefulset-syncs=5 \
    --profiling=false
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/kubeconfig-scheduler" \
    --authentication-kubeconfig="$STATE/kubeconfig-scheduler" \
    --authorization-kubeconfig="$STATE/kubeconfig-scheduler" \
    --bind-address=127.0.0.1 --secure-port=0 \
    --leader-elect=false \
    --profiling=false

  say "starting kwok"
  [[ -s "$BIN/../share/kwok-stages.yaml" ]] || fail "$BIN/../share/kwok-stages.yaml is missing: run scripts/e2e-toolchain.sh"
  cp "$BIN/../share/kwok-stages.yaml" "$STATE/kwok.yaml"
  start kwok "$BIN/kwok" \
    --kubeconfig="$STATE/kubeconfig-kwok" \
    --config="$STATE/kwok.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 \
    --cidr=10.244.0.0/16 \
    --node-ip=127.0.0.1 \
    --server-address="127.0.0.1:$(free_port)"

  # The service-account controller (controller-manager) makes `default`.
  wait_for "the default ServiceAccount (controller-manager)" "kine kube-apiserver kube-controller-manager kube-scheduler kwok" -- \
    "$KUBECTL" -n default get serviceaccount default
  cluster_objects
  monitoring_crds
  wait_for "${E2E_NODES:-3} Ready nodes (kwok)" "kine kube-apiserver kube-controller-manager kube-scheduler kwok" -- \
    bash -c "[ \"\$('$KUBECTL' get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True)\" -ge ${E2E_NODES:-3} ]"
  # The scheduler has no readiness signal without a serving port: it only has to be still running.
  if ! dead=$(alive "${COMPONENTS[@]}"); then fail "$dead exited during startup"; fi

  echo "$BIN" >"$STATE/bin-dir"
  cat >"$STATE/env" <<EOF
export KUBECONFIG='$STATE/kubeconfig'
export PATH='$BIN':"\$PATH"
EOF
  say "up in $((SECONDS))s: KUBECONFIG=$STATE/kubeconfig (context e2e), API https://127.0.0.1:$API_PORT"
}

recycle_pvs() {
  local BIN pv
  BIN=$(cat "$STATE/bin-dir" 2>/dev/null) || die "no cluster was started from $STATE"
  export KUBECONFIG="$STATE/kubeconfig"
  for pv in $("$BIN/kubectl" get pv -l e2e.local/volume=true -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}'); do
    "$BIN/kubectl" patch pv "$pv" --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
    say "made $pv Available again"
  done
}

# Stops the running kube-apiserver (TERM, KILL after 3 s), keeps it down for
# E2E_APISERVER_DOWN_SECONDS, then starts it again on the same port and waits
# for /readyz. The stopped process's log is kept as
# logs/kube-apiserver.<nanoseconds>.log. The other components stay up and
# reconnect on their own.
restart_apiserver() {
  local BIN pid KINE_PORT API_PORT
  BIN=$(cat "$STATE/bin-dir" 2>/dev/null) || die "no cluster was started from $STATE"
  # shellcheck source=/dev/null
  . "$STATE/ports"
  export KUBECONFIG="$STATE/kubeconfig"
  pid=$(cat "$STATE/pids/kube-apiserver" 2>/dev/null) || die "no kube-apiserver PID recorded in $STATE/pids"
  ours "$pid" || die "kube-apiserver (pid $pid) is not running"
  # It stops serving at once on TERM, then may take 10 s or more to exit.
  kill -TERM "$pid"
  for _ in $(seq 1 15); do ours "$pid" || break; sleep 0.2; done
  if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  while ours "$pid"; do sleep 0.1; done
  say "kube-apiserver stopped"
  sleep "${E2E_APISERVER_DOWN_SECONDS:-0}"
  mv "$STATE/logs/kube-apiserver.log" "$STATE/logs/kube-apiserver.$(date +%s%N).log"
  start_apiserver
  DEADLINE=$((SECONDS + ${E2E_START_TIMEOUT:-120}))
  wait_for "kube-apiserver /readyz" "kine kube-apiserver" -- "$BIN/kubectl" get --raw /readyz
  say "kube-apiserver restarted on https://127.0.0.1:$API_PORT"
}

case "$CMD" in
  up) up ;;
  down) stop_all; say "down: $STATE" ;;
  recycle-pvs) recycle_pvs ;;
  restart-apiserver) restart_apiserver ;;
  *) usage ;;
esac
