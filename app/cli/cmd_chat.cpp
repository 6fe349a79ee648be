// penser-cli chat MODEL [--messages conv.json] [--temp T] [--seed S] [--max-tokens N] [--json] ...
//
// Without --messages: an interactive terminal chat that streams the thinking (dimmed) and the answer.
// Commands: /regen, /reset, /think on|off, /stats, /exit. Ctrl+C stops the answer; a second Ctrl+C quits.
// With --messages: answers the conversation's last user message once and exits (--json: one JSON object
// {"thinking", "answer", "finish_reason", "error", "stats"}).
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/chat/session.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#if defined(_WIN32)
#include <io.h>
#define PENSER_ISATTY _isatty
#define PENSER_FILENO _fileno
#else
#include <unistd.h>
#define PENSER_ISATTY isatty
#define PENSER_FILENO fileno
#endif

namespace penser::cli {

// Defined in cmd_template.cpp: reads a JSON conversation file.
Result<std::vector<chat::Message>> read_conversation(const std::string& path);

namespace {

struct ChatOptions {
  std::string model;
  std::string messages;
  std::string system;
  std::string backend = "cpu";
  std::optional<uint32_t> device;  // --device N (Vulkan)
  std::optional<uint32_t> batch;   // --batch N (Vulkan prompt tokens per submission)
  int threads = 0;
  uint32_t ctx = 0;
  float temp = 0.6f;
  float top_p = 0.95f;
  int top_k = 0;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;
  int max_tokens = 8192;
  int thinking_budget = -1;
  bool json = false;
  bool hide_thinking = false;
};

// Ctrl+C: the first press during an answer stops it; any other press quits.
std::atomic<chat::Session*> g_session{nullptr};
std::atomic<bool> g_generating{false};
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
  if (g_generating.load() && g_interrupted == 0) {
    g_interrupted = 1;
    if (chat::Session* s = g_session.load()) s->cancel();
    return;
  }
  std::_Exit(130);
}

uint64_t available_memory_bytes() {
#if defined(__linux__)
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
#endif
  return uint64_t(8) << 30;  // unknown: assume 8 GiB free
}

nlohmann::json stats_json(const chat::Stats& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"reused_tokens", s.reused_tokens},
          {"dropped_messages", s.dropped_messages},
          {"generated_tokens", s.generated_tokens},
          {"thinking_tokens", s.thinking_tokens},
          {"answer_tokens", s.answer_tokens},
          {"forced_tokens", s.forced_tokens},
          {"time_to_first_token_ms", s.time_to_first_token_ms},
          {"prefill_ms", s.prefill_ms},
          {"prefill_tokens_per_s", s.prefill_tokens_per_s},
          {"decode_ms", s.decode_ms},
          {"decode_tokens_per_s", s.decode_tokens_per_s},
          {"thinking_ms", s.thinking_ms},
          {"thought_unclosed", s.thought_unclosed}};
}

std::string stats_line(const chat::Stats& s) {
  return fmt::format("prompt {} tokens ({} reused), first token after {:.0f} ms, prefill {:.1f} tok/s, "
                     "decode {:.1f} tok/s, {} thinking + {} answer tokens, thought for {:.1f} s",
                     s.prompt_tokens, s.reused_tokens, s.time_to_first_token_ms, s.prefill_tokens_per_s,
                     s.decode_tokens_per_s, s.thinking_tokens, s.answer_tokens, s.thinking_ms / 1000.0);
}

chat::GenerateSettings settings_from(const ChatOptions& o) {
  chat::GenerateSettings g;
  g.sampler.temperature = o.temp;
  g.sampler.top_p = o.top_p;
  g.sampler.top_k = o.top_k;
  g.sampler.min_p = o.min_p;
  g.sampler.repeat_penalty = o.repeat_penalty;
  g.sampler.presence_penalty = o.presence_penalty;
  g.sampler.seed = o.seed;
  g.max_tokens = o.max_tokens;
  g.thinking_budget = o.thinking_budget;
  return g;
}

