#!/usr/bin/env bash
# The test cluster of the cluster tier: a real Kubernetes control plane, built and run offline:
# kube-apiserver, kube-controller-manager and kube-scheduler from the Go module proxy, etcd, and
# kwok faking minikube-like nodes, three unless told (nodes and pods turn Ready without a kubelet).
#
#   scripts/test-cluster.sh build   build the binaries into the cache (cached; a warm run takes seconds)
#   scripts/test-cluster.sh start   start the cluster and its nodes (a running cluster is left as is)
#   scripts/test-cluster.sh stop    delete the cluster and anything of it still running (always safe)
#   scripts/test-cluster.sh env     print export lines for KUBECONFIG, TEST_CLUSTER_PROFILE, TEST_CLUSTER_NODES, PATH
#   scripts/test-cluster.sh check   exit 0 only if every binary is built and reports its pinned version
#
# Environment: ISTIO_LOCALITY_CACHE (default ~/.cache/istio-locality), TEST_CLUSTER_NAME (kwokctl cluster
# name), TEST_CLUSTER_PROFILE (node name prefix, as minikube's profile), TEST_CLUSTER_NODE_COUNT (nodes, named as
# minikube names them: <profile>, <profile>-m02, ...; default 3, at most 254), TEST_CLUSTER_NODE_CPUS and
# TEST_CLUSTER_NODE_MEMORY (each node's capacity; default 2 and 4Gi, minikube's), TEST_CLUSTER_ETCD=debian (use Debian's
# etcd-server 3.4 instead of building etcd 3.6, for when the module build is not possible),
# TEST_CLUSTER_RATE_LIMITS (off, the default, or upstream: the controller-manager's and scheduler's client
# rate limits, see kwokctl_config).
set -euo pipefail

# Pins. The cache key hashes this table (and the Go version), so changing a pin builds anew.
# v1.36.5 is the newest v1.36 patch the module proxy serves (v1.36.6 and later are refused, 403).
# K8S_COMMIT is the commit the release binaries report; the module proxy does not carry it, and no
# source reachable here records it for v1.36.5, so it stays empty (a binary then reports no commit)
# rather than a guessed one.
readonly K8S_VERSION=v1.36.5
readonly K8S_STAGING_VERSION=v0.36.5
readonly K8S_COMMIT=
# Staging modules the proxy does not serve at K8S_STAGING_VERSION, with the version used instead.
# None is needed at v0.36.5: the two it refuses (403), sample-cli-plugin and sample-controller, are
# samples no binary here imports, so the module graph never loads them.
readonly K8S_STAGING_OVERRIDES=""
# Kubernetes 1.36 is built against etcd 3.6 (go.mod's go.etcd.io/etcd/*/v3 v3.6.8, kubeadm's
# SupportedEtcdVersion 3.6.8-0 for 1.34 to 1.36); etcd 3.5 is only its minimum for an external etcd.
# v3.6.17 is the newest 3.6 patch the proxy serves.
readonly ETCD_VERSION=v3.6.17
# Below 1.36's minimum for an external etcd (3.5.24, kubeadm's check), but Debian carries no newer;
# the 1.36 API server does start, schedule and serve on it, which is all the fallback is for.
readonly ETCD_DEBIAN_VERSION=3.4.23
# The newest kwok the proxy serves; it drives Kubernetes up to 1.36 (its default is 1.36.1), so
# kwokctl passes the 1.36 components only flags they still take.
readonly KWOK_VERSION=v0.8.0

# shellcheck source=scripts/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
readonly CLUSTER="${TEST_CLUSTER_NAME:-istio-locality-test}"
readonly PROFILE="${TEST_CLUSTER_PROFILE:-istio-locality-test}"
readonly NODE_COUNT="${TEST_CLUSTER_NODE_COUNT:-3}"
if ! [[ $NODE_COUNT =~ ^[1-9][0-9]*$ ]] || ((NODE_COUNT > 254)); then
  echo "test-cluster.sh: TEST_CLUSTER_NODE_COUNT must be a whole number from 1 to 254 (one pod CIDR 10.244.<i>.0/24 per node), not '$NODE_COUNT'" >&2
  exit 2
