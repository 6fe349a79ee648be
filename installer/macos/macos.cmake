# macOS packaging: Penser.app (Info.plist, icon), macdeployqt, MoltenVK and the Vulkan loader inside the bundle,
# and CPack's DragNDrop (.dmg). Included from installer/platforms.cmake at the top level (CPack reads the
# CPACK_ variables there). docs/packaging-windows-macos.md explains the layout and signing.
set(penser_mac_dir ${PROJECT_SOURCE_DIR}/installer/macos)
set(penser_mac_bin ${PROJECT_BINARY_DIR}/installer/macos)

# The oldest macOS the bundle claims to run on. Follow the deployment target the build used: libraries from
# Homebrew are built for the runner's own macOS, so CI passes that version (see .github/workflows/package.yml).
if(CMAKE_OSX_DEPLOYMENT_TARGET)
  set(PENSER_MACOS_MINIMUM ${CMAKE_OSX_DEPLOYMENT_TARGET})
else()
  set(PENSER_MACOS_MINIMUM 12.0)
endif()

# The .gguf document type (Finder's "Open With"), with PENSER_GGUF_ASSOCIATION (installer/platforms.cmake).
set(PENSER_PLIST_GGUF "")
if(PENSER_GGUF_ASSOCIATION)
  configure_file(${penser_mac_dir}/gguf-document-type.plist.in ${penser_mac_bin}/gguf-document-type.plist @ONLY)
  file(READ ${penser_mac_bin}/gguf-document-type.plist PENSER_PLIST_GGUF)
endif()

# Configured on every platform (first pass, @VAR@ only) so that tests can check the version and id in it;
# CMake's MACOSX_BUNDLE step fills in ${MACOSX_BUNDLE_EXECUTABLE_NAME} on macOS.
configure_file(${penser_mac_dir}/Info.plist.in ${penser_mac_bin}/Info.plist.in @ONLY)
set(PENSER_INFO_PLIST_FILE ${penser_mac_bin}/Info.plist.in)

if(NOT APPLE OR NOT TARGET penser)
  return()
endif()

set_source_files_properties(${PENSER_ICON_ICNS} PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
target_sources(penser PRIVATE ${PENSER_ICON_ICNS})
set_target_properties(penser PROPERTIES
  MACOSX_BUNDLE ON
  OUTPUT_NAME Penser
  MACOSX_BUNDLE_INFO_PLIST ${PENSER_INFO_PLIST_FILE})

install(TARGETS penser BUNDLE DESTINATION .)
# penser-cli goes inside the bundle, beside the app's executable, so it shares the deployed libraries.
if(TARGET penser-cli)
  install(TARGETS penser-cli RUNTIME DESTINATION Penser.app/Contents/MacOS)
endif()

# Apple has no Vulkan driver: MoltenVK (Vulkan on Metal) and the Khronos loader travel in the bundle. The
# loader looks for driver manifests in the bundle's Contents/Resources/vulkan/icd.d; the manifest we write
# points at Contents/Frameworks/libMoltenVK.dylib relative to itself. inference/vulkan/context.cpp opens
# Contents/Frameworks/libvulkan.1.dylib first (dyld does not search the bundle for volk's leaf names).
find_library(PENSER_MOLTENVK_LIBRARY MoltenVK REQUIRED)
find_library(PENSER_VULKAN_LOADER NAMES vulkan.1 vulkan REQUIRED)
find_file(PENSER_MOLTENVK_ICD MoltenVK_icd.json PATH_SUFFIXES share/vulkan/icd.d etc/vulkan/icd.d REQUIRED)
file(REAL_PATH ${PENSER_VULKAN_LOADER} penser_vulkan_loader_real)
# MoltenVK's own manifest (its API version stays right), pointed at the bundled copy.
file(READ ${PENSER_MOLTENVK_ICD} penser_icd_json)
string(JSON penser_icd_json SET "${penser_icd_json}" ICD library_path "\"../../../Frameworks/libMoltenVK.dylib\"")
file(WRITE ${penser_mac_bin}/MoltenVK_icd.json "${penser_icd_json}\n")
install(FILES ${PENSER_MOLTENVK_LIBRARY} DESTINATION Penser.app/Contents/Frameworks)
install(FILES ${penser_vulkan_loader_real} DESTINATION Penser.app/Contents/Frameworks RENAME libvulkan.1.dylib)
install(FILES ${penser_mac_bin}/MoltenVK_icd.json DESTINATION Penser.app/Contents/Resources/vulkan/icd.d)

# macdeployqt copies Qt's frameworks, plugins and the QML modules ui/ imports into the bundle and rewrites
# the load paths, then codesign signs ad hoc unless PENSER_CODESIGN_IDENTITY names a Developer ID
# (notarisation: docs/packaging-windows-macos.md). Runs at install time, so also inside `cpack`.
find_program(PENSER_MACDEPLOYQT macdeployqt HINTS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" REQUIRED)
set(PENSER_CODESIGN_IDENTITY "-" CACHE STRING "codesign identity for Penser.app ('-': ad hoc)")
# Notarisation wants a secure timestamp from Apple's server; an ad hoc signature cannot have one.
if(PENSER_CODESIGN_IDENTITY STREQUAL "-")
  set(penser_timestamp --timestamp=none)
else()
  set(penser_timestamp --timestamp)
endif()
install(CODE "
  set(app \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/Penser.app\")
  execute_process(COMMAND \"${PENSER_MACDEPLOYQT}\" \"\${app}\" -qmldir=${PROJECT_SOURCE_DIR}/ui
                          -executable=\${app}/Contents/MacOS/penser-cli
                  COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND codesign --force --deep --options runtime ${penser_timestamp}
                          --sign \"${PENSER_CODESIGN_IDENTITY}\" \"\${app}\"
                  COMMAND_ERROR_IS_FATAL ANY)
")

# `cpack -G DragNDrop`: Penser-<version>-Darwin.dmg with Penser.app and a link to /Applications.
set(CPACK_PACKAGE_FILE_NAME "Penser-${PROJECT_VERSION}-Darwin")
set(CPACK_DMG_VOLUME_NAME "Penser ${PROJECT_VERSION}")
set(CPACK_DMG_FORMAT UDZO)
set(CPACK_DMG_FILESYSTEM APFS)
