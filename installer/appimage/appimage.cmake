# The `appimage` target: Penser-<version>-x86_64.AppImage in the build folder (make-appimage.sh does the work;
# docs/packaging.md describes the result). Included from installer/cpack.cmake.
#
# The runtime (runtime.c) is linked statically against Debian's libsquashfuse and libfuse3, so that the
# AppImage opens itself on systems with neither; a missing -dev package only removes the target, with a note.
find_package(Qt6 6.4 COMPONENTS Core)
find_path(PENSER_SQUASHFUSE_INCLUDE squashfuse/ll.h)
find_path(PENSER_FUSE3_INCLUDE fuse3/fuse_lowlevel.h)
set(penser_runtime_libs squashfuse_ll squashfuse fuse3 zstd lz4 lzo2 lzma z)
set(penser_runtime_archives)
foreach(lib ${penser_runtime_libs})
  find_library(PENSER_STATIC_${lib} NAMES lib${lib}.a)
  list(APPEND penser_runtime_archives ${PENSER_STATIC_${lib}})
endforeach()
find_program(PENSER_MKSQUASHFS mksquashfs)
find_program(PENSER_PATCHELF patchelf)
find_program(PENSER_APPIMAGETOOL appimagetool)

set(penser_appimage_missing)
foreach(var PENSER_SQUASHFUSE_INCLUDE PENSER_FUSE3_INCLUDE PENSER_MKSQUASHFS PENSER_PATCHELF)
  if(NOT ${var})
    list(APPEND penser_appimage_missing ${var})
  endif()
endforeach()
foreach(lib ${penser_runtime_libs})
  if(NOT PENSER_STATIC_${lib})
    list(APPEND penser_appimage_missing lib${lib}.a)
  endif()
endforeach()
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR NOT TARGET penser OR NOT Qt6_FOUND)
  return()
endif()
if(penser_appimage_missing)
  message(STATUS "No `appimage` target: missing ${penser_appimage_missing} (scripts/setup-debian.sh installs them)")
  return()
endif()

add_executable(penser-appimage-runtime ${CMAKE_CURRENT_LIST_DIR}/runtime.c)
# In the build root, where tests/installer/test_runtime.sh looks for it.
set_target_properties(penser-appimage-runtime PROPERTIES C_STANDARD 11 C_EXTENSIONS ON
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
target_include_directories(penser-appimage-runtime PRIVATE ${PENSER_FUSE3_INCLUDE}/fuse3)
target_compile_options(penser-appimage-runtime PRIVATE -Wall -Wextra -Os)
# Static and stripped: the runtime must start on any x86-64 Linux, and its size is part of every download.
# (libfuse3.a's high-level API references dlopen; the low-level API used here never calls it.)
target_link_options(penser-appimage-runtime PRIVATE -static -s)
target_link_libraries(penser-appimage-runtime PRIVATE ${penser_runtime_archives} Threads::Threads ${CMAKE_DL_LIBS})
# The type 2 magic: 'A' 'I' 2 at offset 8 (EI_ABIVERSION and padding of the ELF header, which the kernel
# ignores; a static binary never meets the dynamic loader that would check it).
add_custom_command(TARGET penser-appimage-runtime POST_BUILD
  COMMAND sh -c "printf 'AI\\002' | dd of='$<TARGET_FILE:penser-appimage-runtime>' bs=1 seek=8 conv=notrunc status=none"
  VERBATIM)

set(PENSER_APPIMAGE ${CMAKE_BINARY_DIR}/Penser-${PROJECT_VERSION}-x86_64.AppImage)
# A file-level rule, so that the target repacks only when the binaries, the runtime or the recipe changed.
add_custom_command(OUTPUT ${PENSER_APPIMAGE}
  COMMAND ${CMAKE_COMMAND} -E env
    PENSER_QT_PLUGINS=${QT6_INSTALL_PREFIX}/${QT6_INSTALL_PLUGINS}
    PENSER_QT_QML=${QT6_INSTALL_PREFIX}/${QT6_INSTALL_QML}
    PENSER_QMLIMPORTSCANNER=${QT6_INSTALL_PREFIX}/${QT6_INSTALL_LIBEXECS}/qmlimportscanner
    PENSER_APPIMAGETOOL=${PENSER_APPIMAGETOOL}
    bash ${CMAKE_CURRENT_LIST_DIR}/make-appimage.sh
      --source ${PROJECT_SOURCE_DIR} --build ${CMAKE_BINARY_DIR}
      --runtime $<TARGET_FILE:penser-appimage-runtime> --output ${PENSER_APPIMAGE}
  DEPENDS penser penser-cli penser-appimage-runtime ${CMAKE_CURRENT_LIST_DIR}/make-appimage.sh
          ${CMAKE_CURRENT_LIST_DIR}/excludelist ${penser_desktop_files} ${penser_metainfo_files}
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "Packing ${PENSER_APPIMAGE}"
  USES_TERMINAL
  VERBATIM)
add_custom_target(appimage DEPENDS ${PENSER_APPIMAGE})