fi
NODES=("$PROFILE")
for ((n = 2; n <= NODE_COUNT; n++)); do NODES+=("$(printf '%s-m%02d' "$PROFILE" "$n")"); done
readonly NODES
readonly NODE_CPUS="${TEST_CLUSTER_NODE_CPUS:-2}"
readonly NODE_MEMORY="${TEST_CLUSTER_NODE_MEMORY:-4Gi}"
[[ $NODE_CPUS =~ ^[1-9][0-9]*$ ]] || {
  echo "test-cluster.sh: TEST_CLUSTER_NODE_CPUS must be a whole number of CPUs, not '$NODE_CPUS'" >&2
  exit 2
}
[[ $NODE_MEMORY =~ ^[1-9][0-9]*(Mi|Gi)$ ]] || {
  echo "test-cluster.sh: TEST_CLUSTER_NODE_MEMORY must be a quantity in Mi or Gi (such as 4Gi), not '$NODE_MEMORY'" >&2
  exit 2
}
readonly ETCD_SOURCE="${TEST_CLUSTER_ETCD:-module}"
readonly RATE_LIMITS="${TEST_CLUSTER_RATE_LIMITS:-off}"
[[ $RATE_LIMITS == off || $RATE_LIMITS == upstream ]] || {
  echo "test-cluster.sh: TEST_CLUSTER_RATE_LIMITS must be off or upstream, not '$RATE_LIMITS'" >&2
  exit 2
}
# One file per cluster, so two test clusters on one machine keep their own.
readonly KUBECONFIG_PATH="$CACHE_ROOT/test-cluster/$CLUSTER.kubeconfig"
# kwokctl keeps clusters under its workdir; keeping it in the cache leaves ~/.kwok alone.
readonly KWOK_WORKDIR_PATH="$CACHE_ROOT/test-cluster/kwok"
readonly CLUSTER_DIR="$KWOK_WORKDIR_PATH/clusters/$CLUSTER"

# shellcheck source=scripts/go-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"
use_shared_go_env "$CACHE_ROOT"

# shellcheck source=scripts/script-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/script-env.sh"
current_step=""

# Also names the step a failure happened in; replaces script-env.sh's trap.
on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -n $current_step ]]; then
    log "failed during: $current_step (exit $rc); the error is printed above"
  fi
  remove_scratch
}
trap on_exit EXIT

now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}

# Runs one step and reports its duration; a failure leaves current_step set for on_exit.
step() {
  local name=$1
  shift
  local t0
  t0=$(now_ms)
  current_step=$name
  log "$name ..."
  "$@"
  local ms=$(($(now_ms) - t0))
  log "$name: done in $((ms / 1000)).$(((ms % 1000) / 100))s"
  current_step=""
}

cluster_key() {
  local go_version
  go_version="$(go env GOVERSION)"
  printf '%s\n' "$K8S_VERSION" "$K8S_STAGING_VERSION" "$K8S_COMMIT" "$K8S_STAGING_OVERRIDES" "$ETCD_SOURCE" \
    "$ETCD_VERSION" "$ETCD_DEBIAN_VERSION" "$KWOK_VERSION" "$go_version" |
    sha256sum | cut -c1-12
}

bin_dir() { echo "$CACHE_ROOT/test-cluster/$(cluster_key)/bin"; }

# Prints "<binary> <expected output line> <version arguments...>" per binary, one per line.
expectations() {
  local k8s
  for k8s in kube-apiserver kube-controller-manager kube-scheduler; do
    echo "$k8s|Kubernetes $K8S_VERSION|--version"
  done
  echo "kubectl|Client Version: $K8S_VERSION|version --client"
  if [[ $ETCD_SOURCE == debian ]]; then
    echo "etcd|etcd Version: $ETCD_DEBIAN_VERSION|--version"
  else
    echo "etcd|etcd Version: ${ETCD_VERSION#v}|--version"
  fi
  echo "kwok|kwok version $KWOK_VERSION|--version"
  echo "kwokctl|kwokctl version $KWOK_VERSION|--version"
}

