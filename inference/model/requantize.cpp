// Requantization: plan a type per tensor, then stream the new file out (header, then each tensor converted a
// chunk of rows at a time). The GGUF is written here rather than through gguf::Writer because the Writer
// wants every tensor's bytes in memory until write() returns; this writes each tensor as it is converted.
#include "inference/model/requantize.h"

#include "inference/common/threadpool.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace penser::model {

namespace {

using quant::Type;

// Matrix types a model may be written in. Q8_1 and Q8_K are activation formats, not weight formats.
constexpr Type kWeightTypes[] = {Type::F32,  Type::F16,  Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0,
                                 Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::IQ4_NL,
                                 Type::IQ4_XS};

bool is_weight_type(Type t) {
  return std::find(std::begin(kWeightTypes), std::end(kWeightTypes), t) != std::end(kWeightTypes) &&
         quant::traits(t).can_quantize;
}

// "blk.12.attn_v.weight" -> 12; -1 outside the blocks.
int layer_of(std::string_view name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int layer = -1;
  auto [end, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), layer);
  return ec == std::errc() && end < name.data() + name.size() && *end == '.' ? layer : -1;
}

// The type a matrix with rows of ne0 elements can take when `want` does not fit: the K types' substitute,
// then Q8_0, then F16 (any row length).
Type fitting_type(Type want, uint64_t ne0) {
  auto fits = [ne0](Type t) { return ne0 % quant::traits(t).block_size == 0; };
  if (fits(want)) return want;
  Type sub = quant::k_fallback_type(want);
  if (fits(sub) && is_weight_type(sub)) return sub;
  if (fits(Type::Q8_0)) return Type::Q8_0;
  return Type::F16;
}

// ---- A streaming GGUF v3 writer: header and tensor table first, then the data tensor by tensor.

template <typename T>
void put(std::vector<uint8_t>& out, T x) {
  const auto* p = reinterpret_cast<const uint8_t*>(&x);
  out.insert(out.end(), p, p + sizeof(T));
}
void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
// A value without its type tag; arrays carry their element type and count.
void put_value(std::vector<uint8_t>& out, const gguf::Value& value) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, x);
        } else if constexpr (std::is_same_v<T, gguf::Array>) {
          put<uint32_t>(out, static_cast<uint32_t>(x.element_type));
          put<uint64_t>(out, x.items.size());
          for (const gguf::Value& item : x.items) put_value(out, item);
        } else {
          put<T>(out, x);
        }
      },
      value.v);
}
uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Drops the pages of an input tensor from this process once it is converted: they are file-backed and
// read-only, so nothing is lost, and the resident size stays near one tensor instead of the whole input.
void release_pages(const uint8_t* data, uint64_t n_bytes) {
#if defined(__linux__)
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t begin = align_up(reinterpret_cast<uintptr_t>(data), page);
  const uint64_t end = (reinterpret_cast<uintptr_t>(data) + n_bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
  (void)data;
  (void)n_bytes;
#endif
}

class OutFile {
 public:
  ~OutFile() {
    if (f_) {
      std::fclose(f_);
      std::error_code ec;
      std::filesystem::remove(tmp_, ec);  // not committed: leave nothing behind
    }
  }
  Status open(const std::filesystem::path& path) {
    path_ = path;
    tmp_ = path;
    tmp_ += fmt::format(".partial-{:08x}", std::random_device{}());
    f_ = std::fopen(tmp_.string().c_str(), "wb");
    if (!f_) return make_error("{}: cannot create a file next to it: {}", path.string(), std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    return {};
  }
  Status write(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) {
      int err = errno;
      return make_error("{}: writing failed after {} bytes: {}{}", path_.string(), written_, std::strerror(err),
                        err == ENOSPC ? " (the disk is full)" : "");
    }
    written_ += n;
    return {};
  }
  Status pad_to(uint64_t alignment) {
    static const uint8_t zeros[4096] = {};
    uint64_t pad = align_up(written_, alignment) - written_;
    return write(zeros, static_cast<size_t>(pad));
  }
  uint64_t written() const { return written_; }
  Status commit() {
    int rc = std::fclose(f_);
    f_ = nullptr;
    std::error_code ec;
    if (rc != 0) {
      std::filesystem::remove(tmp_, ec);
      return make_error("{}: writing failed: {}", path_.string(), std::strerror(errno));
    }
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) {
      std::error_code ignored;
      std::filesystem::remove(tmp_, ignored);
      return make_error("{}: cannot move the finished file into place: {}", path_.string(), ec.message());
    }
    return {};
  }

 private:
  std::filesystem::path path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
};

}  // namespace

