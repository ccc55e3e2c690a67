#!/usr/bin/env bash
# Istio's own control plane and tools for the lab, built offline from the Go module istio.io/istio
# at the commit whose charts the tests install (istio-module.sh):
#   pilot-discovery  istiod itself: the lab runs it as a process in place of the istiod pod
#   istioctl         `istioctl analyze` on the lab after each `up`
#   xds-reader       this project's xDS client (scripts/xds-reader), which reads the configuration
#                    istiod computes for a sidecar or for ztunnel
#
#   scripts/istio.sh build   build into the cache (a warm run takes a second)
#   scripts/istio.sh check   exit 0 only if every binary is built and reports its pinned version
#   scripts/istio.sh path    print the bin directory
#
# Environment: ISTIO_LOCALITY_CACHE (default ~/.cache/istio-locality).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/istio-module.sh
source "$here/istio-module.sh"

# Dependencies the proxy refuses (403) at the exact versions the commit's go.mod names, with the
# nearest served versions that compile: istio.io/api and client-go from the 1.30 line, the
# go-control-plane release just after the commit's snapshot (v1.37.0 lacks packages it imports), and
# the contrib and agentgateway snapshots the next served istio commit (eed52ebb66ad) uses.
readonly ISTIO_SUBSTITUTES=(
  istio.io/api=v1.30.8
  istio.io/client-go=v1.30.8
  github.com/envoyproxy/go-control-plane/envoy=v1.38.0
  github.com/envoyproxy/go-control-plane/contrib=v1.36.1-0.20260713214202-ca8ce173c36f
  github.com/agentgateway/agentgateway/api=v0.0.0-20260501213430-773586679f1c
)
# What the binaries report as their version: Istio's own form for a development build.
readonly ISTIO_BUILD_VERSION="$ISTIO_VERSION-alpha.${ISTIO_MODULE_VERSION##*-}"

# shellcheck source=scripts/cache.sh
source "$here/cache.sh"
readonly READER_SOURCE="$here/xds-reader/main.go"

# shellcheck source=scripts/go-env.sh
source "$here/go-env.sh"
use_shared_go_env "$CACHE_ROOT"

# shellcheck source=scripts/script-env.sh
source "$here/script-env.sh"

# The cache key covers the pins, the reader's source and the Go version: a change of any builds anew.
build_key() {
  {
    printf '%s\n' "$ISTIO_MODULE_VERSION" "${ISTIO_SUBSTITUTES[@]}" "$(go env GOVERSION)"
    # From stdin, so the key does not carry the path of the checkout.
    sha256sum <"$READER_SOURCE"
  } | sha256sum | cut -c1-12
}

bin_dir() { echo "$CACHE_ROOT/istio/$(build_key)/bin"; }

# True when every binary is there and reports the pinned version; why not goes to stderr.
binaries_ok() {
  local bin=$1 out name
  local -A version_args=([pilot-discovery]="version --short" [istioctl]="version --remote=false --short")
  for name in pilot-discovery istioctl; do
    # shellcheck disable=SC2086 # a fixed word list
    if ! out="$("$bin/$name" ${version_args[$name]} 2>&1)" || [[ $out != *"$ISTIO_BUILD_VERSION"* ]]; then
      log "$name: not built or not at $ISTIO_BUILD_VERSION (${out//$'\n'/ })"
      return 1
    fi
  done
  if ! out="$("$bin/xds-reader" -h 2>&1)" || [[ $out != *"-kind"* ]]; then
    log "xds-reader: not built (${out//$'\n'/ })"
    return 1
  fi
}

# A throwaway module that requires the pinned commit with its substitutes and holds the reader as
# one of its packages, so all three binaries build against one dependency set.
write_wrapper() {
  local dir=$1 go_directive entry
  go_directive="$(go list -m -f '{{.GoVersion}}' "istio.io/istio@$ISTIO_MODULE_VERSION")"
  mkdir -p "$dir/cmd/xds-reader"
  {
    printf 'module lab.invalid/istio\n\ngo %s\n\nrequire istio.io/istio %s\n\n' "$go_directive" "$ISTIO_MODULE_VERSION"
    for entry in "${ISTIO_SUBSTITUTES[@]}"; do
      printf 'replace %s => %s %s\n' "${entry%%=*}" "${entry%%=*}" "${entry#*=}"
    done
  } >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "istio.io/istio/istioctl/cmd/istioctl"\n\t_ "istio.io/istio/pilot/cmd/pilot-discovery"\n)\n' >"$dir/tools.go"
  cp "$READER_SOURCE" "$dir/cmd/xds-reader/main.go"
  (cd "$dir" && go mod tidy)
}

istio_build() {
  command -v go >/dev/null || die "go is not on PATH"
  local bin t0=$SECONDS
  bin="$(bin_dir)"
  mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"
  hold_lock "$CACHE_ROOT/istio/.build.lock" 1800
  if binaries_ok "$bin" 2>/dev/null; then
    log "pilot-discovery, istioctl and xds-reader present at $ISTIO_BUILD_VERSION in $bin"
    return
  fi
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/istio-locality-istio.XXXXXX")"
  log "resolving istio.io/istio@$ISTIO_MODULE_VERSION with ${#ISTIO_SUBSTITUTES[@]} substitutes (GOMODCACHE=$GOMODCACHE)"
  write_wrapper "$scratch/wrapper"
  local ldflags="-s -w"
  ldflags+=" -X istio.io/istio/pkg/version.buildVersion=$ISTIO_BUILD_VERSION"
  ldflags+=" -X istio.io/istio/pkg/version.buildGitRevision=${ISTIO_MODULE_VERSION##*-}"
  ldflags+=" -X istio.io/istio/pkg/version.buildStatus=Clean"
  local package
  for package in istio.io/istio/pilot/cmd/pilot-discovery istio.io/istio/istioctl/cmd/istioctl ./cmd/xds-reader; do
    log "building ${package##*/} (the first build takes several minutes on 2 cores) ..."
    go_build "$scratch/wrapper" "$bin/${package##*/}" "$package" -ldflags "$ldflags"
  done
  binaries_ok "$bin" || die "binaries were built but do not report $ISTIO_BUILD_VERSION"
  log "built in $((SECONDS - t0))s: $bin"
}

main() {
  case "${1:-}" in
    build) istio_build ;;
    check) binaries_ok "$(bin_dir)" ;;
    path) bin_dir ;;
    *)
      echo "usage: $self build|check|path" >&2
      exit 2
      ;;
  esac
}

main "$@"
