#include "raw_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runner_error.h"

namespace splitbench {

namespace {

[[noreturn]] void cannot_write(const std::string& path, const std::string& why) {
  throw RunnerError(ErrorKind::kCannotWrite,
                    "cannot write '" + path + "': " + why +
                        "; check the folder exists and is writable");
}

}  // namespace

void check_writable(const std::string& path, const char* flag) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) cannot_write(path, std::string(std::strerror(errno)) + " (" + flag + ")");
  std::fclose(file);
}

WrittenFile write_raw_file(const std::string& path, const std::vector<TensorSpec>& tensors,
                           const std::vector<const std::vector<uint8_t>*>& buffers) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) cannot_write(path, std::strerror(errno));
  WrittenFile written;
  written.path = path;
  written.tensors = tensors;
  for (const std::vector<uint8_t>* buffer : buffers) {
    if (!buffer->empty() &&
        std::fwrite(buffer->data(), 1, buffer->size(), file) != buffer->size()) {
      int error = errno;
      std::fclose(file);
      cannot_write(path, std::strerror(error));
    }
    written.size_bytes += static_cast<int64_t>(buffer->size());
  }
  if (std::fclose(file) != 0) cannot_write(path, std::strerror(errno));
  return written;
}

}  // namespace splitbench
