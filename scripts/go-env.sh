# Sourced by every script that runs `go`, with the cache root as argument: one module cache and one
# build cache for all of them, so each module is downloaded and compiled once.
# shellcheck shell=bash
use_shared_go_env() {
  export GOMODCACHE="$1/go/mod"
  export GOCACHE="$1/go/build"
  # A dependency that needs a newer Go must fail here, not download a toolchain.
  export GOTOOLCHAIN=local
  export GOFLAGS=-mod=mod
  export CGO_ENABLED=0
  # A go.work above the cache folder would otherwise take over the wrapper modules.
  export GOWORK=off
}
