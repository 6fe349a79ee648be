// The CPU backend: the reference forward pass for qwen2, llama and qwen3, and the fallback when no GPU is
// usable. Weights are read in place from the mapping; activations are f32; the KV cache is f16.
#pragma once

#include "inference/common/result.h"
#include "inference/model/evaluator.h"
#include "inference/model/model.h"

#include <memory>

namespace penser::cpu {

struct Options {
  uint32_t n_ctx = 4096;   // capped at the model's n_ctx_train
  int n_threads = 0;       // 0: one per hardware thread
  uint32_t n_batch = 64;   // prompt tokens per forward batch
};

Result<std::unique_ptr<model::Evaluator>> create_evaluator(const model::Model& model, const Options& options);

}  // namespace penser::cpu