# True when the binary exists and prints the expected line; why not goes to stderr when asked.
binary_ok() {
  local bin=$1 name=$2 want=$3 args=$4 verbose=${5:-}
  local out
  if [[ ! -x $bin/$name ]]; then
    [[ -z $verbose ]] || log "$name: missing ($bin/$name)"
    return 1
  fi
  # shellcheck disable=SC2086 # args is a fixed word list from expectations()
  if ! out="$("$bin/$name" $args 2>&1)"; then
    [[ -z $verbose ]] || log "$name: '$name $args' failed: $out"
    return 1
  fi
  if ! grep -qF -- "$want" <<<"$out"; then
    [[ -z $verbose ]] || log "$name: '$name $args' printed '${out//$'\n'/ }', expected '$want'"
    return 1
  fi
}

check_binaries() {
  local verbose=${1:-} bin name want args failed=0
  bin="$(bin_dir)"
  while IFS='|' read -r name want args; do
    binary_ok "$bin" "$name" "$want" "$args" "$verbose" || failed=1
  done < <(expectations)
  return "$failed"
}

# A throwaway module outside the repo: the upstream go.mod files carry local replace directives,
# which `go install pkg@version` refuses, and a wrapper also lets the output be named and moved.
# Args: dir, module@version to require, go directive, extra go.mod text, main packages.
write_wrapper() {
  local dir=$1 require=$2 go_directive=$3 extra=$4
  shift 4
  mkdir -p "$dir"
  {
    printf 'module test-cluster.invalid/%s\n\ngo %s\n\n' "$(basename "$dir")" "$go_directive"
    printf 'require %s %s\n\n' "${require%@*}" "${require#*@}"
    printf '%s\n' "$extra"
  } >"$dir/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "%s"\n' "$@"
    printf ')\n'
  } >"$dir/tools.go"
  (cd "$dir" && go mod tidy)
}

k8s_wrapper() {
  local dir=$1 gomod godebug replaces
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')"
  [[ -f $gomod ]] || die "go mod download printed no GoMod for k8s.io/kubernetes@$K8S_VERSION"
  # The godebug lines keep upstream's runtime defaults; a dependency's go.mod is never consulted for them.
  godebug="$(grep '^godebug ' "$gomod")"
  # Each staging module is required at v0.0.0 with a local replace upstream; the published v0.36.N
  # module takes its place, or resolution fails with "unknown revision v0.0.0".
  replaces="$(awk -v v="$K8S_STAGING_VERSION" -v overrides="$K8S_STAGING_OVERRIDES" '
    BEGIN { n = split(overrides, o, " "); for (i = 1; i <= n; i++) { split(o[i], kv, "="); pin[kv[1]] = kv[2] } }
    $2 == "=>" && $3 ~ /^\.\/staging\/src\// { printf "replace %s => %s %s\n", $1, $1, ($1 in pin ? pin[$1] : v) }
  ' "$gomod")"
  [[ -n $replaces ]] || die "no staging replaces found in $gomod"
  log "k8s wrapper: $(wc -l <<<"$replaces") staging replaces at $K8S_STAGING_VERSION${K8S_STAGING_OVERRIDES:+, except $K8S_STAGING_OVERRIDES}"
  write_wrapper "$dir" "k8s.io/kubernetes@$K8S_VERSION" \
    "$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")" "$godebug"$'\n\n'"$replaces" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

