#!/usr/bin/env bash
# scripts/build.sh run [ARGS...]   install packages, build, start the desktop app `penser` (the window when no
#                                  ARGS; with ARGS its command line: list, export, import, --help)
# scripts/build.sh cli [ARGS...]   install packages, build, start penser-cli with ARGS (default: --help)
# scripts/build.sh test            install packages, build, run every test suite
# BUILD_DIR (default: build) and BUILD_TYPE (default: RelWithDebInfo) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
shift || true

scripts/setup-debian.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build"

case "$mode" in
  run)
    exec "$build/app/penser" "$@"
    ;;
  cli)
    if [ $# -eq 0 ]; then set -- --help; fi
    exec "$build/app/cli/penser-cli" "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
    chmod 0700 "$XDG_RUNTIME_DIR"
    ctest --test-dir "$build" --output-on-failure -j "$(nproc)" ${CTEST_ARGS:-}
    ;;
  *)
    echo "usage: scripts/build.sh run [ARGS...] | cli [ARGS...] | test" >&2
    exit 2
    ;;
esac
