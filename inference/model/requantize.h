// Rewrites a GGUF model with its weights in another type: one type for every matrix (Q8_0, Q4_K, F16, ...)
// or the Q4_K_M mix. Streams tensor by tensor, a few rows at a time, so the model is never held in memory.
//
// Rules: 1-D tensors (norms, biases, rope factors) stay F32; a matrix whose row length is not a multiple of
// the target's block size takes a fallback type (the K types' usual substitute, else Q8_0, else F16) and the
// plan says so; a tensor already in its target type is copied byte for byte. All metadata is copied;
// general.file_type is set to the llama.cpp file type that names the result, general.quantization_version to 2.
#pragma once

#include "inference/common/result.h"
#include "inference/gguf/gguf.h"
#include "inference/quant/quant.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace penser::model {

// What to convert to: one type, or a K_M mix (k_m: Q4_K_M or Q5_K_M, `type` Q4_K or Q5_K with Q6_K where
// the mix spends more bits: quant::k_m_type_for).
struct QuantTarget {
  quant::Type type = quant::Type::F32;
  bool k_m = false;

  // "Q8_0", "q4_k", "F16", "Q4_K_M", "Q5_K_M" ... Errors list what is accepted.
  static Result<QuantTarget> parse(std::string_view name);
  std::string name() const;
  // The value general.file_type takes (llama.cpp's llama_ftype numbering).
  uint32_t file_type() const;
};
// Every name QuantTarget::parse accepts, for help texts.
std::vector<std::string> quant_target_names();

// The name llama.cpp gives a general.file_type value ("Q4_K_M" for 15); empty when unknown.
std::string_view file_type_name(uint64_t file_type);

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> shape;
  quant::Type from = quant::Type::F32;
  quant::Type to = quant::Type::F32;
  uint64_t out_bytes = 0;
  std::string note;  // why `to` is not the target's type ("1-D", "row length 100 is not a multiple of 256"), or ""
};

// The type each tensor of `in` gets. Fails when a tensor's type cannot be read (no dequantizer).
Result<std::vector<TensorPlan>> plan_requantize(const gguf::File& in, const QuantTarget& target);

// Called before each tensor is converted: its plan, its index and the number of tensors.
using RequantizeProgress = std::function<void(const TensorPlan& plan, size_t index, size_t count)>;

// Converts `in` to `out` (written next to it under a temporary name, then renamed). n_threads 0: all.
Status requantize(const std::filesystem::path& in, const std::filesystem::path& out, const QuantTarget& target,
                  const RequantizeProgress& progress = {}, int n_threads = 0);

}  // namespace penser::model
