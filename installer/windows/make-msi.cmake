# Builds Penser's .msi from a folder of deployed files (cmake --install + windeployqt) and the configured
# Penser.wxs. Run as a script:
#   cmake -DSTAGE_DIR=<deployed files> -DWXS=<configured Penser.wxs> -DICON=<penser.ico> -DOUTPUT=<x.msi>
#         [-DTOOLSET=wix3|wixl] [-DGGUF_ASSOCIATION=0|1] [-DWORK_DIR=<scratch>] -P make-msi.cmake
# wix3 (Windows): heat harvests STAGE_DIR, candle compiles, light links. wixl (Linux, msitools): wixl-heat
# harvests, wixl compiles and links; the test tests/platforms/test_windows_msi uses this path.
cmake_minimum_required(VERSION 3.25)

foreach(var STAGE_DIR WXS ICON OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "make-msi: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${STAGE_DIR}/penser.exe")
  message(FATAL_ERROR "make-msi: ${STAGE_DIR}/penser.exe is missing; install and deploy the app there first")
endif()
if(NOT DEFINED TOOLSET)
  if(CMAKE_HOST_WIN32)
    set(TOOLSET wix3)
  else()
    set(TOOLSET wixl)
  endif()
endif()
if(NOT DEFINED GGUF_ASSOCIATION)
  set(GGUF_ASSOCIATION 0)
endif()
if(NOT DEFINED WORK_DIR)
  get_filename_component(WORK_DIR "${OUTPUT}" DIRECTORY)
  set(WORK_DIR "${WORK_DIR}/msi-work")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(files_wxs "${WORK_DIR}/files.wxs")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " line)
    message(FATAL_ERROR "make-msi: `${line}` failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

if(TOOLSET STREQUAL "wix3")
  # WiX v3 lives in %WIX%\bin when installed by its own installer; else rely on PATH.
  set(hints "")
  if(DEFINED ENV{WIX})
    set(hints "$ENV{WIX}/bin")
  endif()
  foreach(tool heat candle light)
    find_program(${tool}_exe ${tool} HINTS ${hints} REQUIRED)
  endforeach()
  # -ag: component GUIDs derived from each file's path at link time (stable across versions); -srd: files go
  # straight into INSTALLFOLDER; -sreg -scom: never scrape COM/registry data out of Qt's DLLs.
  run(${heat_exe} dir "${STAGE_DIR}" -nologo -cg PenserRuntime -dr INSTALLFOLDER -srd -ag -sfrag -sreg -scom
      -var var.StageDir -out "${files_wxs}")
  run(${candle_exe} -nologo -arch x64 "-dStageDir=${STAGE_DIR}" "-dIconFile=${ICON}"
      "-dGgufAssociation=${GGUF_ASSOCIATION}" -out "${WORK_DIR}/" "${WXS}" "${files_wxs}")
  get_filename_component(wxs_name "${WXS}" NAME_WE)
  # ICE38/ICE64/ICE91 are the per-user-folder rules: heat's components use their file as key path, which
  # Windows Installer accepts for a per-user install; the HKCU key paths above cover what these checks guard.
  run(${light_exe} -nologo -sice:ICE38 -sice:ICE64 -sice:ICE91 -out "${OUTPUT}"
      "${WORK_DIR}/${wxs_name}.wixobj" "${WORK_DIR}/files.wixobj")
elseif(TOOLSET STREQUAL "wixl")
  find_program(wixl_exe wixl REQUIRED)
  find_program(wixl_heat_exe wixl-heat REQUIRED)
  file(GLOB_RECURSE staged LIST_DIRECTORIES false RELATIVE "${STAGE_DIR}" "${STAGE_DIR}/*")
  list(SORT staged)
  list(TRANSFORM staged PREPEND "${STAGE_DIR}/")
  list(JOIN staged "\n" staged_lines)
  file(WRITE "${WORK_DIR}/files.txt" "${staged_lines}\n")
  execute_process(COMMAND ${wixl_heat_exe} --prefix "${STAGE_DIR}/" --component-group PenserRuntime
                          --directory-ref INSTALLFOLDER --var var.StageDir --win64
                  INPUT_FILE "${WORK_DIR}/files.txt" OUTPUT_FILE "${files_wxs}" RESULT_VARIABLE rc
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "make-msi: wixl-heat failed (${rc}): ${err}")
  endif()
  # wixl looks source files up relative to the folder of the .wxs that names them (an absolute path trips
  # it), so both the harvest and the icon are given relative to WORK_DIR, where files.wxs is.
  configure_file("${WXS}" "${WORK_DIR}/Penser.wxs" COPYONLY)
  file(COPY_FILE "${ICON}" "${WORK_DIR}/penser.ico")
  file(RELATIVE_PATH stage_rel "${WORK_DIR}" "${STAGE_DIR}")
  run(${wixl_exe} -a x64 -D "StageDir=${stage_rel}" -D IconFile=penser.ico -D "GgufAssociation=${GGUF_ASSOCIATION}"
      -D Win64=yes -o "${OUTPUT}" "${WORK_DIR}/Penser.wxs" "${files_wxs}")
else()
  message(FATAL_ERROR "make-msi: TOOLSET must be wix3 or wixl, not '${TOOLSET}'")
endif()
message(STATUS "make-msi: wrote ${OUTPUT}")
