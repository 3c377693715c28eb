#!/bin/sh
# `make demo`: the guided tour on a fresh emulated image in a temporary
# directory, removed afterwards.
set -eu
build=${1:-build}
dir=$(mktemp -d /tmp/udax-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/examples/udax-demo" "$dir"
