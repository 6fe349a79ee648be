#!/usr/bin/env bash
# Installs every Debian 12 package that Penser's build and tests need.
# Idempotent: when everything is already installed it only checks (a second or two) and exits.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git file clang libclang-rt-14-dev
  # Qt 6 (app, Qt Test for every suite)
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools qt6-tools-dev qt6-tools-dev-tools
  qt6-l10n-tools qt6-translations-l10n qt6-svg-dev qt6-shadertools-dev libqt6opengl6-dev libxkbcommon-dev
  libqt6sql6-sqlite libqt6svg6 libqt6network6
  qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtqml-workerscript qml6-module-qtcore qml6-module-qtquick
  qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-dialogs qml6-module-qt-labs-folderlistmodel qml6-module-qt-labs-platform
  qml6-module-qt-labs-settings qml6-module-qtquick-shapes qml6-module-qttest
  # Vulkan + shaders
  libvulkan-dev libvulkan-volk-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers glslang-tools
  glslang-dev glslc spirv-tools spirv-headers
  # engine libraries
  libsqlite3-dev libfmt-dev libutf8proc-dev libcli11-dev nlohmann-json3-dev
  # reference scripts used by the tests (Debian's interpreter, not the pyenv one)
  python3 python3-numpy python3-jinja2
  # PDF export test reads the PDF back
  poppler-utils
  # headless UI tests and screenshots
  xvfb xauth x11-apps x11-utils imagemagick libgl1-mesa-dri libegl-mesa0 libglx-mesa0 fonts-dejavu-core
  libxkbcommon-x11-0 libxcb-cursor0
  # Linux packages (installer/, docs/packaging.md): the AppImage runtime links libsquashfuse, libfuse3 and the
  # squashfs decompressors statically; mksquashfs, patchelf and desktop-file-validate make the AppDir; Qt's
  # Wayland platform plugin goes into it; dpkg-dev (dpkg-shlibdeps) for the .deb; debootstrap for the proof
  squashfs-tools libsquashfuse-dev libfuse3-dev fuse3 zlib1g-dev liblzma-dev liblzo2-dev liblz4-dev libzstd-dev
  patchelf desktop-file-utils qt6-wayland dpkg-dev debootstrap
  # icons and metadata (resources/icons/generate.sh, test_platform_files): SVG renderer, .ico and .icns packers,
  # AppStream validator; the Windows installer source is built and read back by wixl and msitools
  librsvg2-bin icoutils icnsutils appstream wixl msitools
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup-debian: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-debian: done"