// Streams one reply to the terminal. Thinking is dimmed when stdout is a terminal.
class Printer {
 public:
  Printer(bool show_thinking, bool color) : show_thinking_(show_thinking), color_(color) {}

  bool on_event(const chat::Event& e) {
    switch (e.kind) {
      case chat::Event::Kind::Thinking:
        if (!show_thinking_) break;
        if (!in_thinking_) {
          write(color_ ? "\x1b[2m" : "");
          write("<think>\n");
          in_thinking_ = true;
        }
        write(e.text);
        break;
      case chat::Event::Kind::Answer:
        end_thinking();
        write(e.text);
        wrote_answer_ = true;
        break;
      case chat::Event::Kind::ContextDropped:
        std::fprintf(stderr, "[%s]\n", e.text.c_str());
        break;
      case chat::Event::Kind::Stats:
        break;
      case chat::Event::Kind::Done:
        end_thinking();
        write("\n");
        if (e.reason != chat::FinishReason::Eos) {
          std::string why = chat::finish_reason_name(e.reason);
          if (!e.text.empty()) why += ": " + e.text;
          std::fprintf(stderr, "[stopped: %s]\n", why.c_str());
        }
        break;
    }
    std::fflush(stdout);
    return true;
  }

 private:
  void write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }
  void end_thinking() {
    if (!in_thinking_) return;
    write("\n</think>\n");
    write(color_ ? "\x1b[0m" : "");
    write("\n");
    in_thinking_ = false;
  }
  bool show_thinking_;
  bool color_;
  bool in_thinking_ = false;
  bool wrote_answer_ = false;
};

std::string assistant_content(const chat::Reply& r) {
  // The thought is kept with the message (the templates leave it out of later prompts).
  if (r.thinking.empty()) return r.answer;
  return "<think>\n" + r.thinking + "\n</think>\n\n" + r.answer;
}

chat::Reply run_turn(chat::Session& session, const std::vector<chat::Message>& messages,
                     const chat::GenerateSettings& settings, const chat::EventCallback& cb) {
  g_interrupted = 0;
  g_generating = true;
  chat::Reply r = session.generate(messages, settings, cb);
  g_generating = false;
  return r;
}

void scripted(chat::Session& session, const ChatOptions& o) {
  std::vector<chat::Message> messages = take(read_conversation(o.messages));
  if (!o.system.empty()) messages.insert(messages.begin(), {"system", o.system});
  chat::GenerateSettings settings = settings_from(o);
  if (o.json) {
    chat::Reply r = run_turn(session, messages, settings, nullptr);
    nlohmann::json j = {{"thinking", r.thinking},
                        {"answer", r.answer},
                        {"finish_reason", chat::finish_reason_name(r.finish_reason)},
                        {"error", r.error},
                        {"stats", stats_json(r.stats)}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    if (r.finish_reason == chat::FinishReason::Error) throw CommandExit{kExitFailure};
    return;
  }
  Printer printer(!o.hide_thinking, PENSER_ISATTY(PENSER_FILENO(stdout)) != 0);
  chat::Reply r = run_turn(session, messages, settings, [&](const chat::Event& e) { return printer.on_event(e); });
  if (r.finish_reason == chat::FinishReason::Error) throw CommandExit{kExitFailure};
}

void interactive(chat::Session& session, const ChatOptions& o) {
  const bool color = PENSER_ISATTY(PENSER_FILENO(stdout)) != 0;
  bool show_thinking = !o.hide_thinking;
  chat::GenerateSettings settings = settings_from(o);
  std::vector<chat::Message> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  std::optional<chat::Stats> last_stats;
  std::fprintf(stderr, "penser-cli chat: %s. Type a message; /regen, /reset, /think on|off, /stats, /exit.\n",
               session.evaluator().backend_name().c_str());
  if (!session.chat_template().warning().empty())
    std::fprintf(stderr, "warning: %s\n", session.chat_template().warning().c_str());

  auto answer = [&] {
    Printer printer(show_thinking, color);
    chat::Reply r = run_turn(session, messages, settings, [&](const chat::Event& e) { return printer.on_event(e); });
    last_stats = r.stats;
    // A reply that produced nothing (an error, a message too long) leaves the user message unanswered.
    if (!r.answer.empty() || !r.thinking.empty()) messages.push_back({"assistant", assistant_content(r)});
  };

  std::string line;
  for (;;) {
    std::fputs("> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      messages.erase(std::remove_if(messages.begin(), messages.end(),
                                    [](const chat::Message& m) { return m.role != "system"; }),
                     messages.end());
      session.reset();
      std::puts("[conversation cleared]");
      continue;
    }
    if (line == "/think on" || line == "/think off") {
      show_thinking = line == "/think on";
      std::printf("[thinking %s]\n", show_thinking ? "shown" : "hidden");
      continue;
    }
    if (line == "/stats") {
      std::printf("%s\n", last_stats ? stats_line(*last_stats).c_str() : "[no reply yet]");
      continue;
    }
    if (line == "/regen") {
      if (messages.empty() || messages.back().role != "assistant") {
        std::puts("[nothing to regenerate]");
        continue;
      }
      messages.pop_back();
      answer();
      continue;
    }
    if (!line.empty() && line[0] == '/') {
      std::printf("[unknown command %s: /regen, /reset, /think on|off, /stats, /exit]\n", line.c_str());
      continue;
    }
    if (line.empty()) continue;
    // A user message after an unanswered one (the reply failed) replaces it.
    if (!messages.empty() && messages.back().role == "user") messages.pop_back();
    messages.push_back({"user", line});
    answer();
  }
}