Result<QuantTarget> QuantTarget::parse(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (upper == "Q4_K_M") return QuantTarget{Type::Q4_K, true};
  if (auto t = quant::type_from_name(upper); t && is_weight_type(*t)) return QuantTarget{*t, false};
  std::string names;
  for (const std::string& n : quant_target_names()) names += (names.empty() ? "" : ", ") + n;
  return make_error("unknown or unsupported quantization type '{}' (supported: {})", name, names);
}

std::vector<std::string> quant_target_names() {
  std::vector<std::string> names;
  for (Type t : kWeightTypes) {
    if (is_weight_type(t)) names.emplace_back(quant::type_name(t));
  }
  names.emplace_back("Q4_K_M");
  return names;
}

std::string QuantTarget::name() const { return q4_k_m ? "Q4_K_M" : quant::type_name(type); }

uint32_t QuantTarget::file_type() const {
  if (q4_k_m) return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  switch (type) {
    case Type::F32: return 0;
    case Type::F16: return 1;
    case Type::Q4_0: return 2;
    case Type::Q4_1: return 3;
    case Type::Q8_0: return 7;
    case Type::Q5_0: return 8;
    case Type::Q5_1: return 9;
    case Type::Q4_K: return 14;  // the nearest named file type: Q4_K_S
    case Type::Q5_K: return 16;  // Q5_K_S
    case Type::Q6_K: return 18;
    case Type::IQ4_NL: return 25;
    case Type::IQ4_XS: return 30;
    case Type::BF16: return 32;
    default: return 0;
  }
}

Result<std::vector<TensorPlan>> plan_requantize(const gguf::File& in, const QuantTarget& target) {
  const std::string* arch = in.get_string("general.architecture");
  int n_layer = arch ? static_cast<int>(in.get_uint(*arch + ".block_count").value_or(0)) : 0;
  const bool has_output = in.tensor("output.weight") != nullptr;

  std::vector<TensorPlan> plans;
  for (const gguf::TensorInfo& t : in.tensors()) {
    TensorPlan p;
    p.name = t.name;
    p.shape = t.shape;
    p.from = t.type;
    if (!quant::traits(t.type).can_dequantize) {
      return make_error("{}: tensor '{}' is {}, which Penser cannot read", in.name(), t.name, quant::type_name(t.type));
    }
    uint64_t n_dims = 0;
    for (uint64_t d : t.shape) n_dims += d > 1 ? 1 : 0;
    if (t.shape.size() < 2 || n_dims <= 1) {
      p.to = Type::F32;
      if (target.type != Type::F32) p.note = "1-D, kept F32";
    } else {
      Type want = target.type;
      if (target.q4_k_m) {
        int layer = layer_of(t.name);
        if ((t.name.find("attn_v.weight") != std::string::npos || t.name.find("ffn_down.weight") != std::string::npos) &&
            (layer < 0 || layer >= n_layer)) {
          return make_error("{}: tensor '{}' is outside the {} blocks the file declares", in.name(), t.name, n_layer);
        }
        want = quant::q4_k_m_type_for(t.name, layer, n_layer, has_output);
      }
      p.to = fitting_type(want, t.shape[0]);
      if (p.to != want) {
        p.note = fmt::format("row length {} is not a multiple of {}'s block of {}: {} instead", t.shape[0],
                             quant::type_name(want), quant::traits(want).block_size, quant::type_name(p.to));
      }
    }
    p.out_bytes = quant::row_size(p.to, static_cast<int64_t>(t.shape[0])) * t.n_rows();
    plans.push_back(std::move(p));
  }
  return plans;
}

