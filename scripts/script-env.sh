# Sourced by the scripts that fetch or build into a scratch folder (charts.sh, istio.sh, test-cluster.sh): one way to
# log, to fail, and to remove the scratch folder however the script ends.
# shellcheck shell=bash
self="$(basename "$0")"
scratch=""

log() { printf '%s: %s\n' "$self" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
remove_scratch() {
  if [[ -n $scratch ]]; then
    rm -rf "$scratch"
  fi
}
trap remove_scratch EXIT
