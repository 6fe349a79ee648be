#!/usr/bin/env bash
# scripts/device/pack-gpu.sh [BUILD_DIR] [DEST_DIR]
#
# Packs what scripts/device/gpu-run.sh needs on the GPU machine (x86-64, a newer glibc, no Qt, no Vulkan
# loader, no glslang) into DEST_DIR/penser-gpu.tar.xz (default: <repo>/.gpu, ignored by git, carried by the
# device tool): penser-cli and the Vulkan test binaries of BUILD_DIR (default: <repo>/build-vk, built here
# first: RelWithDebInfo, debug sections stripped), every shared library they load except glibc's own (Qt
# Core/Test, ICU, fmt, utf8proc, libstdc++...), Debian's Vulkan loader and the Khronos validation layer, and
# a MANIFEST saying which commit and which uncommitted files it was built from.
#
# The carried folder must stay small (the working tree travels with it): the script fails above 38 MiB.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build-vk}
dest=${2:-$repo/.gpu}
max_mib=38

# Binaries: the CLI, every Vulkan suite that runs on a device (test_vulkan_cli pins lavapipe: it stays here;
# test_vulkan_core checks lavapipe's own limits too, so gpu-run.sh runs only its device-neutral functions)
# and the product's micro-benchmark.
wanted=(penser-cli test_vulkan_ops test_vulkan_evaluator test_vulkan_prefill test_vulkan_batch test_vulkan_attention
        test_vulkan_threads test_vulkan_core vk_mul_mv_bench)
targets=()
if [ ! -e "$build/build.ninja" ]; then  # a fresh checkout: configure it (Release-like, with debug info)
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >"$repo/.pack-gpu-configure.log" 2>&1 ||
    { tail -20 "$repo/.pack-gpu-configure.log" >&2; echo "pack-gpu: configuring $build failed" >&2; exit 1; }
fi
# The target list comes from build.ninja: bring it up to date first (a suite added since the last configure is
# otherwise missing from the list and silently left out of the pack; 2026-11-29 it left out two).
nice ninja -C "$build" build.ninja >/dev/null 2>&1 || true
all_targets=$(ninja -C "$build" -t targets all 2>/dev/null | cut -d: -f1)
for t in "${wanted[@]}"; do
  if grep -qx "$t" <<<"$all_targets"; then targets+=("$t"); fi
done
echo "building ${targets[*]} in $build"
# The checkout is shared: someone's half-written file can break the build for a while. The binaries already
# built are then packed as they are, and the MANIFEST says so.
build_note="built now"
if ! nice ninja -C "$build" -j2 "${targets[@]}" >"$build/pack-gpu-build.log" 2>&1; then
  build_note="BUILD FAILED (see $build/pack-gpu-build.log): binaries from an earlier build"
  echo "pack-gpu: warning: $build_note" >&2
  tail -5 "$build/pack-gpu-build.log" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/penser-gpu
mkdir -p "$root/bin" "$root/lib" "$root/lib-fallback" "$root/layers"

for t in "${targets[@]}"; do
  f=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
  [ -n "$f" ] || { echo "pack-gpu: $t was not built" >&2; exit 1; }
  strip --strip-debug -o "$root/bin/$t" "$f"
done

# glibc's libraries come from the GPU machine (newer there, and tied to its ld.so); everything else travels.
is_glibc() {
  case "$(basename "$1")" in
    ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|libutil.so*|libmvec.so*) return 0 ;;
  esac
  return 1
}
multiarch=/usr/lib/x86_64-linux-gnu
loader=$multiarch/libvulkan.so.1
layer=$multiarch/libVkLayer_khronos_validation.so
layer_json=/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json
[ -e "$loader" ] || { echo "pack-gpu: $loader missing (apt-get install libvulkan1)" >&2; exit 1; }

declare -A seen=()
copy_deps() {  # copies the ELF file's non-glibc dependencies (ldd resolves them transitively) into lib/
  local line name path
  while read -r line; do
    name=$(awk '{print $1}' <<<"$line")
    path=$(awk '$2 == "=>" {print $3}' <<<"$line")
    if [ "$path" = "not" ]; then echo "pack-gpu: $1 needs $name, which is not installed" >&2; exit 1; fi
    [ -n "$path" ] && [ -e "$path" ] || continue
    is_glibc "$path" && continue
    [ -n "${seen[$name]:-}" ] && continue
    seen[$name]=1
    cp -L "$path" "$root/lib/$name"
  done < <(ldd "$1")
}
for b in "$root"/bin/*; do copy_deps "$b"; done
# eu-stack (Debian's elfutils), where installed here: gpu-run.sh prints the threads' stacks of a suite that
# hangs (the GPU machine has no gdb). Its libraries travel with the rest.
if command -v eu-stack >/dev/null; then
  mkdir -p "$root/tools"
  cp -L "$(command -v eu-stack)" "$root/tools/eu-stack"
  copy_deps "$root/tools/eu-stack"
fi
cp -L "$loader" "$root/lib/libvulkan.so.1"
copy_deps "$loader"
if [ -e "$layer" ] && [ -e "$layer_json" ]; then
  strip --strip-debug -o "$root/lib/libVkLayer_khronos_validation.so" "$layer"
  copy_deps "$layer"
  cp "$layer_json" "$root/layers/"
fi
# The NVIDIA ICD (libGLX_nvidia) needs glvnd's dispatcher; used only when the machine lacks it, so it goes
# to the end of the search path.
if [ -e "$multiarch/libGLdispatch.so.0" ]; then cp -L "$multiarch/libGLdispatch.so.0" "$root/lib-fallback/"; fi

{
  echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) from $repo"
  echo "commit $(git -C "$repo" rev-parse --short HEAD) $(git -C "$repo" log -1 --format=%s | cut -c1-100)"
  echo "build $build ($(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" | cut -d= -f2)), $build_note"
  echo "uncommitted in the tree at packing time (inference/, shaders/, app/cli/, tests/vulkan/):"
  git -C "$repo" status --short -- inference shaders app/cli tests/vulkan | sed 's/^/  /'
  echo "files:"
  (cd "$root" && find . -type f -printf '  %p %s\n' | sort)
} >"$root/MANIFEST"

mkdir -p "$dest"
tmp=$dest/.penser-gpu.tar.xz.part
tar -C "$stage" -cf - penser-gpu | xz -T2 -6 >"$tmp"
size=$(stat -c %s "$tmp")
if [ "$size" -gt $((max_mib << 20)) ]; then
  rm -f "$tmp"
  echo "pack-gpu: the pack is $((size >> 20)) MiB, over the ${max_mib} MiB the device tool can carry" >&2
  exit 1
fi
mv -f "$tmp" "$dest/penser-gpu.tar.xz"  # atomic: a run that starts meanwhile carries the old or the new pack
echo "wrote $dest/penser-gpu.tar.xz ($((size >> 10)) KiB; binaries: ${targets[*]})"
