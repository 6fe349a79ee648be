// The GGUF parser. Every count, length, offset and shape comes from an untrusted file, so each one is
// checked against the bytes that remain BEFORE anything is allocated or read, and every refusal is an
// Error that names the file and says what is wrong in words a user can act on.
//
// Layout (little-endian; ggml docs/gguf.md):
//   u32 magic "GGUF", u32 version, u64 tensor_count, u64 kv_count          (v1 used u32 counts: refused)
//   kv_count x { string key, u32 value_type, value }
//   tensor_count x { string name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset }
//   padding to general.alignment, then the data section; tensor offsets are relative to it.
//   string = u64 length + bytes (no terminator); array = u32 element_type + u64 count + items.
#include "inference/gguf/gguf.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace penser::gguf {

namespace {

constexpr uint32_t kMaxDims = 4;               // ggml's GGML_MAX_DIMS
constexpr uint64_t kMaxNameBytes = 1024;       // keys and tensor names (ggml itself stops at 64 for names)
constexpr int kMaxArrayDepth = 8;              // arrays of arrays of ...; real files use at most 1
constexpr uint64_t kMaxArrayValues = 8u << 20;  // all array items of a file together; a 256k vocabulary uses ~1M
constexpr uint64_t kMaxKv = 1u << 16;          // real files have a few dozen keys
constexpr uint64_t kMaxTensors = 1u << 20;     // a 671B MoE with unmerged experts has ~45k
constexpr uint64_t kDefaultAlignment = 32;

// Smallest encoding of one tensor info: name length + 1-byte name + n_dims + one dim + type + offset.
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
// Smallest encoding of one key/value: key length + 1-byte key + value type + a 1-byte value.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;

// Bytes an item of type t takes at least, as an array element.
uint64_t min_item_bytes(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    case ValueType::STRING: return 8;      // the length; the string may be empty
    case ValueType::ARRAY: return 4 + 8;   // element type + count; the array may be empty
  }
  return 1;
}

bool valid_value_type(uint32_t id) { return id <= uint32_t(ValueType::FLOAT64); }

// A name from the file, quoted for a message: control and non-ASCII bytes escaped, long names cut.
std::string quote_name(std::string_view s) {
  constexpr size_t kShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += char(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > kShown) out += fmt::format("...' ({} bytes)", s.size());
  else out += "'";
  return out;
}

// A short rendering of a scalar value for messages.
std::string describe(const Value& v) {
  if (auto i = v.as_int()) return fmt::format("{}", *i);
  if (auto u = v.as_uint()) return fmt::format("{}", *u);
  if (auto f = v.as_float()) return fmt::format("{}", *f);
  if (const std::string* s = v.as_string()) return quote_name(*s);
  return value_type_name(v.type());
}

std::string shape_text(const std::vector<uint64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::string hex_bytes(std::span<const uint8_t> b) {
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) out += fmt::format("{}{:02x}", i ? " " : "", b[i]);
  return out;
}

template <typename What>
std::string text(const What& what) {
  if constexpr (std::is_invocable_v<const What&>) {
    return what();
  } else {
    return std::string(what);
  }
}

// Builds a field description lazily, for Cursor::read.
#define GGUF_WHAT(...) [&] { return fmt::format(__VA_ARGS__); }