void chat_command(const ChatOptions& o) {
  std::unique_ptr<model::Model> model = load_model(o.model);
  uint32_t n_ctx = o.ctx > 0 ? o.ctx : chat::default_n_ctx(*model, available_memory_bytes());
  std::unique_ptr<model::Evaluator> evaluator = make_evaluator(*model, o.backend, o.threads, n_ctx, o.device, false, o.batch);
  std::unique_ptr<chat::Session> session = chat::Session::create(*model, std::move(evaluator));
  g_session = session.get();
  std::signal(SIGINT, on_interrupt);
  if (!o.messages.empty()) {
    scripted(*session, o);
  } else {
    interactive(*session, o);
  }
  std::signal(SIGINT, SIG_DFL);
  g_session = nullptr;
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with a model: interactive, or answer a conversation file");
  cmd->add_option("MODEL", o->model, "GGUF model file")->required();
  cmd->add_option("--messages", o->messages, "Answer the last user message of this JSON conversation and exit");
  cmd->add_option("--system", o->system, "System text (DeepSeek advises none for R1)");
  cmd->add_option("--temp", o->temp, "Temperature; 0 = greedy")->capture_default_str()->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--top-p", o->top_p, "Nucleus sampling threshold")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", o->top_k, "Keep the k most likely tokens; 0 = off")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-p", o->min_p, "Drop tokens less than min-p times as likely as the best")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty; 1 = off")->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--presence-penalty", o->presence_penalty, "Presence penalty; 0 = off")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (default: a random one)");
  cmd->add_option("--max-tokens", o->max_tokens, "Most tokens to generate (thinking + answer); 0 = no limit")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--thinking-budget", o->thinking_budget, "Close the thought after this many tokens")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ctx", o->ctx, "Context size in tokens (default: what fits in memory, at most the trained length)");
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->capture_default_str();
  add_backend_option(cmd, o->backend);
  add_device_option(cmd, o->device);
  add_batch_option(cmd, o->batch);
  cmd->add_flag("--hide-thinking", o->hide_thinking, "Do not print the thinking");
  cmd->add_flag("--json", o->json, "With --messages: print {thinking, answer, finish_reason, error, stats}");
  cmd->callback([o] { chat_command(*o); });
}

}  // namespace penser::cli
