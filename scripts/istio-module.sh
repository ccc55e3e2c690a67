# Sourced by charts.sh and istio.sh: the one commit of istio.io/istio whose charts the tests install
# and whose istiod and istioctl the lab runs. The Go module proxy serves istio.io/istio only at a few
# commits, none of them 1.26: every 1.26 tag and its pseudo-version (1.26.6 =
# v0.0.0-20251017121452-383fb0e3f774) answer 403 "This module version is not available". This is
# the newest commit of the 1.30 release branch that it serves as an approved version.
# shellcheck shell=bash
readonly ISTIO_VERSION=1.30
readonly ISTIO_MODULE_VERSION=v0.0.0-20260826214018-9739e10eb9d7
