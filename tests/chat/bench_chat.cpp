// penser-chat-bench MODEL [prompt_words=200] [threads=0] [ctx=2048]
// Time to first token of a follow-up turn, with the KV cache of the first turn reused and from a fresh
// session. Prints one line per measurement. Used for the figures in docs/chat.md.
#include "inference/chat/session.h"
#include "inference/cpu/cpu.h"
#include "inference/model/model.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace penser;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [prompt_words] [threads] [ctx]\n", argv[0]);
    return 2;
  }
  const int words = argc > 2 ? std::atoi(argv[2]) : 200;
  cpu::Options o;
  o.n_threads = argc > 3 ? std::atoi(argv[3]) : 0;
  o.n_ctx = argc > 4 ? static_cast<uint32_t>(std::atoi(argv[4])) : 2048;
  auto m = model::Model::load(argv[1]);
  if (!m) {
    std::fprintf(stderr, "%s\n", m.error().message.c_str());
    return 1;
  }
  auto make = [&] {
    auto ev = cpu::create_evaluator(**m, o);
    if (!ev) {
      std::fprintf(stderr, "%s\n", ev.error().message.c_str());
      std::exit(1);
    }
    return chat::Session::create(**m, std::move(*ev));
  };
  std::string question = "Please summarise the following notes.";
  for (int i = 0; i < words; ++i) question += " note" + std::to_string(i % 97);
  chat::GenerateSettings g;
  g.sampler.temperature = 0;
  g.max_tokens = 16;
  std::vector<chat::Message> conv = {{"user", question}};

  auto a = make();
  chat::Reply r1 = a->generate(conv, g, nullptr);
  std::printf("turn 1 (fresh):        prompt %u tokens, time to first token %.0f ms (prefill %.1f tok/s), decode %.1f tok/s\n",
              r1.stats.prompt_tokens, r1.stats.time_to_first_token_ms, r1.stats.prefill_tokens_per_s,
              r1.stats.decode_tokens_per_s);
  conv.push_back({"assistant", "<think>\n" + r1.thinking + "\n</think>\n\n" + r1.answer});
  conv.push_back({"user", "Thanks. Now make it shorter."});
  chat::Reply r2 = a->generate(conv, g, nullptr);
  std::printf("turn 2 (reused cache): prompt %u tokens, %u reused, time to first token %.0f ms\n",
              r2.stats.prompt_tokens, r2.stats.reused_tokens, r2.stats.time_to_first_token_ms);
  auto b = make();
  chat::Reply r3 = b->generate(conv, g, nullptr);
  std::printf("turn 2 (fresh):        prompt %u tokens, %u reused, time to first token %.0f ms\n",
              r3.stats.prompt_tokens, r3.stats.reused_tokens, r3.stats.time_to_first_token_ms);
  std::printf("backend: %s\n", a->evaluator().backend_name().c_str());
  return 0;
}
