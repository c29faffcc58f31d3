#!/usr/bin/env bash
# Unpacks Mesa's software Vulkan driver (lavapipe) into a folder for the webgpu tests, without installing
# anything or touching the machine's apt sources: a private sources list, lists and cache are passed to
# this one apt-get download (-o Dir::...), and the .debs are unpacked with dpkg -x. Debian bookworm's own
# Mesa 22.3 is refused by Dawn (shaderUniform*ArrayDynamicIndexing), so mesa-vulkan-drivers, libdrm2 and
# libdrm-amdgpu1 come from bookworm-backports (Mesa >= 25) and libvulkan1 (the loader) from bookworm.
# Usage: scripts/lavapipe.sh DIR; then eval "$(scripts/lavapipe.sh --env DIR)" selects it in a shell (the
# webgpu tests do the same for their own child processes, from CLLM4REC_LAVAPIPE_DIR or .cache/lavapipe).
set -euo pipefail

if [ "${1:-}" = "--env" ]; then
  dir="$(cd "$2" && pwd)"
  icd="$dir/usr/share/vulkan/icd.d/lvp_icd.json"
  lib="$(dirname "$(find "$dir" -name 'libvulkan.so.1' | head -1)")"
  echo "export VK_ICD_FILENAMES='$icd' VK_DRIVER_FILES='$icd'"
  echo "export LD_LIBRARY_PATH='$lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  exit 0
fi

dest="${1:?usage: scripts/lavapipe.sh DIR}"
if [ -f "$dest/usr/share/vulkan/icd.d/lvp_icd.json" ]; then
  echo "lavapipe already in $dest"
  exit 0
fi
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
arch="$(dpkg --print-architecture)"
cat >"$work/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
LIST
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Architecture=$arch"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_private[@]}" update -qq
mesa_deps=(mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports)
# Any library lavapipe needs (recursively) that the machine lacks, e.g. on a bare image, comes from
# bookworm and is unpacked beside it; what is installed already is used as is.
missing=()
for p in $(apt-cache "${apt_private[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances --no-pre-depends mesa-vulkan-drivers/bookworm-backports |
  grep -v '^[ <]' | sort -u); do
  case "$p" in mesa-vulkan-drivers | libdrm2 | libdrm-amdgpu1) continue ;; esac
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
(cd "$work/debs" && apt-get "${apt_private[@]}" download -qq "${mesa_deps[@]}" "${missing[@]}")
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$dest"; done
# The ICD names its library without a path: point it at the unpacked file so no LD_LIBRARY_PATH is
# needed for the driver itself.
lib="$(find "$dest" -name libvulkan_lvp.so | head -1)"
icd="$dest/usr/share/vulkan/icd.d/lvp_icd.json"
sed -i "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$lib\"|" "$icd"
echo "lavapipe (Mesa $(dpkg-deb -f "$work"/debs/mesa-vulkan-drivers_*.deb Version)) unpacked in $dest"
