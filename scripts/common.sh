#!/usr/bin/env bash
# Shared set-up for scripts/run and scripts/test: make sure the Debian packages the build
# needs are installed, then configure and build. Sourced by those scripts; executed on its
# own it just does the set-up (install what is missing, configure, build).
#
# Paths are absolute and nothing here changes the working directory, so relative file
# arguments given to scripts/run keep meaning what the caller meant.

set -euo pipefail

TE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TE_BUILD_DIR="$TE_ROOT/build"

# What building and testing need (clang with libFuzzer for scripts/fuzz and the short fuzz
# runs of scripts/test --sanitize; clang-format for the layout test). python3-torch and
# python3-torchvision are only needed to regenerate tests/fixtures, so they are
# deliberately not here. CPack finds the .deb's Depends with file and dpkg-shlibdeps
# (dpkg-dev, part of build-essential); the package test validates the AppStream metadata
# with appstreamcli (appstream).
TE_PACKAGES=(
    build-essential cmake pkg-config
    libtorch-dev qt6-base-dev libqcustomplot-dev
    nlohmann-json3-dev libminizip-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
    libcurl4-openssl-dev libssl-dev python3 curl
    xvfb xauth libgl-dev
    clang libclang-rt-14-dev clang-format
    file appstream
)

te_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

te_missing_packages() {
    local pkg status
    for pkg in "${TE_PACKAGES[@]}"; do
        # dpkg-query fails for packages it has never heard of; that is "missing" too.
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "install ok installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

te_ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        te_log "dpkg-query not found: this set-up expects Debian 12; install the equivalents of: ${TE_PACKAGES[*]}"
        exit 1
    fi
    local missing
    mapfile -t missing < <(te_missing_packages)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ "$(id -u)" -eq 0 ]]; then
        te_log "installing missing packages: ${missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    else
        te_log "missing Debian packages: ${missing[*]}"
        te_log "install them with:"
        printf 'sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}" >&2
        exit 1
    fi
}

# te_build DIR [CMAKE_ARGS...]: configure (always; it is cheap when nothing changed) and build.
te_build() {
    local dir="$1"
    shift
    # Explicit returns: callers may run this under `||`, where set -e does not apply.
    cmake -S "$TE_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" || return
    cmake --build "$dir" -j"$(nproc)" || return
}

te_setup() {
    te_ensure_packages
    te_build "$TE_BUILD_DIR"
}

# Executed rather than sourced: do the set-up.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    te_setup
fi
