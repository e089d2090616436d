# shellcheck shell=bash disable=SC2034  # arrays are used by the scripts that source this
# Sourced by scripts/test.sh and scripts/demo.sh (not run on its own).
# Installs the Debian 12 packages Tickgate needs, touching apt only when
# something is missing, so that a second run is quick and works offline.

# Headers and tools the Swift build links and generates against.
TICKGATE_BUILD_PACKAGES=(librdkafka-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev pkg-config)
# What the demo serves besides the binary: the live page's chart library
# (Debian's Chart.js, served from where Debian installs it at /static/chart.js).
TICKGATE_RUN_PACKAGES=(libjs-chart.js)
# Extra tools for testing: kcat (the interop suite reads Kafka with it),
# nghttp2-client (nghttp, to poke the gateway by hand over h2c) and
# python3-venv (the interop suite's .venv/); chromium, chromium-driver
# (headless browser for test_browser.py).
TICKGATE_TEST_PACKAGES=(kcat nghttp2-client python3-venv openssl chromium chromium-driver)

# tickgate_install_packages PKG...: apt-get installs those not installed yet.
tickgate_install_packages() {
  local pkg missing=() sudo=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    echo "==> apt packages: all present"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "==> installing apt packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The Swift toolchain is not a Debian package: say where to get it.
tickgate_require_swift() {
  command -v swift >/dev/null && return 0
  echo "error: swift not found on PATH; install Swift 6.1 or later from https://www.swift.org/install/linux/" >&2
  return 1
}