k8s_ldflags() {
  local build_date key value flags="-s -w"
  # The release tag's time, not the build's, so rebuilds are byte-identical.
  build_date="$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "k8s.io/kubernetes@$K8S_VERSION")"
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  local -A vars=(
    [gitVersion]=$K8S_VERSION [gitMajor]=1 [gitMinor]=$minor [gitCommit]=$K8S_COMMIT
    [gitTreeState]=clean [buildDate]=$build_date
  )
  for key in "${!vars[@]}"; do
    value=${vars[$key]}
    flags+=" -X k8s.io/component-base/version.$key=$value -X k8s.io/client-go/pkg/version.$key=$value"
  done
  echo "$flags"
}

build_etcd() {
  local bin=$1 wrapper=$scratch/etcd
  if [[ $ETCD_SOURCE == debian ]]; then
    if [[ ! -x /usr/bin/etcd ]]; then
      step "apt-get install etcd-server" apt-get install -y --no-install-recommends etcd-server
    fi
    step "copy Debian etcd" install -m 0755 /usr/bin/etcd "$bin/.etcd.partial.$$"
    mv -f "$bin/.etcd.partial.$$" "$bin/etcd"
    return
  fi
  local go_directive
  go_directive="$(go list -m -f '{{.GoVersion}}' "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
  step "resolve etcd $ETCD_VERSION modules" write_wrapper "$wrapper" \
    "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$go_directive" "" go.etcd.io/etcd/server/v3
  step "build etcd" go_build "$wrapper" "$bin/etcd" go.etcd.io/etcd/server/v3 -ldflags "-s -w"
}

build_kwok() {
  local bin=$1 wrapper=$scratch/kwok go_directive name
  go_directive="$(go list -m -f '{{.GoVersion}}' "sigs.k8s.io/kwok@$KWOK_VERSION")"
  step "resolve kwok $KWOK_VERSION modules" write_wrapper "$wrapper" \
    "sigs.k8s.io/kwok@$KWOK_VERSION" "$go_directive" "" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  for name in kwok kwokctl; do
    step "build $name" go_build "$wrapper" "$bin/$name" "sigs.k8s.io/kwok/cmd/$name" \
      -ldflags "-s -w"
  done
}

# Args: bin dir, then the binaries to build.
build_k8s() {
  local bin=$1 wrapper=$scratch/k8s ldflags name
  shift
  step "resolve kubernetes $K8S_VERSION modules" k8s_wrapper "$wrapper"
  ldflags="$(k8s_ldflags)"
  for name in "$@"; do
    step "build $name" go_build "$wrapper" "$bin/$name" "k8s.io/kubernetes/cmd/$name" \
      -tags selinux,notest -ldflags "$ldflags"
  done
}

