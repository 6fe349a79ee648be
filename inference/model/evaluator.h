// The backend-neutral face of a forward pass: one sequence's state (KV cache, scratch) on one backend.
// The CPU backend (inference/cpu/) is the reference; the Vulkan backend implements the same interface.
// An Evaluator is used by one thread at a time; many may share one Model.
#pragma once

#include "inference/common/result.h"
#include "inference/tokenizer/tokenizer.h"

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace penser::model {

class Evaluator {
 public:
  virtual ~Evaluator() = default;

  virtual uint32_t n_ctx() const = 0;                                  // KV cache capacity in tokens
  virtual const std::vector<tokenizer::Token>& tokens() const = 0;    // tokens held in the KV cache, in order
  uint32_t n_past() const { return static_cast<uint32_t>(tokens().size()); }

  // Evaluates `tokens` at positions n_past() .. n_past()+size-1 (prompts in batches, decode one at a time),
  // appends them to the KV cache and writes the logits of the LAST token into `logits` (n_vocab floats).
  // Fails without changing the state when the tokens do not fit in n_ctx() or an id is out of range.
  // When the cancel flag (set_cancel_flag) becomes true between batches (the CPU backend: also between two
  // layers of a batch), stops and returns an Error whose message is "cancelled"; the batches evaluated
  // completely so far stay in the cache.
  virtual Status eval(std::span<const tokenizer::Token> tokens, std::span<float> logits) = 0;

  // Forgets every cached token from position n on (n <= n_past()). Used to reuse a common prefix.
  virtual void truncate(uint32_t n) = 0;

  virtual std::string backend_name() const = 0;  // "cpu (2 threads)", "vulkan: NVIDIA ..."

  // The device under this evaluator was lost (a GPU driver reset, or a hang): every later eval() fails, so
  // the owner should drop this evaluator and make a new one. The CPU backend never loses its device.
  virtual bool device_lost() const { return false; }

  void set_cancel_flag(const std::atomic<bool>* flag) { cancel_ = flag; }

 protected:
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }

 private:
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace penser::model
