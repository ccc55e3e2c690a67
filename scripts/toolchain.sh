#!/usr/bin/env bash
# Builds the Pulumi toolchain this project runs on (the pulumi CLI, its Node.js language host and the
# kubernetes and command resource providers) from Go modules, into a cache outside the repo that is
# keyed by the pins below. Release binaries cannot be downloaded on our machines; the Go module
# proxy and the npm registry can be reached.
#
# Usage: scripts/toolchain.sh [build|env|check]
#   build  (default) build whatever is missing or does not report the pinned version, register the
#          providers in the toolchain's own PULUMI_HOME, then verify; a warm run only verifies.
#   env    print export lines for `eval "$(scripts/toolchain.sh env)"`; never builds.
#   check  exit 0 only if the toolchain for these pins is complete; never builds.
#
# ISTIO_LOCALITY_CACHE overrides the cache root (default: ~/.cache/istio-locality).
set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Pins. Each npm version must equal the one in package-lock.json: the SDK and the binary it talks to
# have to agree on schema and protocol. The language host and the providers have no semver tags on
# their Go modules, so they are pinned by the pseudo-version of their release commit. An empty
# LANGUAGE_HOST_MODULE or COMMAND_MODULE leaves that binary out: then only inline Automation API
# programs run, or resources of @pulumi/command cannot be planned, respectively.
#
# What the Go module proxy serves decides three of these pins (all else answers 403 "This module
# version is not available."): pulumi-language-nodejs/v3 and pulumi-command/provider are not served
# at any version, and pulumi-kubernetes/provider/v4 only at f47bc2d6f199, the commit of v4.25.0 (the
# one crd2pulumi's "Update to pulumi/pulumi-kubernetes v4.25.0" pins). So @pulumi/kubernetes is
# pinned to 4.25.0 in package.json, to match the provider that can be built.
# ---------------------------------------------------------------------------------------------------
readonly PULUMI_NPM=3.248.0
readonly PULUMI_PKG_MODULE=github.com/pulumi/pulumi/pkg/v3@v3.248.0
readonly PULUMI_SDK_MODULE=github.com/pulumi/pulumi/sdk/v3@v3.248.0
readonly LANGUAGE_HOST_MODULE=
# pkg/go.mod carries this replace; a wrapper module does not inherit it.
readonly CLIPBOARD_REPLACE=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e
readonly PULUMI_TAGS=osusergo,grpcnotrace

readonly KUBERNETES_NPM=4.25.0
readonly KUBERNETES_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199

readonly COMMAND_NPM=1.2.1
readonly COMMAND_MODULE=
# ---------------------------------------------------------------------------------------------------

# Without these -X flags the binaries report an empty or "dev" version, which the Automation API
# refuses ("Failed to parse Pulumi CLI version") and which ends up in the provider's user agent.
readonly PULUMI_VERSION_X="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_NPM}"
readonly KUBERNETES_VERSION_X="github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v${KUBERNETES_NPM}"
readonly COMMAND_VERSION_X="github.com/pulumi/pulumi-command/provider/pkg/version.Version=v${COMMAND_NPM}"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/cache.sh
source "$repo/scripts/cache.sh"
fingerprint=$(printf '%s\n' "$PULUMI_NPM" "$PULUMI_PKG_MODULE" "$PULUMI_SDK_MODULE" "$LANGUAGE_HOST_MODULE" \
  "$CLIPBOARD_REPLACE" "$PULUMI_TAGS" "$KUBERNETES_NPM" "$KUBERNETES_MODULE" "$COMMAND_NPM" "$COMMAND_MODULE" |
  sha256sum | cut -c1-12)
command_label=none
if [[ -n $COMMAND_MODULE ]]; then command_label=$COMMAND_NPM; fi
key="pulumi-${PULUMI_NPM}_kubernetes-${KUBERNETES_NPM}_command-${command_label}_${fingerprint}"
toolchain_dir=$CACHE_ROOT/toolchain/$key
bin_dir=$toolchain_dir/bin
pulumi_home=$toolchain_dir/pulumi-home
work_dir=

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

