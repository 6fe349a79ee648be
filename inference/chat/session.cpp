#include "inference/chat/session.h"

#include "inference/chat/splitter.h"
#include "inference/model/model.h"

#include <algorithm>
#include <chrono>

namespace penser::chat {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

constexpr std::string_view kThinkOpen = "<think>\n";
constexpr std::string_view kBudgetClose = "\n</think>\n\n";

// Index of the first message that may be dropped to make room: not system text, not the last user message.
// Returns messages.size() when nothing can go.
size_t first_droppable(const std::vector<Message>& messages, size_t last_user) {
  for (size_t i = 0; i < last_user; ++i)
    if (messages[i].role != "system") return i;
  return messages.size();
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::Eos: return "eos";
    case FinishReason::Length: return "length";
    case FinishReason::ContextFull: return "context_full";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
  }
  return "error";
}

uint32_t default_n_ctx(const model::Model& model, uint64_t available_bytes) {
  const uint32_t train = model.hparams().n_ctx_train;
  const uint32_t floor = std::min<uint32_t>(512, train);
  uint64_t per_256 = model.kv_cache_bytes(256);
  if (per_256 == 0) return train;
  uint64_t blocks = (available_bytes / 2) / per_256;
  uint64_t n = std::min<uint64_t>(blocks * 256, train);
  return static_cast<uint32_t>(std::max<uint64_t>(n, floor));
}

std::unique_ptr<Session> Session::create(const model::Model& model, std::unique_ptr<model::Evaluator> evaluator) {
  return std::make_unique<Session>(model.shared_vocab(), std::move(evaluator),
                                   ChatTemplate::detect(model.chat_template()));
}

Session::Session(std::shared_ptr<const tokenizer::Vocab> vocab, std::unique_ptr<model::Evaluator> evaluator,
                 ChatTemplate chat_template)
    : vocab_(std::move(vocab)), evaluator_(std::move(evaluator)), template_(std::move(chat_template)) {
  PENSER_ASSERT(vocab_ && evaluator_);
  evaluator_->set_cancel_flag(&cancel_);
}

void Session::reset() { evaluator_->truncate(0); }

Result<Session::Prompt> Session::build_prompt(const std::vector<Message>& messages, uint32_t reserve_tokens) const {
  if (messages.empty() || messages.back().role != "user")
    return make_error("the conversation must end with a user message");
  std::vector<Message> kept = messages;
  Prompt prompt;
  const RenderOptions options = render_options_for(*vocab_);
  const uint32_t n_ctx = evaluator_->n_ctx();
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(std::string text, template_.render_for_generation(kept, options));
    std::vector<tokenizer::Token> tokens = vocab_->encode(text, /*add_bos=*/false, /*parse_special=*/true);
    if (tokens.size() + reserve_tokens <= n_ctx) {
      prompt.text = std::move(text);
      prompt.tokens = std::move(tokens);
      return prompt;
    }
    size_t last_user = kept.size() - 1;
    size_t drop = first_droppable(kept, last_user);
    if (drop == kept.size()) {
      return make_error("the message is too long for the context: the prompt needs {} tokens and {} more for "
                        "the reply, and the context holds {}. Shorten the message or the system text, or "
                        "raise the context size.",
                        tokens.size(), reserve_tokens, n_ctx);
    }
    // One turn goes: the message and everything after it up to the next user message (its replies).
    size_t end = drop + 1;
    while (end < last_user && kept[end].role != "user") {
      if (kept[end].role == "system") break;
      ++end;
    }
    prompt.dropped_messages += static_cast<uint32_t>(end - drop);
    kept.erase(kept.begin() + static_cast<ptrdiff_t>(drop), kept.begin() + static_cast<ptrdiff_t>(end));
  }
}

