# Copies into <BUNDLE_DIR>/lib the glibc runtime the bundle's programs need and the target
# system may not have (on Android: none of it): the program interpreter (ld-linux-*.so.*) and
# every shared library the runner and lib/*.so need, transitively, that lib/ does not hold yet
# (libc, libm, libdl, libpthread, libstdc++, libgcc_s), taken from the compiler's own library
# path (`CXX_COMPILER -print-file-name=NAME`), symlinks resolved.
# Run as: cmake -DBUNDLE_DIR=.. -DCXX_COMPILER=.. -DREADELF=.. [-DRUNNER=splitbench_runner] -P this_file
foreach(_required BUNDLE_DIR CXX_COMPILER READELF)
  if(NOT DEFINED ${_required} OR "${${_required}}" STREQUAL "")
    message(FATAL_ERROR "bundle_glibc_runtime.cmake needs -D${_required}=...")
  endif()
endforeach()
if(NOT DEFINED RUNNER)
  set(RUNNER splitbench_runner)
endif()

# _elf_dependencies(<file> <out>): the NEEDED names of <file> and the file name of its
# program interpreter, if it has one.
function(_elf_dependencies _file _out)
  execute_process(COMMAND "${READELF}" --wide --dynamic --program-headers "${_file}"
                  OUTPUT_VARIABLE _text RESULT_VARIABLE _result ERROR_VARIABLE _error)
  if(NOT _result EQUAL 0)
    message(FATAL_ERROR "${READELF} could not read ${_file}: ${_error}")
  endif()
  set(_names "")
  string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[[^]\n]+\\]" _needed_lines "${_text}")
  foreach(_line IN LISTS _needed_lines)
    string(REGEX REPLACE ".*\\[([^]]+)\\]$" "\\1" _name "${_line}")
    list(APPEND _names "${_name}")
  endforeach()
  if(_text MATCHES "program interpreter: ([^]\n]+)\\]")
    get_filename_component(_interpreter "${CMAKE_MATCH_1}" NAME)
    list(APPEND _names "${_interpreter}")
  endif()
  set(${_out} "${_names}" PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY "${BUNDLE_DIR}/lib")
file(GLOB _queue "${BUNDLE_DIR}/lib/*.so*")
list(PREPEND _queue "${BUNDLE_DIR}/${RUNNER}")
set(_copied "")
while(_queue)
  list(POP_FRONT _queue _file)
  _elf_dependencies("${_file}" _names)
  foreach(_name IN LISTS _names)
    if(EXISTS "${BUNDLE_DIR}/lib/${_name}")
      continue()
    endif()
    execute_process(COMMAND "${CXX_COMPILER}" "-print-file-name=${_name}"
                    OUTPUT_VARIABLE _found OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _result)
    if(NOT _result EQUAL 0 OR NOT IS_ABSOLUTE "${_found}" OR NOT EXISTS "${_found}")
      get_filename_component(_needer "${_file}" NAME)
      message(FATAL_ERROR "${_needer} needs ${_name}, which ${CXX_COMPILER} cannot find; "
                          "install the compiler's target libraries (the libc6-dev and libstdc++ packages of the target)")
    endif()
    file(REAL_PATH "${_found}" _source)
    file(COPY_FILE "${_source}" "${BUNDLE_DIR}/lib/${_name}")
    file(CHMOD "${BUNDLE_DIR}/lib/${_name}"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    list(APPEND _copied "${_name}")
    list(APPEND _queue "${BUNDLE_DIR}/lib/${_name}")
  endforeach()
endwhile()
list(JOIN _copied " " _copied_text)
message(STATUS "bundled the glibc runtime: ${_copied_text}")