// Reads little-endian fields from the byte span, refusing to step past its end.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& name) : b_(bytes), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return b_.size(); }
  uint64_t remaining() const { return b_.size() - pos_; }
  const std::string& name() const { return name_; }

  Error truncated(std::string_view what, uint64_t need) const {
    return make_error(
        "{}: file is truncated: {} at byte {} needs {} bytes but the file has only {} bytes (incomplete download?)",
        name_, what, pos_, need, b_.size());
  }

  // `what` names the field for a message: a string, or a callable that makes one (only called on error,
  // so reading 150k vocabulary strings formats nothing).
  template <typename T, typename What>
  Status read(T& out, const What& what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return truncated(text(what), sizeof(T));
    std::memcpy(&out, b_.data() + pos_, sizeof(T));  // GGUF is little-endian, like every target Penser has
    pos_ += sizeof(T);
    return {};
  }

  // A length-prefixed string.
  template <typename What>
  Status read_string(std::string& out, const What& what, uint64_t max_len) {
    uint64_t len = 0;
    PENSER_TRY(read(len, [&] { return fmt::format("the length of {}", text(what)); }));
    if (len > max_len) {
      return make_error("{}: {} is {} bytes long; keys and tensor names are at most {} bytes (corrupt file?)",
                        name_, text(what), len, max_len);
    }
    if (len > remaining()) {
      return make_error("{}: {} has a length of {} bytes but only {} bytes are left in the file "
                        "(corrupt or truncated file)",
                        name_, text(what), len, remaining());
    }
    out.assign(reinterpret_cast<const char*>(b_.data() + pos_), size_t(len));
    pos_ += len;
    return {};
  }

  void seek(uint64_t p) { pos_ = p; }

 private:
  std::span<const uint8_t> b_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

// Parses metadata values, keeping the total number of array items in check.
class ValueParser {
 public:
  explicit ValueParser(Cursor& c) : c_(c) {}

  Status parse(ValueType type, Value& out, const std::string& key, int depth) {
    switch (type) {
      case ValueType::UINT8: return scalar<uint8_t>(out, key);
      case ValueType::INT8: return scalar<int8_t>(out, key);
      case ValueType::UINT16: return scalar<uint16_t>(out, key);
      case ValueType::INT16: return scalar<int16_t>(out, key);
      case ValueType::UINT32: return scalar<uint32_t>(out, key);
      case ValueType::INT32: return scalar<int32_t>(out, key);
      case ValueType::FLOAT32: return scalar<float>(out, key);
      case ValueType::UINT64: return scalar<uint64_t>(out, key);
      case ValueType::INT64: return scalar<int64_t>(out, key);
      case ValueType::FLOAT64: return scalar<double>(out, key);
      case ValueType::BOOL: {
        uint8_t b = 0;
        PENSER_TRY(c_.read(b, GGUF_WHAT("the value of metadata key {}", quote_name(key))));
        if (b > 1) {
          return make_error("{}: metadata key {} is a bool with the byte value {}; a bool must be 0 or 1 "
                            "(corrupt file)",
                            c_.name(), quote_name(key), b);
        }
        out.v = bool(b);
        return {};
      }
      case ValueType::STRING: {
        std::string s;
        PENSER_TRY(c_.read_string(s, GGUF_WHAT("a string in metadata key {}", quote_name(key)),
                                  std::numeric_limits<uint64_t>::max()));
        out.v = std::move(s);
        return {};
      }
      case ValueType::ARRAY: return array(out, key, depth);
    }
    return make_error("{}: metadata key {} has an unknown value type", c_.name(), quote_name(key));  // unreachable
  }

 private:
  template <typename T>
  Status scalar(Value& out, const std::string& key) {
    T x{};
    PENSER_TRY(c_.read(x, GGUF_WHAT("the value of metadata key {}", quote_name(key))));
    out.v = x;
    return {};
  }

