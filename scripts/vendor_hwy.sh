#!/usr/bin/env bash
# Copies Debian's Highway headers (package libhwy-dev, /usr/include/hwy) to DEST (default
# third_party/hwy, git-ignored), for machines without libhwy: the CMake build then compiles
# Highway's baseline target alone with static dispatch (models/CMakeLists.txt), and the
# device tool's `carry` brings the headers to the GPU machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=/usr/include/hwy
dest=${1:-third_party/hwy}
if [ ! -f "$source_dir/highway.h" ]; then
  echo "vendor_hwy: error: no Highway headers in $source_dir (apt-get install libhwy-dev)" >&2
  exit 2
fi
if [ -e "$dest" ] && [ ! -f "$dest/hwy/highway.h" ]; then
  echo "vendor_hwy: error: $dest exists and is not a Highway copy; not overwriting it" >&2
  exit 2
fi
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$source_dir" "$dest/hwy"
echo "vendor_hwy: copied $source_dir to $dest/hwy"
