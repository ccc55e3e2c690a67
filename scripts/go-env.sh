# Sourced by every script that runs `go`. use_shared_go_env takes the cache root: one module cache
# and one build cache for all of them, so each module is downloaded and compiled once.
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

# go_build DIR OUT PACKAGE [go build flags...] builds PACKAGE in the module at DIR to a hidden
# `.<name>.partial.<pid>` beside OUT and renames it, so an interrupted build never leaves a binary
# that looks complete under its final name.
go_build() {
  local dir=$1 out=$2 package=$3 partial
  shift 3
  partial="$(dirname "$out")/.$(basename "$out").partial.$$"
  (cd "$dir" && go build -trimpath -buildvcs=false "$@" -o "$partial" "$package")
  mv -f -- "$partial" "$out"
}