  Status array(Value& out, const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) {
      return make_error("{}: metadata key {} nests arrays more than {} levels deep (corrupt file?)", c_.name(),
                        quote_name(key), kMaxArrayDepth);
    }
    uint32_t elem_id = 0;
    PENSER_TRY(c_.read(elem_id, GGUF_WHAT("the array element type of metadata key {}", quote_name(key))));
    if (!valid_value_type(elem_id)) {
      return make_error("{}: metadata key {} is an array of unknown value type {} (valid types are 0 to 12; "
                        "corrupt file?)",
                        c_.name(), quote_name(key), elem_id);
    }
    ValueType elem = ValueType(elem_id);
    uint64_t n = 0;
    PENSER_TRY(c_.read(n, GGUF_WHAT("the array length of metadata key {}", quote_name(key))));
    uint64_t min_bytes = min_item_bytes(elem);
    if (n > c_.remaining() / min_bytes) {
      return make_error("{}: metadata key {} is an array of {} {} values, which needs at least {} bytes each, but "
                        "only {} bytes are left in the file (corrupt or truncated file)",
                        c_.name(), quote_name(key), n, value_type_name(elem), min_bytes, c_.remaining());
    }
    if (n > kMaxArrayValues - total_items_) {
      return make_error("{}: the metadata holds more than {} array values in total (metadata key {} adds {}); "
                        "no model needs that many, so the file is refused (corrupt file?)",
                        c_.name(), kMaxArrayValues, quote_name(key), n);
    }
    total_items_ += n;
    Array a;
    a.element_type = elem;
    a.items.resize(size_t(n));
    for (Value& item : a.items) PENSER_TRY(parse(elem, item, key, depth + 1));
    out.v = std::move(a);
    return {};
  }

  Cursor& c_;
  uint64_t total_items_ = 0;
};

// Overflow-checked arithmetic (portable: MSVC has no __builtin_*_overflow).
bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}
bool checked_add(uint64_t a, uint64_t b, uint64_t& out) {
  if (b > std::numeric_limits<uint64_t>::max() - a) return false;
  out = a + b;
  return true;
}

// a + b for a message, also when the sum does not fit in 64 bits.
std::string sum_text(uint64_t a, uint64_t b) {
  uint64_t s = 0;
  return checked_add(a, b, s) ? fmt::format("{}", s) : std::string("beyond 2^64");
}

}  // namespace

Result<std::unique_ptr<File>> File::from_memory(std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<File> file(new File());
  file->name_ = std::move(name);
  file->bytes_ = bytes;
  PENSER_TRY(file->parse());
  return file;
}

