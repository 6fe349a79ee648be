// A chat session: one conversation's KV cache on one Evaluator, turned into streamed replies.
//
// generate() renders the conversation with the model's chat template, reuses the longest prefix of the
// prompt the cache already holds, evaluates the rest, then decodes token by token (sampler, detokenizer,
// think splitter) and reports events to a callback, which may return false to stop. The desktop window
// drives a Session from its inference worker thread; cancel() may be called from any thread.
// Plain C++: no Qt.
#pragma once

#include "inference/chat/sampler.h"
#include "inference/chat/template.h"
#include "inference/common/result.h"
#include "inference/model/evaluator.h"
#include "inference/tokenizer/tokenizer.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace penser::model { class Model; }

namespace penser::chat {

enum class FinishReason { Eos, Length, ContextFull, Cancelled, Error };
const char* finish_reason_name(FinishReason reason);  // "eos", "length", "context_full", "cancelled", "error"

struct GenerateSettings {
  SamplerSettings sampler;
  int32_t max_tokens = 8192;       // generated tokens (thinking + answer); <= 0: until the context is full
  int32_t thinking_budget = -1;    // thinking tokens before the engine closes the thought; < 0: no budget
  // Room kept for the reply when fitting the prompt into the context (capped at half the context and at
  // max_tokens): older turns are dropped until the prompt plus this much fits.
  uint32_t reserve_tokens = 512;
};

struct Stats {
  uint32_t prompt_tokens = 0;      // the rendered prompt
  uint32_t reused_tokens = 0;      // of which already in the KV cache
  uint32_t dropped_messages = 0;   // old messages left out to fit the context
  uint32_t generated_tokens = 0;   // sampled tokens (thinking + answer; the EOS token not counted)
  uint32_t thinking_tokens = 0;
  uint32_t answer_tokens = 0;
  uint32_t forced_tokens = 0;      // tokens of "\n</think>\n\n" inserted by the thinking budget
  double time_to_first_token_ms = 0;  // from generate() to the first sampled token
  double prefill_ms = 0;
  double prefill_tokens_per_s = 0;    // evaluated prompt tokens (prompt - reused) per second
  double decode_ms = 0;
  double decode_tokens_per_s = 0;     // generated tokens after the first, per second
  double thinking_ms = 0;             // first thinking text to </think> (or to the end if never closed)
  bool thought_unclosed = false;      // generation ended inside the thought: all of the text is thinking
};

struct Event {
  enum class Kind {
    Thinking,        // text: a piece of the thought
    Answer,          // text: a piece of the answer
    ContextDropped,  // dropped_messages: old messages left out so the prompt fits; text: a sentence for the UI
    Stats,           // stats: after the prompt is evaluated, and once more at the end
    Done,            // reason, text: the error message when reason is Error or ContextFull
  };
  Kind kind = Kind::Done;
  std::string text;
  uint32_t dropped_messages = 0;
  Stats stats;
  FinishReason reason = FinishReason::Eos;
};

// Return false to stop generating (finish reason "cancelled").
using EventCallback = std::function<bool(const Event&)>;

// What generate() returns: the whole reply, as the events gave it.
struct Reply {
  std::string thinking;
  std::string answer;
  FinishReason finish_reason = FinishReason::Eos;
  std::string error;  // set when finish_reason is Error or ContextFull
  Stats stats;
};

class Session {
 public:
  // The template comes from the model file (a warning is available when it is unknown).
  static std::unique_ptr<Session> create(const model::Model& model, std::unique_ptr<model::Evaluator> evaluator);
  Session(std::shared_ptr<const tokenizer::Vocab> vocab, std::unique_ptr<model::Evaluator> evaluator,
          ChatTemplate chat_template);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Answers the last message, which must be from the user. Never throws; every failure ends in a Done
  // event with reason Error (or ContextFull) and the same in the Reply.
  Reply generate(const std::vector<Message>& messages, const GenerateSettings& settings,
                 const EventCallback& callback);

  // Stops the generate() in progress (or the next one, if none is running) within one token, and an
  // evaluation of the prompt between two batches. Any thread. Cleared when generate() returns.
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }

  // Forgets the KV cache (a new conversation in the same session).
  void reset();

  // The prompt for a conversation as generate() would build it: rendered, the thought opened for R1
  // models, then fitted to the context. For `penser-cli template` and tests.
  struct Prompt {
    std::string text;
    std::vector<tokenizer::Token> tokens;
    uint32_t dropped_messages = 0;
  };
  Result<Prompt> build_prompt(const std::vector<Message>& messages, uint32_t reserve_tokens) const;

  // Brings the KV cache to `tokens` (reusing the common prefix) and writes the logits of the last one.
  // Returns the number of tokens reused. An Error "cancelled" when cancel() stopped it.
  Result<uint32_t> prefill(const std::vector<tokenizer::Token>& tokens, std::vector<float>& logits);

  const ChatTemplate& chat_template() const { return template_; }
  const tokenizer::Vocab& vocab() const { return *vocab_; }
  model::Evaluator& evaluator() { return *evaluator_; }
  uint32_t n_ctx() const { return evaluator_->n_ctx(); }

 private:
  std::shared_ptr<const tokenizer::Vocab> vocab_;
  std::unique_ptr<model::Evaluator> evaluator_;
  ChatTemplate template_;
  std::atomic<bool> cancel_{false};
};

// The default context size: the largest multiple of 256 tokens whose KV cache takes at most half of
// `available_bytes` (memory left once the weights are mapped), at most the model's trained length, and at
// least 512 tokens (or the trained length, if smaller).
uint32_t default_n_ctx(const model::Model& model, uint64_t available_bytes);

}  // namespace penser::chat
