#!/usr/bin/env bash
# Makes Penser-<version>-x86_64.AppImage from a built tree: install into an AppDir, add the Qt libraries,
# plugins and QML modules the binaries need, point every ELF file's RUNPATH inside the AppDir, then pack the
# AppDir as squashfs behind the runtime (installer/appimage/runtime.c), or with appimagetool when present.
# Called by the `appimage` target (installer/appimage/appimage.cmake), which passes the Qt paths:
#   PENSER_QT_PLUGINS PENSER_QT_QML PENSER_QMLIMPORTSCANNER [PENSER_APPIMAGETOOL]
#   make-appimage.sh --source DIR --build DIR --runtime FILE --output FILE.AppImage
set -euo pipefail

die() { echo "make-appimage: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --source) src="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[ -n "${src:-}" ] && [ -n "${build:-}" ] && [ -n "${runtime:-}" ] && [ -n "${output:-}" ] || die "missing arguments"
qt_plugins="${PENSER_QT_PLUGINS:?}"
qt_qml="${PENSER_QT_QML:?}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$build/appimage"
appdir="$work/Penser.AppDir"
rm -rf "$appdir"
mkdir -p "$appdir"

# 1. The installed files (binaries, .desktop, icons, metainfo), stripped.
if ! log="$(DESTDIR="$appdir" cmake --install "$build" --prefix /usr --strip 2>&1)"; then
  die "cmake --install failed:"$'\n'"$log"
fi
usr="$appdir/usr"
[ -x "$usr/bin/penser" ] || die "the install step did not produce usr/bin/penser"

# 2. Qt plugins. Platforms: xcb (X11) and wayland for a desktop, offscreen for the command line (PDF export
# lays out text without a window), minimal for diagnostics. The rest are what a Qt Quick app on a desktop
# loads: GL integration for xcb, image formats and the SVG icon engine, compose/ibus keyboard input, and the
# portal theme (file dialogs through the desktop's portal). Only directories that exist here are taken.
plugins=(
  platforms/libqxcb.so platforms/libqwayland-egl.so platforms/libqwayland-generic.so
  platforms/libqoffscreen.so platforms/libqminimal.so
  xcbglintegrations imageformats iconengines platforminputcontexts
  platformthemes/libqxdgdesktopportal.so
  wayland-shell-integration wayland-graphics-integration-client wayland-decoration-client
)
# Networking and SQL plugins only when penser itself links those Qt modules (QtQml pulls QtNetwork in for
# remote QML, which Penser never loads; SQLite is linked directly, not through QtSql).
needed="$(readelf -d "$usr/bin/penser" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
if grep -q 'libQt6Network' <<<"$needed"; then plugins+=(tls networkinformation); fi
if grep -q 'libQt6Sql' <<<"$needed"; then plugins+=(sqldrivers/libqsqlite.so); fi
for p in "${plugins[@]}"; do
  [ -e "$qt_plugins/$p" ] || continue
  mkdir -p "$usr/plugins/$(dirname "$p")"
  cp -a "$qt_plugins/$p" "$usr/plugins/$(dirname "$p")/"
done

# 3. QML modules: what qmlimportscanner finds imported from ui/ (and from the modules it imports), taking each
# module's own directory without nested modules (those are listed themselves when imported). The app's own
# modules (Penser, Penser.Gui) are compiled into the binary and have no directory under Qt's QML path.
mkdir -p "$usr/qml"
copy_module() {  # copy_module SRC DST: files and plain subfolders, not subfolders that are modules
  local from="$1" to="$2"
  mkdir -p "$to"
  for f in "$from"/* "$from"/.[!.]*; do
    [ -e "$f" ] || continue
    if [ -d "$f" ]; then
      [ -e "$f/qmldir" ] || copy_module "$f" "$to/$(basename "$f")"
    else
      cp -a "$f" "$to/"
    fi
  done
}
modules=()
if [ -d "$src/ui" ] && [ -x "${PENSER_QMLIMPORTSCANNER:-}" ]; then
  mapfile -t modules < <("$PENSER_QMLIMPORTSCANNER" -rootPath "$src/ui" -importPath "$qt_qml" |
    /usr/bin/python3 -c 'import json, sys
for imp in json.load(sys.stdin):
    if imp.get("type") == "module" and imp.get("path"):
        print(imp["path"])' | sort -u)
fi
# QtQuick.Controls picks its style at run time: Fusion is Qt 6's default on Linux, Basic the fallback every
# style derives from. Dialogs' Qt Quick implementation and FileDialog's folder model are loaded by name too.
for extra in QtQuick/Controls/Basic QtQuick/Controls/Basic/impl QtQuick/Controls/Fusion QtQuick/Controls/Fusion/impl \
             QtQuick/Controls/impl QtQuick/Dialogs/quickimpl Qt/labs/folderlistmodel; do
  [ -d "$qt_qml/$extra" ] && modules+=("$qt_qml/$extra")
done
count=0
for m in "${modules[@]}"; do
  case "$m" in "$qt_qml"/*) ;; *) continue ;; esac
  rel="${m#"$qt_qml"/}"
  [ -e "$usr/qml/$rel/qmldir" ] && continue
  copy_module "$m" "$usr/qml/$rel"
  count=$((count + 1))
done
echo "make-appimage: ${#plugins[@]} plugin entries, $count QML modules"

# 4. Shared libraries: everything that ldd resolves for any ELF file in the AppDir (ldd lists the transitive
# closure), except the names in excludelist (why each is left to the system: see that file).
patterns=()
while read -r line; do
  line="${line%%#*}"
  line="$(echo "$line" | tr -d '[:space:]')"
  [ -n "$line" ] && patterns+=("$line")
done <"$here/excludelist"
excluded() {
  local name="$1" p
  for p in "${patterns[@]}"; do
    # shellcheck disable=SC2053  # the pattern is a glob on purpose
    [[ "$name" == $p ]] && return 0
  done
  return 1
}
is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && head -c 4 "$1" | grep -q 'ELF'; }
mkdir -p "$usr/lib"
mapfile -t elves < <(find "$usr" -type f \( -perm -u+x -o -name '*.so*' \) |
  while read -r f; do is_elf "$f" && echo "$f"; done)
for f in "${elves[@]}"; do
  ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r soname path; do
  excluded "$soname" && continue
  [ -e "$usr/lib/$soname" ] || cp -L "$path" "$usr/lib/$soname"
done
chmod 0644 "$usr"/lib/*.so* 2>/dev/null || true
# Debian's Qt libraries keep their debug links but no debug info; strip them all the same (a few MB).
strip --strip-unneeded "$usr"/lib/*.so* 2>/dev/null || true

# 5. RUNPATH: each ELF file looks in usr/lib, relative to where it is ($ORIGIN), so the AppDir works wherever
# it is mounted and nothing leaks into the environment of programs Penser starts (no LD_LIBRARY_PATH).
mapfile -t elves < <(find "$usr" -type f -name '*' | while read -r f; do is_elf "$f" && echo "$f"; done)
for f in "${elves[@]}"; do
  dir="$(dirname "$f")"
  rel="$(realpath --relative-to="$dir" "$usr/lib")"
  if [ "$rel" = "." ]; then rpath='$ORIGIN'; else rpath="\$ORIGIN/$rel"; fi
  patchelf --set-rpath "$rpath" "$f"
done

# 6. qt.conf beside the binary: plugins and QML from the AppDir, never from the system's Qt (which may be
# another version, or absent).
cat >"$usr/bin/qt.conf" <<'EOF'
[Paths]
Prefix = ..
Plugins = plugins
QmlImports = qml
Qml2Imports = qml
EOF

# 7. AppRun, and the AppDir's top-level .desktop file, icon and .DirIcon.
cat >"$appdir/AppRun" <<'EOF'
#!/bin/sh
# Starts Penser from the mounted (or extracted) AppImage. Called as "penser-cli" (a link named so, or
# ARGV0 set by the runtime), it starts the model command line instead.
here="$(dirname "$(readlink -f "$0")")"
case "$(basename "${ARGV0:-$0}")" in
  penser-cli*) exec "$here/usr/bin/penser-cli" "$@" ;;
esac
exec "$here/usr/bin/penser" "$@"
EOF
chmod 0755 "$appdir/AppRun"
desktop="$(find "$usr/share/applications" -name '*.desktop' 2>/dev/null | head -n 1)"
if [ -n "$desktop" ]; then
  cp "$desktop" "$appdir/"
  icon="$(sed -n 's/^Icon=//p' "$desktop" | head -n 1)"
else
  # Until resources/ has its .desktop file: a minimal one, so that the AppImage is complete.
  echo "make-appimage: no .desktop file installed; writing a minimal penser.desktop" >&2
  icon=penser
  printf '[Desktop Entry]\nType=Application\nName=Penser\nExec=penser\nIcon=penser\nCategories=Utility;\n' \
    >"$appdir/penser.desktop"
fi
png="$usr/share/icons/hicolor/256x256/apps/$icon.png"
svg="$usr/share/icons/hicolor/scalable/apps/$icon.svg"
if [ -e "$png" ]; then
  cp "$png" "$appdir/$icon.png"
  ln -sf "$icon.png" "$appdir/.DirIcon"
elif [ -e "$svg" ]; then
  cp "$svg" "$appdir/$icon.svg"
  ln -sf "$icon.svg" "$appdir/.DirIcon"
else
  echo "make-appimage: warning: no icon named $icon installed" >&2
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$appdir"/*.desktop || die "the .desktop file is not valid (see above)"
fi

# 8. Check: every ELF file resolves every library from the AppDir or the excluded system set.
missing="$(for f in "${elves[@]}"; do ldd "$f" 2>/dev/null | grep 'not found' | sed "s|^|$f: |"; done || true)"
[ -z "$missing" ] || die "unresolved libraries:"$'\n'"$missing"

# 9. Pack.
rm -f "$output"
if [ -n "${PENSER_APPIMAGETOOL:-}" ] && [ -x "$PENSER_APPIMAGETOOL" ]; then
  ARCH=x86_64 "$PENSER_APPIMAGETOOL" --no-appstream "$appdir" "$output"
else
  # zstd: the runtime's libsquashfuse reads it and it unpacks several times faster than xz for a similar size.
  mksquashfs "$appdir" "$work/Penser.squashfs" -root-owned -noappend -comp zstd -quiet -no-progress >/dev/null
  cat "$runtime" "$work/Penser.squashfs" >"$output"
  rm -f "$work/Penser.squashfs"
  chmod 0755 "$output"
fi
size=$(du -m "$output" | cut -f1)
echo "make-appimage: wrote $output (${size} MB; $(ls "$usr/lib" | wc -l) libraries bundled)"