Status File::parse() {
  Cursor c(bytes_, name_);

  // Header.
  if (bytes_.size() < 4) {
    return make_error("{}: file is truncated: it has only {} bytes, too few for a GGUF header (incomplete "
                      "download?)",
                      name_, bytes_.size());
  }
  if (std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
    auto head = bytes_.first(4);
    std::string_view as_text(reinterpret_cast<const char*>(head.data()), 4);
    if (as_text == "lmgg" || as_text == "fmgg" || as_text == "tjgg" || as_text == "algg") {
      return make_error("{}: this is an old GGML/GGJT model file, not GGUF; convert it to GGUF with llama.cpp",
                        name_);
    }
    return make_error("{}: not a GGUF file: it starts with the bytes {} instead of 'GGUF'", name_, hex_bytes(head));
  }
  c.seek(4);
  uint32_t version = 0;
  PENSER_TRY(c.read(version, "the GGUF version"));
  if (version == 1) {
    return make_error("{}: GGUF version 1 is not supported (an early 2023 format); download a current version of "
                      "the model or convert it again with a recent llama.cpp",
                      name_);
  }
  if (version != 2 && version != 3) {
    if (version == 0x02000000u || version == 0x03000000u) {
      return make_error("{}: this is a big-endian GGUF file; Penser reads only little-endian GGUF files", name_);
    }
    return make_error("{}: unsupported GGUF version {}; Penser reads GGUF versions 2 and 3", name_, version);
  }
  version_ = version;
  uint64_t n_tensors = 0, n_kv = 0;
  PENSER_TRY(c.read(n_tensors, "the tensor count"));
  PENSER_TRY(c.read(n_kv, "the metadata count"));
  // Caps first, so that memory stays in proportion to what a model can need, not to the file size.
  if (n_kv > kMaxKv) {
    return make_error("{}: the header says the file has {} metadata entries; no model has more than {} (corrupt "
                      "file?)",
                      name_, n_kv, kMaxKv);
  }
  if (n_tensors > kMaxTensors) {
    return make_error("{}: the header says the file has {} tensors; no model has more than {} (corrupt file?)",
                      name_, n_tensors, kMaxTensors);
  }

  // Each entry takes some bytes: a count larger than the rest of the file can hold is a lie.
  if (n_kv > c.remaining() / kMinKvBytes) {
    return make_error("{}: the header says the file has {} metadata entries, but the remaining {} bytes can "
                      "hold at most {} (corrupt or truncated file)",
                      name_, n_kv, c.remaining(), c.remaining() / kMinKvBytes);
  }
  if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
    return make_error("{}: the header says the file has {} tensors, but the remaining {} bytes can hold at "
                      "most {} (corrupt or truncated file)",
                      name_, n_tensors, c.remaining(), c.remaining() / kMinTensorInfoBytes);
  }

  // Metadata.
  ValueParser values(c);
  metadata_.reserve(size_t(n_kv));
  metadata_index_.reserve(size_t(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    PENSER_TRY(c.read_string(key, GGUF_WHAT("metadata key #{}", i), kMaxNameBytes));
    if (key.empty()) return make_error("{}: metadata key #{} is empty (corrupt file)", name_, i);
    uint32_t type_id = 0;
    PENSER_TRY(c.read(type_id, GGUF_WHAT("the value type of metadata key {}", quote_name(key))));
    if (!valid_value_type(type_id)) {
      return make_error("{}: metadata key {} has unknown value type {} (valid types are 0 to 12; corrupt file?)",
                        name_, quote_name(key), type_id);
    }
    Value value;
    PENSER_TRY(values.parse(ValueType(type_id), value, key, 0));
    if (!metadata_index_.emplace(key, metadata_.size()).second) {
      return make_error("{}: metadata key {} appears twice (corrupt file)", name_, quote_name(key));
    }
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  alignment_ = kDefaultAlignment;
  if (const Value* a = find("general.alignment")) {
    std::optional<uint64_t> v = a->as_uint();
    if (!v || a->type() == ValueType::BOOL) {
      return make_error("{}: general.alignment has type {} and value {}; it must be an unsigned integer (corrupt "
                        "file)",
                        name_, value_type_name(a->type()), describe(*a));
    }
    if (*v == 0 || (*v & (*v - 1)) != 0) {
      return make_error("{}: general.alignment is {}; it must be a power of two such as 32 (corrupt file)", name_,
                        *v);
    }
    alignment_ = *v;
  }

  // Tensor table.
  tensors_.reserve(size_t(std::min<uint64_t>(n_tensors, 1u << 16)));  // grows past that only as tensors parse
  tensor_index_.reserve(size_t(std::min<uint64_t>(n_tensors, 1u << 16)));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    PENSER_TRY(c.read_string(t.name, GGUF_WHAT("tensor name #{}", i), kMaxNameBytes));
    if (t.name.empty()) return make_error("{}: tensor #{} has an empty name (corrupt file)", name_, i);
    std::string tn = quote_name(t.name);
    uint32_t n_dims = 0;
    PENSER_TRY(c.read(n_dims, GGUF_WHAT("the dimension count of tensor {}", tn)));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return make_error("{}: tensor {} has {} dimensions; GGUF tensors have 1 to {} (corrupt file)", name_, tn,
                        n_dims, kMaxDims);
    }
    t.shape.resize(n_dims);
    for (uint64_t& d : t.shape) PENSER_TRY(c.read(d, GGUF_WHAT("the shape of tensor {}", tn)));
    uint32_t type_id = 0;
    PENSER_TRY(c.read(type_id, GGUF_WHAT("the type of tensor {}", tn)));
    PENSER_TRY(c.read(t.offset, GGUF_WHAT("the data offset of tensor {}", tn)));

    for (uint64_t d : t.shape) {
      if (d == 0) {
        return make_error("{}: tensor {} has shape {} with a dimension of size 0 (corrupt file)", name_, tn,
                          shape_text(t.shape));
      }
    }
    uint64_t n_elements = 1;
    for (uint64_t d : t.shape) {
      if (!checked_mul(n_elements, d, n_elements) || n_elements > uint64_t(std::numeric_limits<int64_t>::max())) {
        return make_error("{}: tensor {} has shape {}, whose element count is too large (corrupt file)", name_, tn,
                          shape_text(t.shape));
      }
    }
    const quant::TypeTraits* traits = quant::traits(type_id);
    if (traits == nullptr || traits->block_size == 0) {
      return make_error("{}: tensor {} has unknown type id {}; the file may use a quantization type newer than "
                        "this version of Penser knows",
                        name_, tn, type_id);
    }
    t.type = quant::Type(type_id);
    if (t.shape[0] % traits->block_size != 0) {
      return make_error("{}: tensor {} of type {} has rows of {} elements, which is not a multiple of the type's "
                        "block size {} (corrupt file)",
                        name_, tn, traits->name, t.shape[0], traits->block_size);
    }
    uint64_t row_bytes = 0;
    if (!checked_mul(t.shape[0] / traits->block_size, traits->type_size, row_bytes) ||
        !checked_mul(row_bytes, n_elements / t.shape[0], t.n_bytes)) {
      return make_error("{}: tensor {} has shape {}, whose size in bytes is too large (corrupt file)", name_, tn,
                        shape_text(t.shape));
    }
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      return make_error("{}: tensor name {} appears twice (corrupt file)", name_, tn);
    }
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment. A file without tensors may end before it.
  uint64_t header_end = c.pos();
  uint64_t pad = (alignment_ - header_end % alignment_) % alignment_;
  if (!checked_add(header_end, pad, data_offset_) || data_offset_ > bytes_.size()) {
    if (!tensors_.empty()) {
      return make_error("{}: file is truncated: the tensor data should start at byte {} but the file has only {} "
                        "bytes (incomplete download?)",
                        name_, header_end, bytes_.size());
    }
    data_offset_ = bytes_.size();
  }

  const uint64_t data_size = bytes_.size() - data_offset_;
  for (TensorInfo& t : tensors_) {
    std::string tn = quote_name(t.name);
    if (t.offset % alignment_ != 0) {
      return make_error("{}: tensor {} starts at data offset {}, which is not a multiple of the alignment {} "
                        "(corrupt file)",
                        name_, tn, t.offset, alignment_);
    }
    if (t.offset >= data_size) {
      return make_error("{}: tensor {} data starts at byte {} but the file has only {} bytes (corrupt or "
                        "truncated file)",
                        name_, tn, data_offset_ + t.offset, bytes_.size());
    }
    if (t.n_bytes > data_size - t.offset) {
      return make_error("{}: file is truncated: tensor {} data ends at byte {} but the file has {} bytes "
                        "(incomplete download?)",
                        name_, tn, sum_text(data_offset_ + t.offset, t.n_bytes), bytes_.size());
    }
    t.data = bytes_.data() + data_offset_ + t.offset;
  }

  // No two tensors may share bytes. Sorted by offset, each must end before the next begins.
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const TensorInfo& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (a.offset + a.n_bytes > b.offset) {
      return make_error("{}: tensors {} (data bytes {} to {}) and {} (from byte {}) overlap (corrupt file)", name_,
                        quote_name(a.name), a.offset, a.offset + a.n_bytes, quote_name(b.name), b.offset);
    }
  }
  return {};
}

const Value* File::find(std::string_view key) const {
  auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

std::optional<uint64_t> File::get_uint(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_uint() : std::nullopt;
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_float() : std::nullopt;
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_bool() : std::nullopt;
}

const std::string* File::get_string(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_string() : nullptr;
}

const Array* File::get_array(std::string_view key) const {
  const Value* v = find(key);
  return v ? v->as_array() : nullptr;
}

const TensorInfo* File::tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace penser::gguf
