# Windows and macOS packaging (installer/windows, installer/macos). Included from the top CMakeLists.txt after
# app/, ui/ and resources/ (it dresses the `penser` target) and before CPack is included (installer/cpack.cmake),
# so that the CPACK_ variables set here reach it. The Linux packages live in installer/appimage and cpack.cmake.

# Off until the app opens a model given on the command line (Windows: `penser FILE.gguf`) or through Finder
# (macOS: QFileOpenEvent); today any argument is a command-line command. docs/packaging-windows-macos.md.
option(PENSER_GGUF_ASSOCIATION "Installers: register Penser to open .gguf files" OFF)

include(${CMAKE_CURRENT_LIST_DIR}/windows/windows.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/macos/macos.cmake)