cleanup() {
  rm -f -- "$bin_dir"/.*.partial.$$
  if [[ -n $work_dir ]]; then rm -rf -- "$work_dir"; fi
}
trap cleanup EXIT
# Exiting through `exit` runs the EXIT trap, so an interrupted build leaves no partial files behind.
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=scripts/go-env.sh
source "$repo/scripts/go-env.sh"
use_go_env() {
  command -v go >/dev/null || die "go is not on PATH"
  use_shared_go_env "$CACHE_ROOT"
}

pulumi_cli() {
  PULUMI_HOME=$pulumi_home PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    "$bin_dir/pulumi" "$@"
}

# Runs a command and logs how long it took, e.g. "built pulumi in 512s".
timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  log "$label in $((SECONDS - start))s"
}

check_npm_pins() {
  local lock=$repo/package-lock.json
  [[ -f $lock ]] || stale "error: $lock not found" || return 1
  command -v node >/dev/null || stale "error: node is not on PATH" || return 1
  node - "$lock" \
    "@pulumi/pulumi=$PULUMI_NPM" \
    "@pulumi/kubernetes=$KUBERNETES_NPM" \
    "@pulumi/command=$COMMAND_NPM" <<'EOF'
const fs = require("fs");
const [lockPath, ...pins] = process.argv.slice(2);
const packages = JSON.parse(fs.readFileSync(lockPath, "utf8")).packages ?? {};
let ok = true;
for (const pin of pins) {
  const at = pin.lastIndexOf("=");
  const [name, want] = [pin.slice(0, at), pin.slice(at + 1)];
  const got = packages[`node_modules/${name}`]?.version ?? "";
  if (got !== want) {
    ok = false;
    console.error(
      `[toolchain] error: package-lock.json has ${name} ${got || "(absent)"}, but scripts/toolchain.sh ` +
        `is pinned to ${want}; change both pins together`,
    );
  }
}
process.exit(ok ? 0 : 1);
EOF
}

# Warm checks. Each logs why it fails; none of them builds anything.
stale() {
  log "$*"
  return 1
}

