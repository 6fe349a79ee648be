#!/usr/bin/env bash
# Regenerates every raster icon from penser.svg. The outputs are committed (not built) so that the Windows and
# macOS builds, and the AppImage packer, need no SVG renderer; tests/platforms/test_platform_files checks that
# they still match the SVG. Needs librsvg2-bin (rsvg-convert), icoutils (icotool) and icnsutils (png2icns).
#   resources/icons/generate.sh            write the files
#   resources/icons/generate.sh OUTDIR     write them under OUTDIR instead (the test compares the two)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
mkdir -p "$out/png"

sizes=(16 24 32 48 64 128 256 512)
for s in "${sizes[@]}"; do
  rsvg-convert --width "$s" --height "$s" "$here/penser.svg" --output "$out/png/penser-$s.png"
done

# Windows: Explorer and the taskbar pick 16/24/32/48 at 100-200 % scaling, 256 for large views. The 256 image is
# stored as PNG (--raw), which Windows Vista and later read, so the file stays small.
icotool --create --output "$out/penser.ico" \
  "$out/png/penser-16.png" "$out/png/penser-24.png" "$out/png/penser-32.png" "$out/png/penser-48.png" \
  "$out/png/penser-64.png" "$out/png/penser-128.png" --raw="$out/png/penser-256.png"

# macOS: the Finder and Dock use 16..512 (the @2x slots reuse the next size up). png2icns picks the icns
# element type from each image's size.
png2icns "$out/penser.icns" \
  "$out/png/penser-16.png" "$out/png/penser-32.png" "$out/png/penser-48.png" "$out/png/penser-128.png" \
  "$out/png/penser-256.png" "$out/png/penser-512.png" >/dev/null
