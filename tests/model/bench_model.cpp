// penser-model-bench: prefill and decode speed of the CPU backend on a model file, or writes a synthetic model.
//   penser-model-bench MODEL [prompt_tokens=128] [decode_tokens=32] [threads=0]
//   penser-model-bench --make OUT.gguf qwen2-1.5b|tiny TYPE|Q4_K_M
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "inference/cpu/cpu.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"

using namespace penser;
using Clock = std::chrono::steady_clock;

// Process CPU time: on a loaded machine, tokens per CPU-second (1 thread) shows what the code does when it
// gets a core, where wall-clock figures show how busy the neighbours are.
static double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

static double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "--make") == 0) {
    model::SynthSpec s;
    if (std::strcmp(argv[3], "qwen2-1.5b") == 0) {
      s.n_embd = 1536; s.n_layer = 28; s.n_head = 12; s.n_head_kv = 2; s.n_ff = 8960; s.n_vocab = 151936;
      s.n_ctx_train = 131072; s.rope_freq_base = 10000.0f; s.tie_embeddings = false;
    } else {
      s.n_embd = 256; s.n_layer = 4; s.n_head = 4; s.n_head_kv = 2; s.n_ff = 512; s.n_vocab = 1024;
    }
    std::string type = argc >= 5 ? argv[4] : "Q4_K_M";
    if (type == "Q4_K_M") {
      s.type = quant::Type::Q4_K;
      s.k_m = true;
    } else if (auto t = quant::type_from_name(type)) {
      s.type = *t;
    } else {
      std::fprintf(stderr, "unknown type %s\n", type.c_str());
      return 1;
    }
    auto t0 = Clock::now();
    auto st = model::write_synth_model(s, argv[2]);
    if (!st) {
      std::fprintf(stderr, "%s\n", st.error().message.c_str());
      return 1;
    }
    std::printf("wrote %s in %.1f s\n", argv[2], seconds_since(t0));
    return 0;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [prompt_tokens] [decode_tokens] [threads]\n", argv[0]);
    return 2;
  }
  const int n_prompt = argc > 2 ? std::atoi(argv[2]) : 128;
  const int n_decode = argc > 3 ? std::atoi(argv[3]) : 32;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  auto t0 = Clock::now();
  auto m = model::Model::load(argv[1]);
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().message.c_str());
    return 1;
  }
  const double load_s = seconds_since(t0);
  auto e = cpu::create_evaluator(**m, {uint32_t(n_prompt + n_decode + 8), threads, 64});
  if (!e) {
    std::fprintf(stderr, "%s\n", e.error().message.c_str());
    return 1;
  }
  const auto& hp = (*m)->hparams();
  std::vector<tokenizer::Token> prompt(n_prompt);
  for (int i = 0; i < n_prompt; ++i) prompt[i] = (i * 7919 + 13) % int(hp.n_vocab);
  std::vector<float> logits(hp.n_vocab);
  t0 = Clock::now();
  double c0 = cpu_seconds();
  if (auto st = (*e)->eval(prompt, logits); !st) return std::fprintf(stderr, "%s\n", st.error().message.c_str()), 1;
  const double prefill_s = seconds_since(t0), prefill_cpu = cpu_seconds() - c0;
  t0 = Clock::now();
  c0 = cpu_seconds();
  for (int i = 0; i < n_decode; ++i) {
    tokenizer::Token t = tokenizer::Token(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (auto st = (*e)->eval(std::span(&t, 1), logits); !st) return 1;
  }
  const double decode_s = seconds_since(t0), decode_cpu = cpu_seconds() - c0;
  std::printf("%s  %s  %s\nload %.2f s  prefill %d tok %.2f tok/s (%.2f per CPU-s)  decode %d tok %.2f tok/s "
              "(%.2f per CPU-s)\n",
              (*m)->name().c_str(), (*m)->quant_summary().c_str(), (*e)->backend_name().c_str(), load_s, n_prompt,
              n_prompt / prefill_s, n_prompt / prefill_cpu, n_decode, n_decode / decode_s, n_decode / decode_cpu);
  return 0;
}
