#!/usr/bin/env bash
# Runs a test tier that needs built tools (engine: the Pulumi CLI and providers, and Istio's charts;
# cluster: also the test cluster, a Kubernetes control plane with kwok nodes, and Istio's control plane),
# or the benchmark on the same tools (bench: the rest of the arguments go to it; it starts and stops
# test clusters of its own sizes). What is missing it builds into the cache
# (a cold machine takes about 25 minutes, said as it goes; a warm one seconds). Only where nothing
# can be built (no Go) it says so on its own line and, in CI, fails: a tier never passes by not running.
set -euo pipefail
tier=${1:?usage: test-tier.sh engine|cluster|bench [bench options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/cache.sh
source "$here/cache.sh"

did_not_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: the $tier tier cannot run in CI: $1" >&2
    exit 1
  fi
  echo "$tier tier did not run: $1"
  exit 0
}

# ensure NAME SCRIPT [BUILD-ARGS]: builds with SCRIPT unless its check passes, saying how long it took.
ensure() {
  local name=$1 script=$2 started
  shift 2
  if bash "$here/$script" check >/dev/null 2>&1; then return; fi
  command -v go >/dev/null 2>&1 ||
    did_not_run "$name is not built and there is no Go to build it with (install Go, then run npm test again)"
  echo "== $tier tier: building $name into $CACHE_ROOT (the first build takes minutes; later runs reuse it)"
  started=$SECONDS
  bash "$here/$script" build "$@"
  echo "== $tier tier: $name ready after $((SECONDS - started)) s"
}

if ! command -v pulumi >/dev/null 2>&1; then
  ensure "the Pulumi CLI and providers" toolchain.sh
  eval "$(bash "$here/toolchain.sh" env)"
fi

# The Helm repository is out of reach offline; both tiers install Istio from a chart folder.
charts=$(bash "$here/charts.sh" path)
if [ ! -f "$charts/base/Chart.yaml" ]; then
  command -v go >/dev/null 2>&1 || did_not_run "Istio's charts are not fetched and there is no Go to fetch them with"
  echo "== $tier tier: fetching Istio's charts into $charts"
  bash "$here/charts.sh" >/dev/null
fi
export ISTIO_LOCALITY_CHARTS="$charts"
ISTIO_LOCALITY_GATEWAY_API=$(bash "$here/charts.sh" gateway-api)
export ISTIO_LOCALITY_GATEWAY_API

if [ "$tier" != "engine" ]; then
  ensure "the test cluster (Kubernetes control plane, etcd, kwok)" test-cluster.sh
  ensure "Istio's pilot-discovery, istioctl and the xDS reader" istio.sh
  ISTIO_LOCALITY_ISTIO_BIN=$(bash "$here/istio.sh" path)
  export ISTIO_LOCALITY_ISTIO_BIN
fi
if [ "$tier" = "bench" ]; then
  exec npx ts-node --transpile-only "$here/../test/bench/index.ts" "$@"
fi

if [ "$tier" = "cluster" ]; then
  trap 'bash "$here/test-cluster.sh" stop' EXIT
  bash "$here/test-cluster.sh" start
  eval "$(bash "$here/test-cluster.sh" env)"
fi

npx jest --selectProjects "$tier" --runInBand
