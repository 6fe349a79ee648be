// Requantization: plan a type per tensor, then write the new file through gguf::Writer with every tensor
// streamed: each is converted a chunk of rows at a time while the file is written, and its input pages are
// released once it is done, so memory stays near one tensor.
#include "inference/model/requantize.h"

#include "inference/common/threadpool.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <utility>

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

}  // namespace

Result<QuantTarget> QuantTarget::parse(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (upper == "Q4_K_M") return QuantTarget{Type::Q4_K, true};
  if (upper == "Q5_K_M") return QuantTarget{Type::Q5_K, true};
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
  names.emplace_back("Q5_K_M");
  return names;
}

std::string QuantTarget::name() const { return std::string(quant::type_name(type)) + (k_m ? "_M" : ""); }

uint32_t QuantTarget::file_type() const {
  if (k_m) return type == Type::Q5_K ? 17 : 15;  // LLAMA_FTYPE_MOSTLY_Q5_K_M, _Q4_K_M
  switch (type) {
    case Type::F32: return 0;
    case Type::F16: return 1;
    case Type::Q4_0: return 2;
    case Type::Q4_1: return 3;
    case Type::Q8_0: return 7;
    case Type::Q2_K: return 10;
    case Type::Q3_K: return 11;  // Q3_K_S
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

std::string_view file_type_name(uint64_t file_type) {
  // llama.cpp's llama_ftype (llama.h): the numbering is the GGUF convention for general.file_type. Gaps are
  // retired types (Q4_2, Q4_3, Q4_0_4_4 ...).
  static constexpr std::pair<uint64_t, std::string_view> kNames[] = {
      {0, "F32"},      {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},     {8, "Q5_0"},
      {9, "Q5_1"},     {10, "Q2_K"},    {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"},  {14, "Q4_K_S"},
      {15, "Q4_K_M"},  {16, "Q5_K_S"},  {17, "Q5_K_M"}, {18, "Q6_K"},   {19, "IQ2_XXS"}, {20, "IQ2_XS"},
      {21, "Q2_K_S"},  {22, "IQ3_XS"},  {23, "IQ3_XXS"}, {24, "IQ1_S"}, {25, "IQ4_NL"},  {26, "IQ3_S"},
      {27, "IQ3_M"},   {28, "IQ2_S"},   {29, "IQ2_M"},  {30, "IQ4_XS"}, {31, "IQ1_M"},   {32, "BF16"},
      {36, "TQ1_0"},   {37, "TQ2_0"}};
  for (const auto& [value, name] : kNames)
    if (value == file_type) return name;
  return {};
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
      if (target.k_m) {
        int layer = layer_of(t.name);
        if ((t.name.find("attn_v.weight") != std::string::npos || t.name.find("ffn_down.weight") != std::string::npos) &&
            (layer < 0 || layer >= n_layer)) {
          return make_error("{}: tensor '{}' is outside the {} blocks the file declares", in.name(), t.name, n_layer);
        }
        want = quant::k_m_type_for(target.type, t.name, layer, n_layer, has_output);
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
  gguf::Writer w;
  w.copy_metadata(*in);
  w.set("general.file_type", gguf::Value{target.file_type()});
  bool quantized = std::any_of(plans.begin(), plans.end(), [](const TensorPlan& p) {
    return quant::traits(p.to).block_size > 1;
  });
  if (quantized) w.set("general.quantization_version", gguf::Value{uint32_t{2}});
  // general.alignment, if any, came with the metadata; the writer pads to at most 4096.
  if (in->alignment() > 4096) {
    return make_error("{}: general.alignment is {}; Penser writes files aligned to at most 4096", in->name(),
                      in->alignment());
  }

  ThreadPool pool(n_threads);
  for (size_t i = 0; i < plans.size(); ++i) {
    const TensorPlan& p = plans[i];
    const gguf::TensorInfo& t = in->tensors()[i];
    const uint64_t n_plans = plans.size();
    const int64_t ne0 = static_cast<int64_t>(t.shape[0]);
    const uint64_t n_rows = t.n_rows();
    const size_t in_row = quant::row_size(p.from, ne0), out_row = quant::row_size(p.to, ne0);
    // About 64 MiB of output per chunk, at least a row.
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, (64u << 20) / std::max<size_t>(out_row, 1));
    // Runs inside w.write(): plans, the input, the pool and progress outlive it.
    auto produce = [plan = &p, info = &t, &pool, &progress, i, n_plans, ne0, n_rows, in_row, out_row](
                       uint64_t r0, uint64_t r1, uint8_t* out) -> Status {
      if (r0 == 0 && progress) progress(*plan, i, n_plans);
      if (plan->to == plan->from) {
        std::memcpy(out, info->data + r0 * in_row, static_cast<size_t>(r1 - r0) * in_row);  // no second rounding
      } else {
        pool.parallel_for(static_cast<int64_t>(r1 - r0), [&](int64_t b, int64_t e) {
          std::vector<float> row(static_cast<size_t>(ne0));
          for (int64_t r = b; r < e; ++r) {
            quant::dequantize_row(plan->from, info->data + (r0 + static_cast<uint64_t>(r)) * in_row, row.data(), ne0);
            quant::quantize_row(plan->to, row.data(), out + static_cast<size_t>(r) * out_row, ne0);
          }
        });
      }
      if (r1 == n_rows) release_pages(info->data, info->n_bytes);  // done with this tensor's input
      return {};
    };
    w.add_tensor_stream(p.name, p.shape, p.to, std::move(produce), rows_per_chunk);
  }
  return w.write(out_path);
}

}  // namespace penser::model