Result<uint32_t> Session::prefill(const std::vector<tokenizer::Token>& tokens, std::vector<float>& logits) {
  if (tokens.empty()) return make_error("the prompt is empty");
  const std::vector<tokenizer::Token>& cached = evaluator_->tokens();
  size_t n = 0;
  while (n < cached.size() && n < tokens.size() && cached[n] == tokens[n]) ++n;
  // The last prompt token is evaluated again when the whole prompt is cached: its logits are needed.
  if (n == tokens.size()) --n;
  evaluator_->truncate(static_cast<uint32_t>(n));
  logits.resize(static_cast<size_t>(vocab_->n_tokens()));
  std::span<const tokenizer::Token> rest(tokens.data() + n, tokens.size() - n);
  PENSER_TRY(evaluator_->eval(rest, logits));
  return static_cast<uint32_t>(n);
}

Reply Session::generate(const std::vector<Message>& messages, const GenerateSettings& settings,
                        const EventCallback& callback) {
  const Clock::time_point t_start = Clock::now();
  Reply reply;
  Stats& st = reply.stats;
  bool stop_requested = false;

  auto emit = [&](const Event& e) {
    if (stop_requested) return;
    if (callback && !callback(e)) stop_requested = true;
  };
  auto emit_text = [&](Event::Kind kind, const std::string& text) {
    if (text.empty()) return;
    (kind == Event::Kind::Thinking ? reply.thinking : reply.answer) += text;
    Event e;
    e.kind = kind;
    e.text = text;
    emit(e);
  };
  auto finish = [&](FinishReason reason, std::string message) {
    reply.finish_reason = reason;
    reply.error = std::move(message);
    Event s;
    s.kind = Event::Kind::Stats;
    s.stats = st;
    if (callback) callback(s);
    Event d;
    d.kind = Event::Kind::Done;
    d.reason = reason;
    d.text = reply.error;
    d.stats = st;
    if (callback) callback(d);
    cancel_.store(false, std::memory_order_relaxed);
    return reply;
  };

  // 1. The prompt, fitted to the context.
  const uint32_t n_ctx = evaluator_->n_ctx();
  uint32_t reserve = std::min(settings.reserve_tokens, n_ctx / 2);
  if (settings.max_tokens > 0) reserve = std::min(reserve, static_cast<uint32_t>(settings.max_tokens));
  Result<Prompt> prompt = build_prompt(messages, reserve);
  if (!prompt) {
    bool too_long = prompt.error().message.starts_with("the message is too long");
    return finish(too_long ? FinishReason::ContextFull : FinishReason::Error, prompt.error().message);
  }
  st.prompt_tokens = static_cast<uint32_t>(prompt->tokens.size());
  st.dropped_messages = prompt->dropped_messages;
  if (prompt->dropped_messages > 0) {
    Event e;
    e.kind = Event::Kind::ContextDropped;
    e.dropped_messages = prompt->dropped_messages;
    e.text = fmt::format("The conversation is longer than the context ({} tokens): the {} oldest messages "
                         "were left out of the prompt.", n_ctx, prompt->dropped_messages);
    emit(e);
  }

  // 2. Prefill, reusing the cached prefix.
  std::vector<float> logits;
  const Clock::time_point t_prefill = Clock::now();
  Result<uint32_t> reused = prefill(prompt->tokens, logits);
  const Clock::time_point t_prefilled = Clock::now();
  if (!reused) {
    if (reused.error().message == "cancelled") return finish(FinishReason::Cancelled, "");
    return finish(FinishReason::Error, reused.error().message);
  }
  st.reused_tokens = *reused;
  st.prefill_ms = ms_between(t_prefill, t_prefilled);
  uint32_t evaluated = st.prompt_tokens - st.reused_tokens;
  st.prefill_tokens_per_s = st.prefill_ms > 0 ? evaluated / (st.prefill_ms / 1000.0) : 0;
  {
    Event e;
    e.kind = Event::Kind::Stats;
    e.stats = st;
    emit(e);
  }

  // 3. Decode.
  const bool starts_thinking = prompt->text.ends_with(kThinkOpen);
  ThinkSplitter splitter(starts_thinking);
  tokenizer::Detokenizer detok(*vocab_);
  Sampler sampler(settings.sampler);
  Clock::time_point t_first_token{};
  Clock::time_point t_think_start{};
  bool think_timing = false;
  bool think_done = false;
  auto note_thinking_time = [&] {
    Clock::time_point now = Clock::now();
    if (!think_timing && splitter.in_thinking() && !reply.thinking.empty()) {
      // Timing starts at the first thinking text.
      think_timing = true;
      t_think_start = now;
    }
    if (think_timing && !think_done && splitter.thought_closed()) {
      think_done = true;
      st.thinking_ms = ms_between(t_think_start, now);
    }
  };
  auto push_text = [&](const std::string& text) {
    SplitDelta d = splitter.push(text);
    emit_text(Event::Kind::Thinking, d.thinking);
    if (!think_timing && !d.thinking.empty()) {
      think_timing = true;
      t_think_start = Clock::now();
    }
    note_thinking_time();
    emit_text(Event::Kind::Answer, d.answer);
  };

  FinishReason reason = FinishReason::Eos;
  std::string error;
  const auto& history = evaluator_->tokens();
  for (;;) {
    if (stop_requested || cancel_.load(std::memory_order_relaxed)) {
      reason = FinishReason::Cancelled;
      break;
    }
    tokenizer::Token tok = sampler.sample(logits, history);
    if (st.generated_tokens == 0) {
      t_first_token = Clock::now();
      st.time_to_first_token_ms = ms_between(t_start, t_first_token);
    }
    if (vocab_->is_eog(tok)) {
      reason = FinishReason::Eos;
      break;
    }
    // A token is thinking if the thought was open before it (the `</think>` token) or after it (`<think>`).
    const bool was_thinking = splitter.in_thinking();
    push_text(detok.push(tok));
    ++st.generated_tokens;
    ++(was_thinking || splitter.in_thinking() ? st.thinking_tokens : st.answer_tokens);

    std::vector<tokenizer::Token> to_eval{tok};
    if (settings.thinking_budget >= 0 && splitter.in_thinking() &&
        st.thinking_tokens >= static_cast<uint32_t>(settings.thinking_budget)) {
      // Budget reached: close the thought as the model would and let it answer.
      push_text(detok.flush());
      std::vector<tokenizer::Token> close = vocab_->encode(kBudgetClose, false, true);
      push_text(std::string(kBudgetClose));
      st.forced_tokens += static_cast<uint32_t>(close.size());
      to_eval.insert(to_eval.end(), close.begin(), close.end());
    }
    if (settings.max_tokens > 0 && st.generated_tokens >= static_cast<uint32_t>(settings.max_tokens)) {
      reason = FinishReason::Length;
      break;
    }
    if (evaluator_->n_past() + to_eval.size() > n_ctx) {
      reason = FinishReason::ContextFull;
      break;
    }
    if (stop_requested || cancel_.load(std::memory_order_relaxed)) {
      reason = FinishReason::Cancelled;
      break;
    }
    Status s = evaluator_->eval(to_eval, logits);
    if (!s) {
      if (s.error().message == "cancelled") {
        reason = FinishReason::Cancelled;
      } else {
        reason = FinishReason::Error;
        error = s.error().message;
      }
      break;
    }
  }

  // 4. What was held back, and the numbers.
  push_text(detok.flush());
  SplitDelta tail = splitter.finish();
  emit_text(Event::Kind::Thinking, tail.thinking);
  emit_text(Event::Kind::Answer, tail.answer);
  const Clock::time_point t_end = Clock::now();
  if (think_timing && !think_done) st.thinking_ms = ms_between(t_think_start, t_end);
  st.thought_unclosed = splitter.thought_unclosed();
  if (st.generated_tokens > 0) {
    st.decode_ms = ms_between(t_first_token, t_end);
    st.decode_tokens_per_s = st.decode_ms > 0 ? (st.generated_tokens - 1) / (st.decode_ms / 1000.0) : 0;
  }
  if (reason == FinishReason::ContextFull) {
    error = fmt::format("the context is full ({} tokens): the reply was cut there", n_ctx);
  }
  if (stop_requested && reason != FinishReason::Error) reason = FinishReason::Cancelled;
  return finish(reason, error);
}

}  // namespace penser::chat
