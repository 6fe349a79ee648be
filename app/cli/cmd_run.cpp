// penser-cli run MODEL (--prompt TEXT | --tokens 1,2,3) [--raw] [-n N] [--temp T] [--top-p P] [--top-k K]
//                      [--min-p P] [--seed S] [--backend cpu] [--threads N] [--ctx N] [--json]
// Generates until an end-of-generation token or N tokens. Without --raw the prompt is one user message through
// the model's chat template (inference/chat/template.h); sampling is chat::Sampler (temperature 0: greedy).
// The text streams to stdout; --json prints
// {"prompt_tokens":[...],"tokens":[...],"text":"..."} at the end instead.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/chat/sampler.h"
#include "inference/chat/template.h"
#include "inference/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace penser::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string tokens;
  bool raw = false;
  int n_predict = 256;
  double temp = 0.6;
  double top_p = 1.0;  // the defaults keep `run` a plain temperature sampler
  int top_k = 0;
  double min_p = 0.0;
  uint64_t seed = 0;
  std::string backend = "cpu";
  std::optional<uint32_t> device;  // --device N (Vulkan)
  std::optional<uint32_t> batch;   // --batch N (Vulkan prompt tokens per submission)
  int threads = 0;
  uint32_t ctx = 0;
  bool json = false;
};

// One user message rendered with the model's own chat template (the generic R1 format, with a warning on
// stderr, when the template is unknown or missing), the generation prompt opened and the thought started
// as a chat session starts it. Special tokens written by the template are matched as single tokens.
std::vector<tokenizer::Token> render_chat_prompt(const model::Model& model, const std::string& prompt) {
  const tokenizer::Vocab& vocab = model.vocab();
  chat::ChatTemplate t = chat::ChatTemplate::detect(model.chat_template());
  if (!t.warning().empty()) std::fprintf(stderr, "penser-cli: warning: %s\n", t.warning().c_str());
  std::string text = take(t.render_for_generation({{"user", prompt}}, chat::render_options_for(vocab)));
  return vocab.encode(text, /*add_bos=*/false, /*parse_special=*/true);
}

void run(const RunOptions& o) {
  if (o.prompt.empty() == o.tokens.empty()) fail("give exactly one of --prompt TEXT or --tokens 1,2,3");
  auto model = load_model(o.model);
  const tokenizer::Vocab& vocab = model->vocab();
  const int64_t n_vocab = model->hparams().n_vocab;

  std::vector<tokenizer::Token> prompt;
  if (!o.tokens.empty()) {
    prompt = take(parse_token_list(o.tokens, n_vocab));  // fed exactly as given: no BOS
  } else if (o.raw) {
    prompt = vocab.encode(o.prompt, vocab.add_bos(), /*parse_special=*/true);
  } else {
    prompt = render_chat_prompt(*model, o.prompt);
  }
  if (prompt.empty()) fail("the prompt gives no tokens");

  uint32_t n_ctx = o.ctx;
  if (n_ctx == 0) n_ctx = static_cast<uint32_t>(std::max<size_t>(4096, prompt.size() + o.n_predict));
  auto ev = make_evaluator(*model, o.backend, o.threads, n_ctx, o.device, false, o.batch);
  if (prompt.size() > ev->n_ctx()) {
    fail(fmt::format("the prompt has {} tokens but the context holds {} (raise --ctx)", prompt.size(), ev->n_ctx()));
  }

  std::vector<float> logits(static_cast<size_t>(n_vocab));
  chat::SamplerSettings ss;
  ss.temperature = static_cast<float>(o.temp);
  ss.top_k = o.top_k;
  ss.top_p = static_cast<float>(o.top_p);
  ss.min_p = static_cast<float>(o.min_p);
  ss.seed = o.seed;
  chat::Sampler sampler(ss);
  tokenizer::Detokenizer detok(vocab);
  std::vector<tokenizer::Token> generated;
  std::string text;
  std::string stop = "length";

  auto t0 = std::chrono::steady_clock::now();
  check(ev->eval(prompt, logits));
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.n_predict; ++i) {
    tokenizer::Token id = sampler.sample(logits, /*recent=*/{});  // no penalties: nothing to look back at
    generated.push_back(id);
    if (vocab.is_eog(id)) {
      stop = "eog";
      break;
    }
    std::string piece = detok.push(id);
    text += piece;
    if (!o.json && !piece.empty()) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    if (i + 1 == o.n_predict) break;
    if (ev->n_past() >= ev->n_ctx()) {
      stop = "context";
      break;
    }
    const tokenizer::Token next[1] = {id};
    check(ev->eval(next, logits));
  }
  std::string tail = detok.flush();
  text += tail;
  auto t2 = std::chrono::steady_clock::now();

  if (o.json) {
    nlohmann::json j;
    j["prompt_tokens"] = prompt;
    j["tokens"] = generated;
    j["text"] = text;
    j["stop"] = stop;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  double prefill_s = std::chrono::duration<double>(t1 - t0).count();
  double decode_s = std::chrono::duration<double>(t2 - t1).count();
  size_t n_decoded = generated.empty() ? 0 : generated.size() - 1;  // the first token came from the prefill
  std::fprintf(stderr, "[%s] prompt %zu tokens in %.2f s (%.1f tok/s), generated %zu tokens (%.1f tok/s), stop: %s\n",
               ev->backend_name().c_str(), prompt.size(), prefill_s, prompt.size() / std::max(prefill_s, 1e-9),
               generated.size(), n_decoded / std::max(decode_s, 1e-9), stop.c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (through the model's chat template unless --raw)");
  cmd->add_option("MODEL", o->model, "GGUF file")->required();
  auto* p = cmd->add_option("--prompt", o->prompt, "Prompt text (the user's message)");
  auto* t = cmd->add_option("--tokens", o->tokens, "Prompt as token ids, fed exactly as given: 1,2,3");
  p->excludes(t);
  cmd->add_flag("--raw", o->raw, "Feed the prompt as is, without the chat format (BOS as the vocabulary asks)");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate at most")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--temp", o->temp, "Temperature; 0 is greedy")->check(CLI::Range(0.0, 100.0))->capture_default_str();
  cmd->add_option("--top-p", o->top_p, "Keep the most likely tokens whose probability reaches P; 1 is off")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "Keep the K most likely tokens; 0 is off")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--min-p", o->min_p, "Drop tokens less than P times as likely as the best; 0 is off")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  add_backend_option(cmd, o->backend);
  add_device_option(cmd, o->device);
  add_batch_option(cmd, o->batch);
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024))->capture_default_str();
  cmd->add_option("--ctx", o->ctx, "Context size in tokens (0: 4096 or what prompt + n needs)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print {\"prompt_tokens\",\"tokens\",\"text\"} as JSON at the end");
  cmd->callback([o] { run(*o); });
}

}  // namespace penser::cli
