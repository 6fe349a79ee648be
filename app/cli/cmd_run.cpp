// penser-cli run MODEL (--prompt TEXT | --tokens 1,2,3) [--raw] [-n N] [--temp T] [--seed S] [--backend cpu]
//                      [--threads N] [--ctx N] [--json]
// Generates until an end-of-generation token or N tokens. The text streams to stdout; --json prints
// {"prompt_tokens":[...],"tokens":[...],"text":"..."} at the end instead.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace penser::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  std::string tokens;
  bool raw = false;
  int n_predict = 256;
  double temp = 0.6;
  uint64_t seed = 0;
  std::string backend = "cpu";
  int threads = 0;
  uint32_t ctx = 0;
  bool json = false;
};

// The R1 chat format for one user turn, generation started inside thinking:
// <｜begin▁of▁sentence｜><｜User｜>{prompt}<｜Assistant｜><think>\n (special tokens from the vocabulary).
std::vector<tokenizer::Token> render_r1_prompt(const tokenizer::Vocab& vocab, const std::string& prompt) {
  std::vector<tokenizer::Token> ids;
  if (vocab.bos() >= 0) ids.push_back(vocab.bos());
  std::vector<tokenizer::Token> rest =
      vocab.encode("<\xEF\xBD\x9CUser\xEF\xBD\x9C>" + prompt + "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C><think>\n",
                   /*add_bos=*/false, /*parse_special=*/true);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

// Greedy (temp 0: the highest logit, the lowest id on a tie) or sampling from softmax(logits / temp).
// The uniform draw is made from the raw 64-bit generator output so a seed gives the same tokens everywhere.
tokenizer::Token sample(std::span<const float> logits, double temp, std::mt19937_64& rng) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  if (temp <= 0.0) return static_cast<tokenizer::Token>(best);
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp((static_cast<double>(logits[i]) - logits[best]) / temp);
    sum += p[i];
  }
  double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
  for (size_t i = 0; i < p.size(); ++i) {
    if (u < p[i]) return static_cast<tokenizer::Token>(i);
    u -= p[i];
  }
  return static_cast<tokenizer::Token>(best);
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
    prompt = render_r1_prompt(vocab, o.prompt);
  }
  if (prompt.empty()) fail("the prompt gives no tokens");

  uint32_t n_ctx = o.ctx;
  if (n_ctx == 0) n_ctx = static_cast<uint32_t>(std::max<size_t>(4096, prompt.size() + o.n_predict));
  auto ev = make_evaluator(*model, o.backend, o.threads, n_ctx);
  if (prompt.size() > ev->n_ctx()) {
    fail(fmt::format("the prompt has {} tokens but the context holds {} (raise --ctx)", prompt.size(), ev->n_ctx()));
  }

  std::vector<float> logits(static_cast<size_t>(n_vocab));
  std::mt19937_64 rng(o.seed);
  tokenizer::Detokenizer detok(vocab);
  std::vector<tokenizer::Token> generated;
  std::string text;
  std::string stop = "length";

  auto t0 = std::chrono::steady_clock::now();
  check(ev->eval(prompt, logits));
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.n_predict; ++i) {
    tokenizer::Token id = sample(logits, o.temp, rng);
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
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (through the R1 chat format unless --raw)");
  cmd->add_option("MODEL", o->model, "GGUF file")->required();
  auto* p = cmd->add_option("--prompt", o->prompt, "Prompt text (the user's message)");
  auto* t = cmd->add_option("--tokens", o->tokens, "Prompt as token ids, fed exactly as given: 1,2,3");
  p->excludes(t);
  cmd->add_flag("--raw", o->raw, "Feed the prompt as is, without the chat format (BOS as the vocabulary asks)");
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate at most")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--temp", o->temp, "Temperature; 0 is greedy")->check(CLI::Range(0.0, 100.0))->capture_default_str();
  cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  add_backend_option(cmd, o->backend);
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024))->capture_default_str();
  cmd->add_option("--ctx", o->ctx, "Context size in tokens (0: 4096 or what prompt + n needs)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print {\"prompt_tokens\",\"tokens\",\"text\"} as JSON at the end");
  cmd->callback([o] { run(*o); });
}

}  // namespace penser::cli
