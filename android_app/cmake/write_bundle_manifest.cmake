# Writes <BUNDLE_DIR>/bundle.json (schema splitbench.runner_bundle, version 1):
# every file of the bundle with its sha256, size and mode.
# Run as: cmake -DBUNDLE_DIR=.. -DBUNDLE_PLATFORM=.. -DBUNDLE_ABI=.. -DRUNNER_VERSION=.. -P this_file
foreach(_required BUNDLE_DIR BUNDLE_PLATFORM BUNDLE_ABI RUNNER_VERSION)
  if(NOT DEFINED ${_required})
    message(FATAL_ERROR "write_bundle_manifest.cmake needs -D${_required}=...")
  endif()
endforeach()

file(GLOB_RECURSE _files RELATIVE "${BUNDLE_DIR}" "${BUNDLE_DIR}/*")
list(REMOVE_ITEM _files "bundle.json")
list(SORT _files)
set(_manifest "{}")
string(JSON _manifest SET "${_manifest}" schema "\"splitbench.runner_bundle\"")
string(JSON _manifest SET "${_manifest}" schema_version 1)
string(JSON _manifest SET "${_manifest}" platform "\"${BUNDLE_PLATFORM}\"")
string(JSON _manifest SET "${_manifest}" abi "\"${BUNDLE_ABI}\"")
string(JSON _manifest SET "${_manifest}" runner_version "\"${RUNNER_VERSION}\"")
string(JSON _manifest SET "${_manifest}" runner "\"splitbench_runner\"")
string(JSON _manifest SET "${_manifest}" files "[]")
set(_index 0)
foreach(_file IN LISTS _files)
  file(SHA256 "${BUNDLE_DIR}/${_file}" _sha256)
  file(SIZE "${BUNDLE_DIR}/${_file}" _size)
  string(JSON _manifest SET "${_manifest}" files ${_index}
         "{\"path\": \"${_file}\", \"sha256\": \"${_sha256}\", \"size_bytes\": ${_size}, \"mode\": \"755\"}")
  math(EXPR _index "${_index} + 1")
endforeach()
file(WRITE "${BUNDLE_DIR}/bundle.json" "${_manifest}\n")
