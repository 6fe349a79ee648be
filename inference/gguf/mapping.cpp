// File::open: map the file read-only (POSIX mmap, or a file mapping on Windows), then parse it in place.
// Tensor data is used straight from the mapping, so a model costs its file size in page cache, not twice.
#include "inference/gguf/gguf.h"

#include <cerrno>
#include <cstring>
#include <system_error>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace penser::gguf {

namespace {

Error empty_file(const std::string& name) {
  return make_error("{}: the file is empty (0 bytes), so it is not a GGUF model (incomplete download?)", name);
}

#ifdef _WIN32
std::string win_error_text(DWORD code) {
  return std::system_category().message(int(code));
}
#endif

}  // namespace

Result<std::unique_ptr<File>> File::open(const std::filesystem::path& path) {
  std::string name = path.string();
  std::unique_ptr<File> file(new File());
  file->name_ = name;

#ifdef _WIN32
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return make_error("{}: is a folder, not a GGUF model file", name);
    return make_error("{}: cannot open the file: {}", name, win_error_text(code));
  }
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(h, &size)) {
    DWORD code = GetLastError();
    CloseHandle(h);
    return make_error("{}: cannot read the file size: {}", name, win_error_text(code));
  }
  if (size.QuadPart == 0) {
    CloseHandle(h);
    return empty_file(name);
  }
  HANDLE m = CreateFileMappingW(h, nullptr, PAGE_READONLY, 0, 0, nullptr);
  CloseHandle(h);  // the mapping keeps the file open
  if (m == nullptr) return make_error("{}: cannot map the file: {}", name, win_error_text(GetLastError()));
  void* view = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
  DWORD code = GetLastError();
  CloseHandle(m);  // the view keeps the mapping alive
  if (view == nullptr) return make_error("{}: cannot map the file: {}", name, win_error_text(code));
  file->mapping_ = view;
  file->mapping_size_ = size_t(size.QuadPart);
#else
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return make_error("{}: no such file", name);
    return make_error("{}: cannot open the file: {}", name, std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error("{}: cannot read the file size: {}", name, std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error("{}: is a folder, not a GGUF model file", name);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("{}: is not a regular file (a device, pipe or socket?), so it cannot be a GGUF model", name);
  }
  if (st.st_size == 0) {
    ::close(fd);
    return empty_file(name);
  }
  void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) return make_error("{}: cannot map the file into memory: {}", name, std::strerror(err));
  file->mapping_ = p;
  file->mapping_size_ = size_t(st.st_size);
#endif

  file->bytes_ = std::span<const uint8_t>(static_cast<const uint8_t*>(file->mapping_), file->mapping_size_);
  PENSER_TRY(file->parse());
  return file;
}

File::~File() {
  if (mapping_ == nullptr) return;
#ifdef _WIN32
  UnmapViewOfFile(mapping_);
#else
  ::munmap(mapping_, mapping_size_);
#endif
}

}  // namespace penser::gguf
