#!/usr/bin/env bash
# Runs a test tier that needs built tools (engine: the Pulumi CLI and providers, and Istio's charts;
# lab: also the Kubernetes lab). Where they are missing it says so on its own line and, in CI,
# fails: a tier never passes by not running.
set -euo pipefail
tier=${1:?usage: test-tier.sh engine|lab}
here=$(cd "$(dirname "$0")" && pwd)

did_not_run() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: the $tier tier cannot run in CI: $1" >&2
    exit 1
  fi
  echo "$tier tier did not run: $1"
  exit 0
}

if ! command -v pulumi >/dev/null 2>&1; then
  if bash "$here/toolchain.sh" check >/dev/null 2>&1; then
    eval "$(bash "$here/toolchain.sh" env)"
  else
    did_not_run "no pulumi CLI on PATH and no built toolchain (build it: bash scripts/toolchain.sh build)"
  fi
fi

# The Helm repository is out of reach offline; both tiers install Istio from a chart folder.
charts=$(bash "$here/charts.sh" path)
[ -f "$charts/base/Chart.yaml" ] || did_not_run "Istio's charts are not fetched (fetch them: bash scripts/charts.sh)"
export ISTIO_LOCALITY_CHARTS="$charts"

if [ "$tier" = "lab" ]; then
  bash "$here/lab.sh" check >/dev/null 2>&1 || did_not_run "the lab cluster is not built (build it: bash scripts/lab.sh build)"
  bash "$here/istio.sh" check >/dev/null 2>&1 ||
    did_not_run "Istio's pilot-discovery, istioctl and xds-reader are not built (build them: bash scripts/istio.sh build)"
  ISTIO_LOCALITY_ISTIO_BIN=$(bash "$here/istio.sh" path)
  export ISTIO_LOCALITY_ISTIO_BIN
  trap 'bash "$here/lab.sh" stop' EXIT
  bash "$here/lab.sh" start
  eval "$(bash "$here/lab.sh" env)"
fi

npx jest --selectProjects "$tier" --runInBand
