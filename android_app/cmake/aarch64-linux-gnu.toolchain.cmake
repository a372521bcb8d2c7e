# Cross toolchain for the glibc-bundled arm64-v8a runner: Debian's aarch64-linux-gnu GCC
# (apt-get install g++-aarch64-linux-gnu) with its target libraries in /usr/aarch64-linux-gnu.
# ExecuTorch comes from the aarch64 wheel through -Dexecutorch_DIR (an absolute path outside
# the target root, which find_package uses as given).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
