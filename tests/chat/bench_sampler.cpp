// penser-sampler-bench [vocab=151936] [draws=200]
// What a draw costs on the inference thread, per token, over a full-size vocabulary of synthetic logits of
// several shapes, at R1's defaults and at a few other settings. On a fast GPU the draw is a visible share of
// every decoded token (docs/chat.md, "Sampling cost"). Prints one line per shape and setting: the mean and the
// fastest of `rounds` rounds of `draws` draws, in ms per draw, and the size of the kept set.
#include "inference/chat/sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace penser;

namespace {

struct Shape {
  const char* name;
  const char* what;
  std::vector<float> logits;
};

std::vector<Shape> shapes(size_t n) {
  std::mt19937 rng(11);
  auto normal = [&](float spread) {
    std::vector<float> l(n);
    std::normal_distribution<float> d(0.0f, spread);
    for (float& x : l) x = d(rng);
    return l;
  };
  std::vector<Shape> out;
  std::vector<float> peaked = normal(3.0f);
  peaked[n / 3] += 20.0f;
  out.push_back({"peaked", "normal, spread 3, one token 20 above", peaked});
  out.push_back({"unsure", "normal, spread 3", normal(3.0f)});
  out.push_back({"flat", "normal, spread 0.5 (a random-weights model)", normal(0.5f)});
  // A language model's usual shape: probability falling as a power of the rank, ranks shuffled over the ids.
  std::vector<float> zipf(n);
  std::vector<size_t> rank(n);
  std::iota(rank.begin(), rank.end(), 1);
  std::shuffle(rank.begin(), rank.end(), rng);
  for (size_t i = 0; i < n; ++i) zipf[i] = -1.2f * std::log(static_cast<float>(rank[i]));
  out.push_back({"zipf", "logit -1.2 ln(rank)", zipf});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::atol(argv[1])) : 151936;
  const int draws = argc > 2 ? std::atoi(argv[2]) : 200;
  const int rounds = 5;
  struct Setting {
    const char* name;
    chat::SamplerSettings s;
  };
  std::vector<Setting> settings;
  auto add = [&](const char* name, float top_p, float min_p, int32_t top_k) {
    chat::SamplerSettings st;  // temperature 0.6 (R1's)
    st.top_p = top_p;
    st.min_p = min_p;
    st.top_k = top_k;
    settings.push_back({name, st});
  };
  add("R1 defaults (T 0.6, top-p 0.95)", 0.95f, 0.0f, 0);
  add("T 0.6, top-p 0.5", 0.5f, 0.0f, 0);
  add("T 0.6, no filter", 1.0f, 0.0f, 0);
  add("T 0.6, top-p 0.95, min-p 0.05", 0.95f, 0.05f, 0);
  add("T 0.6, top-k 40, top-p 0.95", 0.95f, 0.0f, 40);
  std::printf("vocabulary %zu, %d rounds of %d draws; ms per draw: mean (fastest round); kept: distribution()'s size\n",
              n, rounds, draws);
  for (const Shape& sh : shapes(n)) {
    std::printf("%s: %s\n", sh.name, sh.what);
    for (Setting& st : settings) {
      st.s.seed = 7;
      chat::Sampler sampler(st.s);
      const size_t kept = sampler.distribution(sh.logits, {}).size();
      volatile int sink = sampler.sample(sh.logits, {});  // scratch allocated
      double total = 0, best = 1e30;
      for (int r = 0; r < rounds; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < draws; ++i) sink = sampler.sample(sh.logits, {});
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / draws;
        total += ms;
        best = std::min(best, ms);
      }
      (void)sink;
      std::printf("  %-34s %7.3f (%7.3f) ms   kept %zu\n", st.name, total / rounds, best, kept);
    }
  }
  return 0;
}
