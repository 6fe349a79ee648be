# Windows packaging: penser.exe's icon and version resource, the install layout with windeployqt, the MSI
# (Penser.wxs, built by make-msi.cmake) and CPack's WIX settings. Included from installer/platforms.cmake at the
# top level, so that CPack sees the CPACK_ variables. docs/packaging-windows-macos.md explains the choices.
set(penser_win_dir ${PROJECT_SOURCE_DIR}/installer/windows)
set(penser_win_bin ${PROJECT_BINARY_DIR}/installer/windows)

# Fixed identities: MajorUpgrade finds older versions by the upgrade code, and Windows Installer tracks the
# hand-written components by these GUIDs. Never change them.
set(PENSER_WIX_UPGRADE_CODE 09C96A69-5F3C-4182-9685-B5E364EC9A8C)
set(PENSER_WIX_FOLDER_GUID DF840E34-2D0F-419E-8BEC-EDC2146D7748)
set(PENSER_WIX_SHORTCUT_GUID 19E83A18-B219-422F-AADD-52B7B4B1355D)
set(PENSER_WIX_GGUF_GUID 50ACC698-DDEB-461C-B0C4-724899FC9DD2)

# Configured on every platform: the test checks it with wixl on Linux.
configure_file(${penser_win_dir}/Penser.wxs.in ${penser_win_bin}/Penser.wxs @ONLY)
set(PENSER_WXS_FILE ${penser_win_bin}/Penser.wxs)

if(NOT WIN32 OR NOT TARGET penser)
  return()
endif()

configure_file(${penser_win_dir}/penser.rc.in ${penser_win_bin}/penser.rc @ONLY)
target_sources(penser PRIVATE ${penser_win_bin}/penser.rc ${penser_win_dir}/console_attach.cpp)
set_target_properties(penser PROPERTIES WIN32_EXECUTABLE ON)

# Everything in one folder (Windows finds DLLs beside the .exe): penser.exe, penser-cli.exe, Qt, the MSVC
# runtime (app-local: a per-user install cannot run the redistributable's installer, which needs admin).
install(TARGETS penser RUNTIME DESTINATION .)
if(TARGET penser-cli)
  install(TARGETS penser-cli RUNTIME DESTINATION .)
endif()
set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION .)
set(CMAKE_INSTALL_UCRT_LIBRARIES ON)
include(InstallRequiredSystemLibraries)

# windeployqt copies the Qt DLLs, plugins and the QML modules that ui/ imports (it scans --qmldir) next to
# the installed exe. $ENV{DESTDIR} and CMAKE_INSTALL_PREFIX are read when the install runs (cpack stages too).
find_program(PENSER_WINDEPLOYQT windeployqt HINTS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" REQUIRED)
install(CODE "
  set(exe \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/penser.exe\")
  message(STATUS \"windeployqt: \${exe}\")
  execute_process(COMMAND \"${PENSER_WINDEPLOYQT}\" --release --qmldir \"${PROJECT_SOURCE_DIR}/ui\"
                          --no-compiler-runtime --no-translations --no-system-d3d-compiler \"\${exe}\"
                  COMMAND_ERROR_IS_FATAL ANY)
")

# `cmake --build <build> --config Release --target msi`: install into a staging folder, then Penser.wxs + the
# harvested files -> Penser-<version>-win64.msi in the build folder (WiX v3: heat, candle, light).
set(penser_msi ${PROJECT_BINARY_DIR}/Penser-${PROJECT_VERSION}-win64.msi)
add_custom_target(msi
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${PROJECT_BINARY_DIR}/msi-stage
  COMMAND ${CMAKE_COMMAND} --install ${PROJECT_BINARY_DIR} --config $<CONFIG> --prefix ${PROJECT_BINARY_DIR}/msi-stage
  COMMAND ${CMAKE_COMMAND} -DSTAGE_DIR=${PROJECT_BINARY_DIR}/msi-stage -DWXS=${PENSER_WXS_FILE}
          -DICON=${PENSER_ICON_ICO} -DOUTPUT=${penser_msi} -DTOOLSET=wix3
          -DGGUF_ASSOCIATION=$<BOOL:${PENSER_GGUF_ASSOCIATION}> -P ${penser_win_dir}/make-msi.cmake
  DEPENDS penser
  VERBATIM)

# CPack's own WIX generator (`cpack -G WIX`), the alternative to the msi target: the same upgrade code, so
# either package upgrades the other. Per-user scope needs CMake >= 3.29 (CPACK_WIX_INSTALL_SCOPE).
set(CPACK_WIX_UPGRADE_GUID ${PENSER_WIX_UPGRADE_CODE})
set(CPACK_WIX_PRODUCT_ICON ${PENSER_ICON_ICO})
set(CPACK_WIX_INSTALL_SCOPE perUser)
set(CPACK_WIX_PROGRAM_MENU_FOLDER Penser)
set(CPACK_WIX_PROPERTY_ARPCOMMENTS "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_EXECUTABLES penser Penser)
set(CPACK_PACKAGE_INSTALL_DIRECTORY Penser)
