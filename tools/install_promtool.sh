#!/usr/bin/env bash
# promtool checks and unit-tests the keeper's Prometheus alerting rules (keeper/alerts, tests/alerts).
# It comes with Debian's `prometheus` package. Does nothing when promtool is already on PATH; as root
# with apt (CI, a fresh Debian machine) it installs the package; otherwise it says what to install and
# leaves the rest of `make setup` alone (only `make test`'s alert step needs promtool).
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool not found: install Debian's prometheus package (sudo apt-get install prometheus);" \
    "make test needs it for the alerting rules" >&2
  exit 0
fi
echo "installing promtool (Debian package prometheus) with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
promtool --version 2>&1 | head -n 1
