#!/usr/bin/env bash
# The AppImage runtime (installer/appimage/runtime.c) on a small AppDir, in seconds:
#   tests/installer/test_runtime.sh RUNTIME WORKDIR
# The type 2 layout (ELF magic, 'AI' 2 at offset 8, the offset where the ELF ends), --appimage-offset,
# --appimage-extract with and without a pattern (files, links, modes), --appimage-extract-and-run (arguments,
# exit status, APPIMAGE/APPDIR/ARGV0/OWD, the folder removed afterwards), a truncated file refused with a clear
# message, and the FUSE mount when /dev/fuse is usable (the mount gone once the program exits).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { if [ "${CI:-}" = true ]; then fail "$1 (scripts/setup-debian.sh installs it)"; fi; echo "SKIP: $1"; exit 77; }
[ -x "$1" ] || skip "no AppImage runtime built ($1): libsquashfuse-dev, libfuse3-dev or patchelf missing"
command -v mksquashfs >/dev/null || skip "mksquashfs is not installed"
runtime="$(realpath "$1")"
work="$2"

rm -rf "$work"
mkdir -p "$work/AppDir/usr/share/doc" "$work/AppDir/usr/bin" "$work/tmp"
cd "$work"
cat >AppDir/AppRun <<'EOF'
#!/bin/sh
# Reports what the runtime gave it, and exits with the status named by its first argument.
echo "APPDIR=$APPDIR"
echo "APPIMAGE=$APPIMAGE"
echo "ARGV0=$ARGV0"
echo "OWD=$OWD"
echo "ARGS=$*"
cat "$APPDIR/usr/share/doc/hello.txt"
exit "${1:-0}"
EOF
chmod 0755 AppDir/AppRun
echo "hello from the image" >AppDir/usr/share/doc/hello.txt
head -c 1000000 /dev/urandom >AppDir/usr/bin/blob  # several squashfs blocks
chmod 0750 AppDir/usr/bin/blob
ln -s ../share/doc/hello.txt AppDir/usr/bin/link
mksquashfs AppDir image.sqfs -root-owned -noappend -comp zstd -quiet -no-progress >/dev/null
cat "$runtime" image.sqfs >Test.AppImage
chmod 0755 Test.AppImage
runtime_size=$(stat -c %s "$runtime")

# Layout.
[ "$(head -c 4 Test.AppImage | od -An -c | tr -d ' ')" = "177ELF" ] || fail "not an ELF file"
[ "$(od -An -tx1 -j8 -N3 Test.AppImage | tr -d ' ')" = "414902" ] || fail "no AI 2 magic at offset 8"
[ "$(./Test.AppImage --appimage-offset)" = "$runtime_size" ] || fail "--appimage-offset is not the runtime's size"
./Test.AppImage --appimage-help | grep -q -- --appimage-extract-and-run || fail "--appimage-help"

# Extraction: everything, and by pattern.
./Test.AppImage --appimage-extract >/dev/null
cmp -s squashfs-root/usr/bin/blob AppDir/usr/bin/blob || fail "extracted file differs"
[ "$(readlink squashfs-root/usr/bin/link)" = "../share/doc/hello.txt" ] || fail "link not extracted as a link"
[ "$(stat -c %a squashfs-root/usr/bin/blob)" = 750 ] || fail "mode of an extracted file"
[ -x squashfs-root/AppRun ] || fail "AppRun not executable"
rm -rf squashfs-root
./Test.AppImage --appimage-extract 'usr/share/*' >/dev/null
[ -f squashfs-root/usr/share/doc/hello.txt ] || fail "pattern did not extract usr/share/doc/hello.txt"
[ ! -e squashfs-root/usr/bin/blob ] && [ ! -e squashfs-root/AppRun ] || fail "pattern extracted too much"
rm -rf squashfs-root

# Extract and run: arguments, exit status, environment, clean-up.
set +e
TMPDIR="$work/tmp" ./Test.AppImage --appimage-extract-and-run 3 "two words" >run.out 2>&1
status=$?
set -e
[ $status -eq 3 ] || { cat run.out; fail "extract-and-run exit status $status, expected 3"; }
grep -qx 'ARGS=3 two words' run.out || fail "arguments: $(grep ARGS run.out)"
grep -qx "APPIMAGE=$work/Test.AppImage" run.out || fail "APPIMAGE: $(grep APPIMAGE run.out)"
grep -qx "APPDIR=$work/tmp/appimage_extracted_.*" run.out || fail "APPDIR: $(grep APPDIR run.out)"
grep -qx 'ARGV0=./Test.AppImage' run.out || fail "ARGV0: $(grep ARGV0 run.out)"
grep -qx "OWD=$work" run.out || fail "OWD: $(grep OWD run.out)"
grep -qx 'hello from the image' run.out || fail "AppRun could not read the image's files"
[ -z "$(ls "$work/tmp")" ] || fail "extract-and-run left $(ls "$work/tmp")"
APPIMAGE_EXTRACT_AND_RUN=1 TMPDIR="$work/tmp" ./Test.AppImage 0 >run.out 2>&1 || fail "APPIMAGE_EXTRACT_AND_RUN=1"
grep -q 'APPDIR=.*appimage_extracted_' run.out || fail "APPIMAGE_EXTRACT_AND_RUN=1 did not extract"

# Incomplete downloads say what is wrong: the runtime alone, and the runtime with the image cut short.
head -c "$runtime_size" Test.AppImage >Runtime.AppImage
head -c "$((runtime_size + 1000))" Test.AppImage >Short.AppImage
chmod 0755 Runtime.AppImage Short.AppImage
if ./Runtime.AppImage >short.out 2>&1; then fail "the runtime without an image ran"; fi
grep -q 'not a complete AppImage' short.out || { cat short.out; fail "no clear message without an image"; }
for mode in "" --appimage-extract --appimage-extract-and-run; do
  if TMPDIR="$work/tmp" ./Short.AppImage $mode >short.out 2>&1; then fail "a cut image ran ($mode)"; fi
  grep -q 'damaged or incomplete' short.out || { cat short.out; fail "no clear message for a cut image ($mode)"; }
done

# FUSE, where this machine allows it (root with /dev/fuse, or a user with fusermount3).
if [ -w /dev/fuse ] && { [ "$(id -u)" -eq 0 ] || command -v fusermount3 >/dev/null; }; then
  TMPDIR="$work/tmp" ./Test.AppImage 5 x >run.out 2>&1 && status=0 || status=$?
  [ $status -eq 5 ] || { cat run.out; fail "FUSE run exit status $status, expected 5"; }
  grep -q "^APPDIR=$work/tmp/.mount_Test.A" run.out || fail "APPDIR under FUSE: $(grep APPDIR run.out)"
  grep -qx 'hello from the image' run.out || fail "AppRun could not read the mounted image"
  mnt="$(sed -n 's/^APPDIR=//p' run.out)"
  for _ in $(seq 50); do grep -q " $mnt " /proc/self/mounts || break; sleep 0.1; done
  grep -q " $mnt " /proc/self/mounts && fail "$mnt still mounted after the program ended"
  [ ! -e "$mnt" ] || fail "mount point $mnt left behind"
  echo "FUSE mount: ok"
else
  echo "FUSE mount: not checked here (no usable /dev/fuse); the installer proof runs it as root"
fi
echo "runtime: all checks passed"
