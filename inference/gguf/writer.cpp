// GGUF v3 writer: metadata in insertion order, tensor data aligned to general.alignment with zero padding.
// write() streams into a temporary file next to the target and renames it at the end, so a failed or
// interrupted write never leaves a half-written file under the final name.
#include "inference/gguf/gguf.h"

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <random>
#include <system_error>
#include <unordered_set>

namespace penser::gguf {

namespace {

constexpr uint32_t kVersion = 3;

template <typename T>
void put(std::vector<uint8_t>& out, T x) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// The value without its type tag (arrays carry their element type inside).
void put_value(std::vector<uint8_t>& out, const Value& value) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, x);
        } else if constexpr (std::is_same_v<T, Array>) {
          put<uint32_t>(out, uint32_t(x.element_type));
          put<uint64_t>(out, x.items.size());
          for (const Value& item : x.items) {
            PENSER_ASSERT(item.type() == x.element_type);  // an array holds one type
            put_value(out, item);
          }
        } else {
          put<T>(out, x);
        }
      },
      value.v);
}

uint64_t expected_bytes(const std::vector<uint64_t>& shape, quant::Type type) {
  const quant::TypeTraits& tr = quant::traits(type);
  uint64_t rows = 1;
  for (size_t i = 1; i < shape.size(); ++i) rows *= shape[i];
  return shape[0] / tr.block_size * tr.type_size * rows;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

const std::vector<uint8_t>& zeros(uint64_t n) {
  static const std::vector<uint8_t> z(4096, 0);
  PENSER_ASSERT(n <= z.size());
  return z;
}

}  // namespace

void Writer::set(std::string key, Value value) {
  PENSER_ASSERT(!key.empty());
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::copy_metadata(const File& from, std::string_view prefix) {
  for (const auto& [key, value] : from.metadata()) {
    if (key.compare(0, prefix.size(), prefix) == 0) set(key, value);
  }
}

void Writer::add_tensor(std::string name, std::vector<uint64_t> shape, quant::Type type,
                        std::span<const uint8_t> bytes) {
  PENSER_ASSERT(!name.empty());
  PENSER_ASSERT(!shape.empty() && shape.size() <= 4);
  for (uint64_t d : shape) PENSER_ASSERT(d > 0);
  PENSER_ASSERT(shape[0] % quant::traits(type).block_size == 0);
  PENSER_ASSERT(bytes.size() == expected_bytes(shape, type));
  for (const PendingTensor& t : tensors_) PENSER_ASSERT(t.name != name);  // tensor names are unique
  const uint64_t n_bytes = bytes.size();
  tensors_.push_back(PendingTensor{std::move(name), std::move(shape), type, bytes, nullptr, n_bytes, nullptr, 0});
}

void Writer::add_tensor_copy(std::string name, std::vector<uint64_t> shape, quant::Type type,
                             std::vector<uint8_t> bytes) {
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  add_tensor(std::move(name), std::move(shape), type, std::span<const uint8_t>(*owned));
  tensors_.back().owned = std::move(owned);
}

void Writer::add_tensor_stream(std::string name, std::vector<uint64_t> shape, quant::Type type, Producer produce,
                               uint64_t rows_per_call) {
  PENSER_ASSERT(!name.empty());
  PENSER_ASSERT(!shape.empty() && shape.size() <= 4);
  for (uint64_t d : shape) PENSER_ASSERT(d > 0);
  PENSER_ASSERT(shape[0] % quant::traits(type).block_size == 0);
  PENSER_ASSERT(produce != nullptr);
  for (const PendingTensor& t : tensors_) PENSER_ASSERT(t.name != name);
  const uint64_t n_bytes = expected_bytes(shape, type);
  tensors_.push_back(PendingTensor{std::move(name), std::move(shape), type, {}, nullptr, n_bytes, std::move(produce),
                                   rows_per_call});
}

Status Writer::emit_data(const PendingTensor& t, const std::function<Status(const uint8_t*, size_t)>& sink) {
  if (!t.produce) return sink(t.bytes.data(), t.bytes.size());
  uint64_t rows = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) rows *= t.shape[i];
  const uint64_t row_bytes = t.n_bytes / rows;
  constexpr uint64_t kChunkBytes = 16u << 20;
  uint64_t per_call = t.rows_per_call != 0 ? t.rows_per_call : std::max<uint64_t>(1, kChunkBytes / row_bytes);
  per_call = std::min(per_call, rows);
  std::vector<uint8_t> buffer(size_t(per_call * row_bytes));
  for (uint64_t r0 = 0; r0 < rows; r0 += per_call) {
    const uint64_t r1 = std::min(rows, r0 + per_call);
    Status s = t.produce(r0, r1, buffer.data());
    if (!s) return make_error("{}: {}", t.name, s.error().message);
    PENSER_TRY(sink(buffer.data(), size_t((r1 - r0) * row_bytes)));
  }
  return {};
}

