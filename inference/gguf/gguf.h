// GGUF files: a reader over a read-only memory map, and a writer for tests and tools.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (versions 2 and 3; version 1 is refused).
//
// A GGUF file is hostile input: every count, length, offset and shape is checked against the file size
// before anything is allocated, and every failure is an Error naming the file and the problem.
#pragma once

#include "inference/common/result.h"
#include "inference/quant/quant.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace penser::gguf {

// Metadata value types; the numeric ids are part of the format.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

struct Value;
struct Array {
  ValueType element_type = ValueType::UINT8;
  std::vector<Value> items;  // arrays nest: an ARRAY of ARRAYs is legal
};

struct Value {
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
                               Array, uint64_t, int64_t, double>;
  Storage v;

  ValueType type() const;
  // Any integer type (and bool) whose value fits; nullopt otherwise. Files write counts as u32 or u64.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;  // any float or integer type
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  const Array* as_array() const;
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> shape;  // ggml order: shape[0] is the fastest-varying (row length)
  quant::Type type = quant::Type::F32;
  uint64_t offset = 0;          // from the start of the data section, as stored
  uint64_t n_bytes = 0;         // row_size(type, shape[0]) * rows
  const uint8_t* data = nullptr;  // into the mapping; valid while the File lives

  uint64_t n_elements() const;
  uint64_t n_rows() const { return shape.empty() || shape[0] == 0 ? 0 : n_elements() / shape[0]; }
};

class File {
 public:
  // Maps the file read-only and parses and validates the header, metadata and tensor table.
  static Result<std::unique_ptr<File>> open(const std::filesystem::path& path);
  // Parses a buffer the caller keeps alive (fuzzing, tests). `name` is used in error messages.
  static Result<std::unique_ptr<File>> from_memory(std::span<const uint8_t> bytes, std::string name);

  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& name() const { return name_; }  // the path as given, for messages
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }

  // Metadata in file order, and lookup by key.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const std::string* get_string(std::string_view key) const;
  const Array* get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;

 private:
  File() = default;
  Status parse();

  std::string name_;
  std::span<const uint8_t> bytes_;
  void* mapping_ = nullptr;  // platform mapping handle (munmap / UnmapViewOfFile) when opened from a path
  size_t mapping_size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Writes GGUF v3. Used by tests and tools (make-model, quantize): metadata in insertion order, tensors
// aligned to general.alignment (32 unless set). Data is streamed to the file, not held twice; streamed
// tensors (add_tensor_stream) are generated during write(), so a file of any size needs ~one chunk of memory.
class Writer {
 public:
  void set(std::string key, Value value);  // replaces an existing key, keeps its position
  void set_uint32(std::string key, uint32_t v) { set(std::move(key), Value{v}); }
  void set_float32(std::string key, float v) { set(std::move(key), Value{v}); }
  void set_bool(std::string key, bool v) { set(std::move(key), Value{v}); }
  void set_string(std::string key, std::string v) { set(std::move(key), Value{std::move(v)}); }
  // Copies every metadata key of another file whose key starts with prefix ("" = all).
  void copy_metadata(const File& from, std::string_view prefix = "");

  // The data must stay valid until write() returns. bytes.size() must equal row_size(type, shape[0]) * rows.
  void add_tensor(std::string name, std::vector<uint64_t> shape, quant::Type type, std::span<const uint8_t> bytes);
  // Same, with the writer owning a copy.
  void add_tensor_copy(std::string name, std::vector<uint64_t> shape, quant::Type type, std::vector<uint8_t> bytes);

  // Fills rows [row_begin, row_end) of a tensor (a row: shape[0] values) into out, which holds exactly
  // (row_end - row_begin) * row_size bytes. Called from write() / to_bytes(), in order, on the calling thread.
  using Producer = std::function<Status(uint64_t row_begin, uint64_t row_end, uint8_t* out)>;
  // A tensor whose bytes are produced while writing, a range of rows at a time into one reused buffer, so
  // the whole tensor is never in memory. rows_per_call = 0: about 16 MiB of rows per call (at least one).
  // A producer error aborts write(), removes the partial file and is returned prefixed with the tensor name.
  void add_tensor_stream(std::string name, std::vector<uint64_t> shape, quant::Type type, Producer produce,
                         uint64_t rows_per_call = 0);

  Status write(const std::filesystem::path& path) const;
  // Raw image of the file, for tests that corrupt it. Streamed tensors are produced into it; a producer
  // failing here is a programmer error.
  std::vector<uint8_t> to_bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> shape;
    quant::Type type;
    std::span<const uint8_t> bytes;  // in-memory tensors
    std::shared_ptr<std::vector<uint8_t>> owned;
    uint64_t n_bytes = 0;  // the data's size, in memory or streamed
    Producer produce;      // streamed tensors
    uint64_t rows_per_call = 0;
  };
  // Feeds a tensor's data to sink(pointer, size) -> Status, producing streamed tensors chunk by chunk.
  static Status emit_data(const PendingTensor& t, const std::function<Status(const uint8_t*, size_t)>& sink);
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace penser::gguf
