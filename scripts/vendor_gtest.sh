#!/usr/bin/env bash
# Copies Debian's GoogleTest sources (package googletest, /usr/src/googletest) to DEST
# (default third_party/googletest, git-ignored), for machines without libgtest-dev: the CMake
# build falls back to them when find_package(GTest) finds nothing (tests/CMakeLists.txt), and
# the device tool's `carry` brings them to the GPU machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=/usr/src/googletest
dest=${1:-third_party/googletest}
if [ ! -f "$source_dir/CMakeLists.txt" ]; then
  echo "vendor_gtest: error: no GoogleTest sources in $source_dir (apt-get install googletest)" >&2
  exit 2
fi
if [ -e "$dest" ] && [ ! -f "$dest/googletest/include/gtest/gtest.h" ]; then
  echo "vendor_gtest: error: $dest exists and is not a GoogleTest copy; not overwriting it" >&2
  exit 2
fi
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$source_dir" "$dest"
echo "vendor_gtest: copied $source_dir to $dest"