cluster_build() {
  command -v go >/dev/null || die "go is not on PATH"
  local bin name want args t0
  t0=$(now_ms)
  bin="$(bin_dir)"
  mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"
  hold_lock "$CACHE_ROOT/test-cluster/.build.lock" 1800
  local -a k8s_missing=() missing=()
  while IFS='|' read -r name want args; do
    if ! binary_ok "$bin" "$name" "$want" "$args"; then
      missing+=("$name")
      case $name in kube-* | kubectl) k8s_missing+=("$name") ;; esac
    fi
  done < <(expectations)
  if ((${#missing[@]} == 0)); then
    log "all binaries present and at their pinned versions in $bin ($(($(now_ms) - t0)) ms)"
    return
  fi
  log "building ${missing[*]} into $bin (GOMODCACHE=$GOMODCACHE GOCACHE=$GOCACHE)"
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/istio-locality-test.XXXXXX")"
  # Outside any module, so no go command here can touch a go.mod or go.sum of the caller's.
  cd "$scratch"
  [[ " ${missing[*]} " != *" etcd "* ]] || build_etcd "$bin"
  [[ " ${missing[*]} " != *" kwok "* && " ${missing[*]} " != *" kwokctl "* ]] || build_kwok "$bin"
  ((${#k8s_missing[@]} == 0)) || build_k8s "$bin" "${k8s_missing[@]}"
  check_binaries verbose || die "binaries were built but do not report their pinned versions"
  log "built ${missing[*]} in $((($(now_ms) - t0) / 1000))s; bin dir: $bin"
}

# The config kwokctl gets: loopback only (nothing else needs to reach a test cluster), and minikube's
# Service range instead of the apiserver's 256-address default. Admission webhooks stay on: the tier's
# istiod (test/helpers/istiod.ts) serves Istio's injection and validation webhooks by URL.
# TEST_CLUSTER_RATE_LIMITS=off (the default) lifts the controller-manager's and scheduler's client rate limits
# (upstream's 20 requests a second for every controller together): with them, rollouts and
# cascading deletes of dozens of Deployments queue behind the token bucket, not the machine (12
# zones: a switch back 44 s instead of 29, a destroy 42 s instead of 17, a fifth of the CPUs busy).
kwokctl_config() {
  local disable_limits=true
  [ "$RATE_LIMITS" = off ] || disable_limits=false
  cat <<CONFIG
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  disableQPSLimits: $disable_limits
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: service-cluster-ip-range
    value: 10.96.0.0/12
CONFIG
}

# Minikube's node names and (unless told otherwise) minikube's capacity, but no topology labels: labelling the nodes
# is part of what the program under test does. Each node gets its own pod CIDR, so kwok hands out
# pod IPs per node as a CNI would.
nodes_manifest() {
  local i
  for i in "${!NODES[@]}"; do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: ${NODES[$i]}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: ${NODES[$i]}
    kubernetes.io/os: linux
    minikube.k8s.io/name: $PROFILE
    minikube.k8s.io/primary: "$([[ $i == 0 ]] && echo true || echo false)"
spec:
  podCIDR: 10.244.$i.0/24
  podCIDRs:
  - 10.244.$i.0/24
status:
  allocatable:
    cpu: "$NODE_CPUS"
    ephemeral-storage: 17Gi
    memory: $NODE_MEMORY
    pods: "110"
  capacity:
    cpu: "$NODE_CPUS"
    ephemeral-storage: 17Gi
    memory: $NODE_MEMORY
    pods: "110"
  nodeInfo:
    architecture: amd64
    containerRuntimeVersion: kwok-$KWOK_VERSION
    kernelVersion: kwok-$KWOK_VERSION
    kubeProxyVersion: $K8S_VERSION
    kubeletVersion: $K8S_VERSION
    operatingSystem: linux
    osImage: kwok
EOF
  done
}

# Polls until the command succeeds; prints its last output on timeout.
wait_for() {
  local what=$1 seconds=$2 out
  shift 2
  local deadline=$((SECONDS + seconds))
  until out="$("$@" 2>&1)"; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${seconds}s waiting for $what: $out"
    fi
    sleep 0.5
  done
}

cluster_start() {
  local bin t0 cfg
  t0=$(now_ms)
  bin="$(bin_dir)"
  check_binaries verbose || die "the test cluster's binaries are missing or wrong; run: scripts/test-cluster.sh build"
  hold_lock "$CACHE_ROOT/test-cluster/.cluster.lock" 600
  export PATH="$bin:$PATH" KWOK_WORKDIR="$KWOK_WORKDIR_PATH" KWOK_KUBE_VERSION="$K8S_VERSION"
  cfg="$CACHE_ROOT/test-cluster/kwokctl.yaml"
  kwokctl_config >"$cfg.tmp.$$"
  mv -f "$cfg.tmp.$$" "$cfg"
  # An empty --kubeconfig keeps kwokctl from editing ~/.kube/config; the test cluster has its own file.
  # fd 9 (the lock) is closed for kwokctl, or the components it leaves running would hold the lock.
  step "kwokctl create cluster $CLUSTER" kwokctl --v=WARN --config "$cfg" create cluster \
    --name "$CLUSTER" --runtime binary --kubeconfig= \
    --etcd-binary "$bin/etcd" \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --kwok-controller-binary "$bin/kwok" 9>&-
  kwokctl get kubeconfig --name "$CLUSTER" >"$KUBECONFIG_PATH.tmp.$$"
  mv -f "$KUBECONFIG_PATH.tmp.$$" "$KUBECONFIG_PATH"
  export KUBECONFIG="$KUBECONFIG_PATH"
  step "wait for the API server" wait_for "kube-apiserver /readyz" 60 kubectl get --raw /readyz
  # stdout is kept for the kubeconfig path alone.
  step "create nodes ${NODES[*]}" kubectl apply --server-side --field-manager=test-cluster.sh -f - < <(nodes_manifest) >&2
  step "wait for nodes Ready" wait_for "nodes Ready" 60 \
    kubectl wait --for=condition=Ready --timeout=5s node "${NODES[@]}"
  # Pods are refused until the namespace's default ServiceAccount exists.
  step "wait for the default ServiceAccount" wait_for "serviceaccount default/default" 60 \
    kubectl get serviceaccount default --namespace default
  log "test cluster $CLUSTER ready in $((($(now_ms) - t0) / 1000))s"
  echo "$KUBECONFIG_PATH"
}

# Processes whose command line names this cluster's directory: kwokctl's own components, found even
# when its state files are gone.
cluster_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [[ $pid != "$$" ]] || continue
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$CLUSTER_DIR/"; then
      echo "$pid"
    fi
  done
}

cluster_stop() {
  local bin pids
  bin="$(bin_dir)"
  hold_lock "$CACHE_ROOT/test-cluster/.cluster.lock" 600
  if [[ -d $CLUSTER_DIR ]]; then
    # Stopping must work even when kwokctl cannot: what it leaves behind is removed below.
    if [[ ! -x $bin/kwokctl ]]; then
      log "kwokctl is not built; removing $CLUSTER_DIR by hand"
    # kwokctl insists on a kubeconfig to drop the context from; the cluster's own file is removed below.
    elif ! KWOK_WORKDIR="$KWOK_WORKDIR_PATH" PATH="$bin:$PATH" \
      kwokctl --v=WARN delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG_PATH"; then
      log "kwokctl delete cluster failed (see above); removing $CLUSTER_DIR by hand"
    fi
  fi
  mapfile -t pids < <(cluster_pids)
  if ((${#pids[@]} > 0)); then
    log "stopping leftover processes of $CLUSTER: ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      mapfile -t pids < <(cluster_pids)
      ((${#pids[@]} > 0)) || break
      sleep 0.1
    done
    if ((${#pids[@]} > 0)); then
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
  fi
  rm -rf "$CLUSTER_DIR"
  rm -f "$KUBECONFIG_PATH"
  log "test cluster $CLUSTER stopped"
}

# Single-quotes a value for the shell that evaluates the export lines.
shell_quote() {
  local q="'\\''"
  printf "'%s'" "${1//\'/$q}"
}

cluster_env() {
  local bin nodes
  bin="$(bin_dir)"
  nodes="$(IFS=,; echo "${NODES[*]}")"
  echo "export KUBECONFIG=$(shell_quote "$KUBECONFIG_PATH")"
  echo "export TEST_CLUSTER_NAME=$(shell_quote "$CLUSTER")"
  echo "export TEST_CLUSTER_PROFILE=$(shell_quote "$PROFILE")"
  echo "export TEST_CLUSTER_NODES=$(shell_quote "$nodes")"
  # shellcheck disable=SC2016 # $PATH is for the shell that evaluates these lines
  echo "export PATH=$(shell_quote "$bin"):\"\$PATH\""
}

main() {
  case "${1:-}" in
    build) cluster_build ;;
    start) cluster_start ;;
    stop) cluster_stop ;;
    env) cluster_env ;;
    check)
      check_binaries verbose || exit 1
      log "ok: $(bin_dir)"
      ;;
    *)
      echo "usage: $self build|start|stop|env|check" >&2
      exit 2
      ;;
  esac
}

main "$@"
