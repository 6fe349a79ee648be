# Installation rules and CPack packages (Linux: DEB and TGZ), and the `appimage` target. Included from the top
# CMakeLists.txt after the application targets exist. docs/packaging.md says how to build and check each.
#
#   cmake --build build && cmake --install build --prefix /usr      # install
#   (cd build && cpack)                                              # penser-<version>-Linux.deb and .tar.gz
#   cmake --build build --target appimage                            # Penser-<version>-x86_64.AppImage
include(GNUInstallDirs)

set(penser_resources ${PROJECT_SOURCE_DIR}/resources)

# Windows and macOS install their own layout (installer/windows, installer/macos via installer/platforms.cmake):
# one folder with the DLLs, or Penser.app.
if(NOT WIN32 AND NOT APPLE)
install(TARGETS penser RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET penser-cli)
  install(TARGETS penser-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Desktop integration: the .desktop file, the AppStream metadata, and the icon under the name the .desktop
# file's Icon= key gives, in every hicolor size that exists as a PNG plus the scalable SVG. resources/ (the
# platforms engineer's) names them in PENSER_DESKTOP_FILE, PENSER_METAINFO_FILE (configured with the version),
# PENSER_ICON_PNG_DIR and PENSER_ICON_SVG; without those variables the files are looked for in resources/.
if(DEFINED PENSER_DESKTOP_FILE)
  set(penser_desktop_files ${PENSER_DESKTOP_FILE})
else()
  file(GLOB penser_desktop_files ${penser_resources}/*.desktop)
endif()
if(DEFINED PENSER_METAINFO_FILE)
  set(penser_metainfo_files ${PENSER_METAINFO_FILE})
else()
  file(GLOB penser_metainfo_files ${penser_resources}/*.metainfo.xml)
endif()
if(NOT DEFINED PENSER_ICON_PNG_DIR)
  set(PENSER_ICON_PNG_DIR ${penser_resources}/icons/png)
endif()
if(NOT DEFINED PENSER_ICON_SVG)
  set(PENSER_ICON_SVG ${penser_resources}/icons/penser.svg)
endif()
set(PENSER_ICON_NAME penser)
foreach(desktop ${penser_desktop_files})
  file(STRINGS ${desktop} icon_line REGEX "^Icon=" LIMIT_COUNT 1)
  if(icon_line)
    string(REGEX REPLACE "^Icon=" "" PENSER_ICON_NAME "${icon_line}")
  endif()
endforeach()
install(FILES ${penser_desktop_files} DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${penser_metainfo_files} DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
file(GLOB penser_icon_pngs ${PENSER_ICON_PNG_DIR}/penser-*.png)
foreach(png ${penser_icon_pngs})
  string(REGEX MATCH "penser-([0-9]+)\\.png$" _ ${png})
  set(size ${CMAKE_MATCH_1})
  install(FILES ${png} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
          RENAME ${PENSER_ICON_NAME}.png)
endforeach()
if(EXISTS ${PENSER_ICON_SVG})
  install(FILES ${PENSER_ICON_SVG} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps
          RENAME ${PENSER_ICON_NAME}.svg)
endif()
endif()  # NOT WIN32 AND NOT APPLE

# ---- CPack ---------------------------------------------------------------------------------------------------
# Names: penser-<version>-Linux.deb / .tar.gz (CPack's default <name>-<version>-<system>).
set(CPACK_PACKAGE_NAME penser)
set(CPACK_PACKAGE_VENDOR "The Penser developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "Penser runs the DeepSeek R1 distilled models (GGUF files) on your own computer, on the CPU or on the GPU \
through Vulkan, and keeps every conversation, with the model's thinking, on your disk. It includes penser-cli, \
a command line for running, benchmarking and quantising models.")
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries carry ~10x their size in DWARF
if(NOT CPACK_GENERATOR)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(CPACK_GENERATOR DEB TGZ)
  else()
    set(CPACK_GENERATOR TGZ)
  endif()
endif()

# DEB: library dependencies come from dpkg-shlibdeps (needs dpkg-dev and `file`); what it cannot see is listed
# by hand: the QML modules the window imports and Qt's X11/Wayland platform plugins are loaded at run time.
# The Vulkan loader is opened with dlopen (the engine falls back to the CPU without it): a recommendation.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_NAME penser)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "The Penser developers <penser@invalid.invalid>")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "qt6-qpa-plugins, qml6-module-qtqml, qml6-module-qtqml-models, qml6-module-qtqml-workerscript, \
qml6-module-qtquick, qml6-module-qtquick-window, qml6-module-qtquick-templates, qml6-module-qtquick-controls, \
qml6-module-qtquick-layouts, qml6-module-qtquick-dialogs, qml6-module-qt-labs-folderlistmodel, \
qml6-module-qtcore, libqt6svg6")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libvulkan1, mesa-vulkan-drivers, qt6-wayland, fonts-dejavu-core")
# CPack puts the summary on the Description line and this text below it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")

include(CPack)

include(${CMAKE_CURRENT_LIST_DIR}/appimage/appimage.cmake)