// Everything before the tensor data: header, metadata, tensor table, padding. Fills `offsets`.
static std::vector<uint8_t> header_image(const std::vector<std::pair<std::string, Value>>& metadata,
                                         const auto& tensors, uint64_t alignment) {
  std::vector<uint8_t> out;
  out.insert(out.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(out, kVersion);
  put<uint64_t>(out, tensors.size());
  put<uint64_t>(out, metadata.size());
  for (const auto& [key, value] : metadata) {
    put_string(out, key);
    put<uint32_t>(out, uint32_t(value.type()));
    put_value(out, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    put_string(out, t.name);
    put<uint32_t>(out, uint32_t(t.shape.size()));
    for (uint64_t d : t.shape) put<uint64_t>(out, d);
    put<uint32_t>(out, uint32_t(t.type));
    put<uint64_t>(out, offset);
    offset = align_up(offset + t.n_bytes, alignment);
  }
  // The data section starts aligned. A file without tensors ends here, unpadded, as llama.cpp's tools write it.
  if (!tensors.empty()) out.resize(align_up(out.size(), alignment), 0);
  return out;
}

static uint64_t writer_alignment(const std::vector<std::pair<std::string, Value>>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (key == "general.alignment") {
      std::optional<uint64_t> a = value.as_uint();
      PENSER_ASSERT(a && *a > 0 && *a <= 4096 && (*a & (*a - 1)) == 0);
      return *a;
    }
  }
  return 32;
}

std::vector<uint8_t> Writer::to_bytes() const {
  uint64_t alignment = writer_alignment(metadata_);
  std::vector<uint8_t> out = header_image(metadata_, tensors_, alignment);
  for (const PendingTensor& t : tensors_) {
    Status s = emit_data(t, [&out](const uint8_t* p, size_t n) -> Status {
      out.insert(out.end(), p, p + n);
      return {};
    });
    PENSER_ASSERT(s);  // to_bytes() is for tests; their producers do not fail
    if (&t != &tensors_.back()) out.resize(align_up(out.size(), alignment), 0);
  }
  return out;
}

Status Writer::write(const std::filesystem::path& path) const {
  uint64_t alignment = writer_alignment(metadata_);
  std::vector<uint8_t> header = header_image(metadata_, tensors_, alignment);

  std::random_device rd;
  std::filesystem::path tmp = path;
  tmp += fmt::format(".partial-{:08x}", rd());
  const std::string name = path.string();

#ifdef _WIN32
  std::FILE* f = _wfopen(tmp.c_str(), L"wb");
#else
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
#endif
  if (f == nullptr) {
    int err = errno;
    return make_error("{}: cannot create a temporary file next to it ({}): {}", name, tmp.filename().string(),
                      std::strerror(err));
  }
  uint64_t written = 0;
  auto discard = [&] {  // closes and removes the partial file; safe to call twice
    if (f == nullptr) return;
    std::fclose(f);
    f = nullptr;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
  };
  auto fail = [&](int err) -> Status {
    discard();
    return make_error("{}: writing failed after {} bytes: {}{}", name, written, std::strerror(err),
                      err == ENOSPC ? " (the disk is full)" : "");
  };
  auto emit = [&](const uint8_t* p, size_t n) -> bool {
    if (n == 0) return true;
    if (std::fwrite(p, 1, n, f) != n) return false;
    written += n;
    return true;
  };

  if (!emit(header.data(), header.size())) return fail(errno);
  auto sink = [&](const uint8_t* p, size_t n) -> Status {
    if (!emit(p, n)) return fail(errno);
    return {};
  };
  for (const PendingTensor& t : tensors_) {
    Status s = emit_data(t, sink);
    if (!s) {
      if (f == nullptr) return s;  // the write failed: fail() has already discarded the file
      discard();                   // a producer failed
      return make_error("{}: {}", name, s.error().message);
    }
    if (&t != &tensors_.back()) {
      uint64_t pad = align_up(written, alignment) - written;
      if (!emit(zeros(pad).data(), size_t(pad))) return fail(errno);
    }
  }
  if (std::fflush(f) != 0) return fail(errno);
  int close_rc = std::fclose(f);
  if (close_rc != 0) {
    int err = errno;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return make_error("{}: writing failed: {}{}", name, std::strerror(err), err == ENOSPC ? " (the disk is full)" : "");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return make_error("{}: cannot move the finished file into place: {}", name, ec.message());
  }
  return {};
}

}  // namespace penser::gguf
