# Sourced by every script that keeps builds or clusters in the cache outside the repo: where that
# cache is, and one way to hold a lock on part of it.
# shellcheck shell=bash
CACHE_ROOT=$(realpath -m "${ISTIO_LOCALITY_CACHE:-$HOME/.cache/istio-locality}")
readonly CACHE_ROOT

# hold_lock FILE SECONDS: holds FILE on fd 9 until the script ends, so two runs on one cache (a
# developer and CI, or two test runs) never build or start the same thing at once; after SECONDS of
# waiting on another holder it fails, naming the file.
hold_lock() {
  local file=$1 seconds=$2
  mkdir -p "$(dirname "$file")"
  exec 9>"$file"
  if ! flock -w "$seconds" 9; then
    printf '%s: error: another run has held %s for %s seconds\n' "$(basename "$0")" "$file" "$seconds" >&2
    exit 1
  fi
}