# `go version -m` reads the build info that the linker wrote, so it fails on a truncated file and
# names the module version the binary was built from. (-trimpath leaves the -ldflags out of it.)
go_binary_built_from() {
  local file=$1 module=${2%@*} version=${2##*@} info
  [[ -x $file ]] || stale "${file##*/} is missing" || return 1
  info=$(go version -m "$file" 2>&1) || stale "${file##*/} is not a complete Go binary: $info" || return 1
  awk -v m="$module" -v v="$version" '($1 == "mod" || $1 == "dep") && $2 == m && $3 == v { found = 1 }
    END { exit !found }' <<<"$info" || stale "${file##*/} was not built from $module $version" || return 1
}

# Providers have no --version flag (they only answer GetPluginInfo over gRPC); `pulumi package info`
# starts one and prints the version of the schema it serves.
provider_reports() {
  local name=$1 version=$2 info
  info=$(pulumi_cli package info "$bin_dir/pulumi-resource-$name" 2>&1) ||
    stale "pulumi package info pulumi-resource-$name failed: $info" || return 1
  # It prints its labels in bold even with --color never.
  info=${info//$'\e'\[[0-9]m/}
  grep -qx "Version: $version" <<<"$info" ||
    stale "pulumi-resource-$name reports '$(grep -m1 '^Version:' <<<"$info")', expected $version" || return 1
}

pulumi_ok() {
  local reported
  go_binary_built_from "$bin_dir/pulumi" "$PULUMI_PKG_MODULE" || return 1
  reported=$(pulumi_cli version 2>&1) || stale "pulumi version failed: $reported" || return 1
  [[ $reported == "v$PULUMI_NPM" ]] || stale "pulumi version reports '$reported', expected v$PULUMI_NPM" || return 1
  if [[ -n $LANGUAGE_HOST_MODULE ]]; then
    go_binary_built_from "$bin_dir/pulumi-language-nodejs" "$LANGUAGE_HOST_MODULE" || return 1
  fi
  [[ -x $bin_dir/pulumi-resource-pulumi-nodejs ]] || stale "pulumi-resource-pulumi-nodejs is missing" || return 1
}

# The provider checks run bin/pulumi, so they count only once pulumi_ok holds.
kubernetes_ok() {
  go_binary_built_from "$bin_dir/pulumi-resource-kubernetes" "$KUBERNETES_MODULE" || return 1
  provider_reports kubernetes "$KUBERNETES_NPM"
}

command_ok() {
  go_binary_built_from "$bin_dir/pulumi-resource-command" "$COMMAND_MODULE" || return 1
  provider_reports command "$COMMAND_NPM"
}

# A provider counts as registered when `pulumi plugin ls` lists it and the cached copy is the binary
# in bin/, so a rebuilt provider is registered again.
plugin_registered() {
  local name=$1 version=$2 listed
  [[ -x $bin_dir/pulumi ]] || return 1
  listed=$(pulumi_cli plugin ls --json 2>&1) || stale "pulumi plugin ls failed: $listed" || return 1
  node -e '
    const [name, version] = process.argv.slice(1);
    const plugins = JSON.parse(require("fs").readFileSync(0, "utf8")) ?? [];
    process.exit(plugins.some((p) => p.kind === "resource" && p.name === name && p.version === version) ? 0 : 1);
  ' "$name" "$version" <<<"$listed" || stale "plugin resource $name $version is not registered" || return 1
  cmp -s "$bin_dir/pulumi-resource-$name" "$pulumi_home/plugins/resource-$name-v$version/pulumi-resource-$name" ||
    stale "registered plugin $name $version differs from bin/pulumi-resource-$name" || return 1
}

toolchain_ok() {
  pulumi_ok || return 1
  kubernetes_ok || return 1
  plugin_registered kubernetes "$KUBERNETES_NPM" || return 1
  if [[ -n $COMMAND_MODULE ]]; then
    command_ok || return 1
    plugin_registered command "$COMMAND_NPM" || return 1
  fi
}

# Builds.

pinned_modules() {
  printf '%s\n' "$PULUMI_PKG_MODULE" "$PULUMI_SDK_MODULE" "${CLIPBOARD_REPLACE#*=}" "$KUBERNETES_MODULE"
  if [[ -n $LANGUAGE_HOST_MODULE ]]; then printf '%s\n' "$LANGUAGE_HOST_MODULE"; fi
  if [[ -n $COMMAND_MODULE ]]; then printf '%s\n' "$COMMAND_MODULE"; fi
}

# Fails in seconds, before any long build, when the proxy does not serve a pin; go prints why.
fetch_pinned_modules() {
  local modules
  mapfile -t modules < <(pinned_modules)
  (cd "$work_dir" && go mod download "${modules[@]}") ||
    die "the Go module proxy did not serve the pinned module(s) above; nothing was built"
}

# The wrapper's go line follows the upstream module's, so the build gets upstream's language and
# GODEBUG defaults (1.24 at least, for the tool directive).
upstream_go_version() {
  local version
  version=$(cd "$work_dir" && go list -m -f '{{.GoVersion}}' "$1")
  printf '%s\n' 1.24 "$version" | sort -V | tail -n 1
}

# new_wrapper DIR NAME GO_VERSION go-mod-edit-flags...
new_wrapper() {
  local dir=$1 name=$2 go_version=$3
  shift 3
  mkdir -p "$dir"
  printf 'module istio-locality.invalid/toolchain/%s\n\ngo %s\n' "$name" "$go_version" >"$dir/go.mod"
  (cd "$dir" && go mod edit "$@")
}

tidy_wrapper() {
  (cd "$1" && go mod tidy)
}

# Minimal version selection may raise a pin when another requirement needs a newer version; the
# binary would then not be the pinned release, so stop instead.
require_selected() {
  local dir=$1 pin selected
  shift
  for pin in "$@"; do
    selected=$(cd "$dir" && go list -m -f '{{.Version}}' "${pin%@*}")
    [[ $selected == "${pin##*@}" ]] ||
      die "the build of $dir selects ${pin%@*} $selected instead of the pinned ${pin##*@}"
  done
}

build_pulumi() {
  local dir=$work_dir/pulumi pins=("$PULUMI_PKG_MODULE" "$PULUMI_SDK_MODULE") pin edits sdk_dir partial
  if [[ -n $LANGUAGE_HOST_MODULE ]]; then pins+=("$LANGUAGE_HOST_MODULE"); fi
  edits=(-replace="$CLIPBOARD_REPLACE" -tool="${PULUMI_PKG_MODULE%@*}/cmd/pulumi")
  for pin in "${pins[@]}"; do edits+=(-require="$pin"); done
  if [[ -n $LANGUAGE_HOST_MODULE ]]; then edits+=(-tool="${LANGUAGE_HOST_MODULE%@*}"); fi

  new_wrapper "$dir" pulumi "$(upstream_go_version "$PULUMI_PKG_MODULE")" "${edits[@]}"
  timed "pulumi: resolved dependencies" tidy_wrapper "$dir"
  require_selected "$dir" "${pins[@]}"

  timed "built pulumi" go_build "$dir" "$bin_dir/pulumi" "${PULUMI_PKG_MODULE%@*}/cmd/pulumi" \
    -tags "$PULUMI_TAGS" -ldflags "-s -w -X $PULUMI_VERSION_X"
  if [[ -n $LANGUAGE_HOST_MODULE ]]; then
    timed "built pulumi-language-nodejs" go_build "$dir" "$bin_dir/pulumi-language-nodejs" \
      "${LANGUAGE_HOST_MODULE%@*}" -tags "$PULUMI_TAGS" -ldflags "-s -w -X $PULUMI_VERSION_X"
  fi

  # Dynamic providers run this shell script, which the engine looks for beside pulumi. Module zips
  # drop the exec bit.
  sdk_dir=$(cd "$dir" && go list -m -f '{{.Dir}}' "${PULUMI_SDK_MODULE%@*}")
  partial=$bin_dir/.pulumi-resource-pulumi-nodejs.partial.$$
  install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$partial"
  mv -f -- "$partial" "$bin_dir/pulumi-resource-pulumi-nodejs"
  log "copied pulumi-resource-pulumi-nodejs from ${PULUMI_SDK_MODULE}"
}

build_generator() {
  (cd "$1" && go build -trimpath -buildvcs=false -o generate/generate ./generate/generate.go)
}

# The provider's main package embeds schema-embed.json and terraform-mapping-embed.json, which its
# `go generate` step writes and which are therefore not in the module zip. The wrapper builds from a
# writable copy of the module and runs that module's own generate.go on it.
build_kubernetes() {
  local dir=$work_dir/kubernetes module=${KUBERNETES_MODULE%@*} source main_dir
  source=$(cd "$work_dir" && go list -m -f '{{.Dir}}' "$KUBERNETES_MODULE")
  new_wrapper "$dir" kubernetes "$(upstream_go_version "$KUBERNETES_MODULE")" \
    -require="$KUBERNETES_MODULE" -replace="$module=./provider"
  cp -R -- "$source" "$dir/provider"
  chmod -R u+w -- "$dir/provider"
  main_dir=$dir/provider/cmd/pulumi-resource-kubernetes

  # generate.go is `//go:build ignore`; naming the file builds it anyway, inside the wrapper module
  # where its imports resolve against the provider's own requirements.
  mkdir -p "$dir/generate"
  cp -- "$main_dir/generate.go" "$dir/generate/generate.go"
  timed "kubernetes: built the schema generator" build_generator "$dir"
  (cd "$main_dir" && VERSION=$KUBERNETES_NPM "$dir/generate/generate")
  log "kubernetes: generated schema-embed.json (version $KUBERNETES_NPM) and terraform-mapping-embed.json"

  (cd "$dir" && go mod edit -tool="$module/cmd/pulumi-resource-kubernetes")
  timed "kubernetes: resolved dependencies" tidy_wrapper "$dir"
  require_selected "$dir" "$KUBERNETES_MODULE"
  timed "built pulumi-resource-kubernetes" go_build "$dir" "$bin_dir/pulumi-resource-kubernetes" \
    "$module/cmd/pulumi-resource-kubernetes" -ldflags "-s -w -X $KUBERNETES_VERSION_X"
}

build_command() {
  local dir=$work_dir/command module=${COMMAND_MODULE%@*}
  new_wrapper "$dir" command "$(upstream_go_version "$COMMAND_MODULE")" \
    -require="$COMMAND_MODULE" -tool="$module/cmd/pulumi-resource-command"
  timed "command: resolved dependencies" tidy_wrapper "$dir"
  require_selected "$dir" "$COMMAND_MODULE"
  timed "built pulumi-resource-command" go_build "$dir" "$bin_dir/pulumi-resource-command" \
    "$module/cmd/pulumi-resource-command" -ldflags "-X $COMMAND_VERSION_X"
}

register_plugin() {
  local name=$1 version=$2
  pulumi_cli plugin install resource "$name" "$version" --file "$bin_dir/pulumi-resource-$name" --reinstall
}

# Runs once, before the first build of a run.
prepare_build() {
  if [[ -n $work_dir ]]; then return; fi
  log "building into $toolchain_dir"
  work_dir=$(mktemp -d "$CACHE_ROOT/tmp/work.XXXXXX")
  timed "fetched the pinned modules" fetch_pinned_modules
}

cmd_build() {
  local start=$SECONDS changed=false
  check_npm_pins || exit 1
  use_go_env
  mkdir -p "$bin_dir" "$pulumi_home" "$CACHE_ROOT/tmp"

  # Two builds of the same toolchain (a developer and CI on one machine) must not interleave.
  hold_lock "$toolchain_dir.lock" 3600

  if ! pulumi_ok; then
    prepare_build
    build_pulumi
  fi
  if ! kubernetes_ok; then
    prepare_build
    build_kubernetes
  fi
  if ! plugin_registered kubernetes "$KUBERNETES_NPM"; then
    timed "registered kubernetes $KUBERNETES_NPM" register_plugin kubernetes "$KUBERNETES_NPM"
    changed=true
  fi
  if [[ -n $COMMAND_MODULE ]]; then
    if ! command_ok; then
      prepare_build
      build_command
    fi
    if ! plugin_registered command "$COMMAND_NPM"; then
      timed "registered command $COMMAND_NPM" register_plugin command "$COMMAND_NPM"
      changed=true
    fi
  fi

  if [[ -z $work_dir && $changed == false ]]; then
    log "up to date: $toolchain_dir (checked in $((SECONDS - start))s)"
    return
  fi
  toolchain_ok || die "the toolchain still fails its check after the build (see above)"
  log "toolchain ready in $((SECONDS - start))s: $toolchain_dir"
}

cmd_check() {
  check_npm_pins || exit 1
  use_go_env
  toolchain_ok || die "toolchain $toolchain_dir is incomplete; run scripts/toolchain.sh build"
  log "ok: $toolchain_dir"
}

cmd_env() {
  # `eval "$(...)"` ignores the exit status of the command substitution, so a failure also prints
  # `false` for the eval to return, which stops a caller running under `set -e`.
  if ! check_npm_pins; then
    echo false
    exit 1
  fi
  if [[ ! -x $bin_dir/pulumi ]]; then log "warning: $bin_dir is not built yet; run scripts/toolchain.sh build"; fi
  # shellcheck disable=SC2016 # $PATH is for the caller's shell to expand.
  printf 'export PATH=%q:"$PATH"\n' "$bin_dir"
  printf 'export PULUMI_HOME=%q\n' "$pulumi_home"
  echo 'export PULUMI_SKIP_UPDATE_CHECK=true'
  echo 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true'
  # bin/ also holds the providers; without this the engine would take them from PATH, warn on every
  # run, and accept any version instead of the registered one.
  echo 'export PULUMI_IGNORE_AMBIENT_PLUGINS=true'
}

case "${1:-build}" in
  build) cmd_build ;;
  check) cmd_check ;;
  env) cmd_env ;;
  *) die "usage: scripts/toolchain.sh [build|env|check]" ;;
esac