Status requantize(const std::filesystem::path& in_path, const std::filesystem::path& out_path,
                  const QuantTarget& target, const RequantizeProgress& progress, int n_threads) {
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(in_path, out_path, ec)) {
    return make_error("{}: the output would overwrite the input; choose another name", out_path.string());
  }
  PENSER_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> in, gguf::File::open(in_path));
  PENSER_ASSIGN_OR_RETURN(std::vector<TensorPlan> plans, plan_requantize(*in, target));

  // Metadata: the input's, in order, with the file type set.
  std::vector<std::pair<std::string, gguf::Value>> metadata = in->metadata();
  auto set = [&metadata](const std::string& key, gguf::Value v) {
    for (auto& kv : metadata) {
      if (kv.first == key) {
        kv.second = std::move(v);
        return;
      }
    }
    metadata.emplace_back(key, std::move(v));
  };
  set("general.file_type", gguf::Value{target.file_type()});
  bool quantized = std::any_of(plans.begin(), plans.end(), [](const TensorPlan& p) {
    return quant::traits(p.to).block_size > 1;
  });
  if (quantized) set("general.quantization_version", gguf::Value{uint32_t{2}});
  const uint64_t alignment = in->alignment();

  std::vector<uint8_t> header;
  header.insert(header.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(header, 3);
  put<uint64_t>(header, plans.size());
  put<uint64_t>(header, metadata.size());
  for (const auto& [key, value] : metadata) {
    put_string(header, key);
    put<uint32_t>(header, static_cast<uint32_t>(value.type()));
    put_value(header, value);
  }
  uint64_t offset = 0;
  for (const TensorPlan& p : plans) {
    put_string(header, p.name);
    put<uint32_t>(header, static_cast<uint32_t>(p.shape.size()));
    for (uint64_t d : p.shape) put<uint64_t>(header, d);
    put<uint32_t>(header, static_cast<uint32_t>(p.to));
    put<uint64_t>(header, offset);
    offset = align_up(offset + p.out_bytes, alignment);
  }

  OutFile out;
  PENSER_TRY(out.open(out_path));
  PENSER_TRY(out.write(header.data(), header.size()));
  if (!plans.empty()) PENSER_TRY(out.pad_to(alignment));

  ThreadPool pool(n_threads);
  std::vector<uint8_t> chunk;
  for (size_t i = 0; i < plans.size(); ++i) {
    const TensorPlan& p = plans[i];
    const gguf::TensorInfo& t = in->tensors()[i];
    if (progress) progress(p, i, plans.size());
    if (p.to == p.from) {
      PENSER_TRY(out.write(t.data, t.n_bytes));  // already in its type: no second rounding
    } else {
      const int64_t ne0 = static_cast<int64_t>(t.shape[0]);
      const int64_t n_rows = static_cast<int64_t>(t.n_rows());
      const size_t in_row = quant::row_size(p.from, ne0), out_row = quant::row_size(p.to, ne0);
      // About 64 MiB of output per chunk, at least a row.
      const int64_t rows_per_chunk = std::max<int64_t>(1, static_cast<int64_t>((64u << 20) / std::max<size_t>(out_row, 1)));
      for (int64_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
        const int64_t nr = std::min(rows_per_chunk, n_rows - r0);
        chunk.resize(static_cast<size_t>(nr) * out_row);
        pool.parallel_for(nr, [&](int64_t b, int64_t e) {
          std::vector<float> row(static_cast<size_t>(ne0));
          for (int64_t r = b; r < e; ++r) {
            quant::dequantize_row(p.from, t.data + static_cast<size_t>(r0 + r) * in_row, row.data(), ne0);
            quant::quantize_row(p.to, row.data(), chunk.data() + static_cast<size_t>(r) * out_row, ne0);
          }
        });
        PENSER_TRY(out.write(chunk.data(), chunk.size()));
      }
    }
    release_pages(t.data, t.n_bytes);
    if (i + 1 < plans.size()) PENSER_TRY(out.pad_to(alignment));
  }
  return out.commit();
}

}  // namespace penser::model
