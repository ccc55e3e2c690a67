#!/usr/bin/env bash
# Istio's Helm charts and the Gateway API standard CRDs for offline installs, taken from the Go
# modules that carry them (the module proxy is reachable where the Helm repository is not).
#
#   scripts/charts.sh        fetch (cached); the last line is the Istio charts directory
#   scripts/charts.sh path   print the Istio charts directory without fetching
#   scripts/charts.sh gateway-api   print the Gateway API CRDs folder without fetching
#
# Layout, under ${ISTIO_LOCALITY_CACHE:-~/.cache/istio-locality}/charts:
#   istio-<version>/{base,istiod,cni,ztunnel,gateway}   (printed; folder names = published chart names,
#                                                        the layout istio.chartDirectory expects)
#   gateway-api-<version>/*.yaml                         (config/crd/standard)
set -euo pipefail

# Pins. The Istio commit is shared with istio.sh (istio-module.sh): release-1.30 between 1.30.4 and
# 1.30.5, the minor the program installs by default. The program sets hub and tag, so a release names
# the images of the stack's `istio.version`; Chart.yaml is stamped with the commit's own version. The
# Gateway API release is the one that minor's go.mod requires (stacks/versions.ts).
# shellcheck source=scripts/istio-module.sh
source "$(dirname "${BASH_SOURCE[0]}")/istio-module.sh"
readonly GATEWAY_API_VERSION=v1.5.1

# Published chart name and its source directory under manifests/charts.
readonly ISTIO_CHARTS=(
  base:base
  istiod:istio-control/istio-discovery
  cni:istio-cni
  ztunnel:ztunnel
  gateway:gateway
)

# shellcheck source=scripts/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache.sh"
readonly CHARTS_DIR="$CACHE_ROOT/charts"
readonly ISTIO_DIR="$CHARTS_DIR/istio-${ISTIO_MODULE_VERSION#v}"
readonly GATEWAY_API_DIR="$CHARTS_DIR/gateway-api-$GATEWAY_API_VERSION"
# Written last into each output directory; its presence with the same content means "complete".
readonly STAMP=.source

# shellcheck source=scripts/go-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"
use_shared_go_env "$CACHE_ROOT"

# shellcheck source=scripts/script-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/script-env.sh"

is_current() {
  [[ -f $1/$STAMP && "$(cat "$1/$STAMP")" == "$2" ]]
}

# Prints the module's directory in the (read-only) module cache.
module_dir() {
  local json dir
  # Outside any module, so nothing here can touch a go.mod or go.sum.
  json="$(cd "$scratch" && go mod download -json "$1")" || die "go mod download -json $1 failed:"$'\n'"$json"
  dir="$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [[ -d $dir ]] || die "go mod download $1 printed no module directory: $json"
  echo "$dir"
}

# Replaces the one `key: ...` line at the top level of a Chart.yaml.
set_chart_field() {
  local file=$1 key=$2 value=$3
  [[ "$(grep -c "^$key:" "$file")" == 1 ]] || die "$file has no single top-level '$key:' line"
  sed -i "s/^$key:.*/$key: $value/" "$file"
}

fetch_istio() {
  local source="istio.io/istio@$ISTIO_MODULE_VERSION (Istio $ISTIO_VERSION)"
  if is_current "$ISTIO_DIR" "$source"; then
    return
  fi
  log "fetching Istio $ISTIO_VERSION charts from istio.io/istio@$ISTIO_MODULE_VERSION"
  local module tmp entry name src chart_name
  module="$(module_dir "istio.io/istio@$ISTIO_MODULE_VERSION")"
  tmp="$scratch/istio"
  mkdir -p "$tmp"
  for entry in "${ISTIO_CHARTS[@]}"; do
    name=${entry%%:*}
    src="$module/manifests/charts/${entry#*:}"
    [[ -f $src/Chart.yaml ]] || die "$src/Chart.yaml not found in the module"
    cp -R "$src" "$tmp/$name"
    # Files in the module cache are read-only, and the copies are edited below.
    chmod -R u+w "$tmp/$name"
    chart_name="$(sed -n 's/^name: *//p' "$tmp/$name/Chart.yaml")"
    [[ $chart_name == "$name" ]] || die "$src/Chart.yaml is named '$chart_name', expected '$name'"
    # The git tree carries 1.0.0 placeholders; release-builder stamps the release version, and the
    # program pins the chart version it installs. hub/tag stay as in git: the program sets them.
    set_chart_field "$tmp/$name/Chart.yaml" version "${ISTIO_MODULE_VERSION#v}"
    set_chart_field "$tmp/$name/Chart.yaml" appVersion "$ISTIO_VERSION"
  done
  echo "$source" >"$tmp/$STAMP"
  replace_dir "$tmp" "$ISTIO_DIR"
}

fetch_gateway_api() {
  local source="sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION config/crd/standard"
  if is_current "$GATEWAY_API_DIR" "$source"; then
    return
  fi
  log "fetching Gateway API $GATEWAY_API_VERSION standard CRDs"
  local module tmp file count=0
  module="$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
  tmp="$scratch/gateway-api"
  mkdir -p "$tmp"
  for file in "$module"/config/crd/standard/*.yaml; do
    [[ -f $file ]] || continue
    # From v1.5.0 the folder also holds the safe-upgrades ValidatingAdmissionPolicy, which the
    # release's install file carries too; only CRDs are stamped with the bundle version.
    if grep -q "^kind: CustomResourceDefinition" "$file"; then
      grep -qF "gateway.networking.k8s.io/bundle-version: $GATEWAY_API_VERSION" "$file" ||
        die "$file does not carry bundle-version $GATEWAY_API_VERSION"
    fi
    install -m 0644 "$file" "$tmp/"
    count=$((count + 1))
  done
  ((count > 0)) || die "no CRDs under $module/config/crd/standard"
  echo "$source" >"$tmp/$STAMP"
  replace_dir "$tmp" "$GATEWAY_API_DIR"
}

# Swaps a finished directory into place, so readers never see a half-copied one.
replace_dir() {
  local from=$1 to=$2 old
  mkdir -p "$(dirname "$to")"
  old="$to.old.$$"
  if [[ -e $to ]]; then
    mv "$to" "$old"
  fi
  mv "$from" "$to"
  rm -rf "$old"
}

main() {
  case "${1:-}" in
    path) ;;
    gateway-api)
      echo "$GATEWAY_API_DIR"
      return
      ;;
    "")
      command -v go >/dev/null || die "go is not on PATH"
      mkdir -p "$CHARTS_DIR"
      scratch="$(mktemp -d "$CHARTS_DIR/.tmp.XXXXXX")"
      hold_lock "$CHARTS_DIR/.lock" 1800
      fetch_gateway_api
      fetch_istio
      ;;
    *)
      echo "usage: $self [path|gateway-api]" >&2
      exit 2
      ;;
  esac
  echo "$ISTIO_DIR"
}

main "$@"
