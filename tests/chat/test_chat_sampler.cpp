// The sampler's distributions, checked by drawing many tokens: nothing outside the filters, frequencies
// within a few standard errors of the intended probabilities, and the same tokens for the same seed.
#include "inference/chat/sampler.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace penser;
using chat::Sampler;
using chat::SamplerSettings;
using tokenizer::Token;

namespace {

// Logits whose softmax at temperature 1 is exactly `probs`.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::vector<int> draw(Sampler& s, const std::vector<float>& logits, int n) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(s.sample(logits, {}))];
  return counts;
}

// |observed - expected| within 5 standard errors of a binomial proportion, for every token.
void check_frequencies(const std::vector<int>& counts, const std::vector<double>& expected, int n) {
  for (size_t i = 0; i < counts.size(); ++i) {
    double p = expected[i];
    double sigma = std::sqrt(std::max(p * (1 - p), 1e-12) / n);
    double f = double(counts[i]) / n;
    QVERIFY2(std::abs(f - p) <= 5 * sigma + 1e-9,
             qPrintable(QString("token %1: frequency %2, expected %3").arg(i).arg(f).arg(p)));
  }
}

SamplerSettings plain(uint64_t seed) {
  SamplerSettings s;
  s.temperature = 1.0f;
  s.top_p = 1.0f;
  s.seed = seed;
  return s;
}

}  // namespace

class TestChatSampler : public QObject {
  Q_OBJECT

 private slots:
  void r1_defaults() {
    SamplerSettings s;
    QCOMPARE(s.temperature, 0.6f);
    QCOMPARE(s.top_p, 0.95f);
  }

  void greedy_takes_the_highest_logit() {
    SamplerSettings s;
    s.temperature = 0;
    Sampler sampler(s);
    std::vector<float> l = {0.1f, 2.0f, -1.0f, 1.9f};
    for (int i = 0; i < 100; ++i) QCOMPARE(sampler.sample(l, {}), Token(1));
    // With a repetition penalty, a recent token can lose its place.
    s.repeat_penalty = 1.2f;
    Sampler penalised(s);
    std::vector<Token> recent = {1};
    QCOMPARE(penalised.sample(l, recent), Token(3));
  }

  void same_seed_same_tokens() {
    std::vector<float> l(1000);
    std::mt19937 rng(3);
    for (float& x : l) x = std::normal_distribution<float>(0, 2)(rng);
    SamplerSettings s;  // R1 defaults
    s.seed = 42;
    Sampler a(s), b(s);
    std::vector<Token> ta, tb;
    for (int i = 0; i < 200; ++i) {
      ta.push_back(a.sample(l, ta));
      tb.push_back(b.sample(l, tb));
    }
    QCOMPARE(ta, tb);
    s.seed = 43;
    Sampler c(s);
    std::vector<Token> tc;
    for (int i = 0; i < 200; ++i) tc.push_back(c.sample(l, tc));
    QVERIFY(ta != tc);
    // A sampler without a seed picks one and reports it.
    SamplerSettings r;
    Sampler d(r), e(r);
    QVERIFY(d.seed() != e.seed());
  }

  void temperature_one_follows_softmax() {
    std::vector<double> p = {0.4, 0.3, 0.2, 0.1};
    Sampler s(plain(1));
    const int n = 40000;
    check_frequencies(draw(s, logits_for(p), n), p, n);
  }

  void temperature_scales_logits() {
    std::vector<double> p = {0.6, 0.3, 0.1};
    SamplerSettings st = plain(2);
    st.temperature = 2.0f;  // softmax(log p / 2) = sqrt(p) normalised
    std::vector<double> q;
    for (double x : p) q.push_back(std::sqrt(x));
    double sum = std::accumulate(q.begin(), q.end(), 0.0);
    for (double& x : q) x /= sum;
    Sampler s(st);
    const int n = 40000;
    check_frequencies(draw(s, logits_for(p), n), q, n);
  }

  void top_p_never_leaves_the_nucleus() {
    std::vector<double> p = {0.05, 0.5, 0.15, 0.3};  // sorted: 1 (0.5), 3 (0.3), 2 (0.15), 0 (0.05)
    SamplerSettings st = plain(3);
    st.top_p = 0.75f;  // 0.5 + 0.3 reaches 0.75: the nucleus is {1, 3}
    Sampler s(st);
    const int n = 40000;
    std::vector<int> counts = draw(s, logits_for(p), n);
    QCOMPARE(counts[0], 0);
    QCOMPARE(counts[2], 0);
    check_frequencies(counts, {0, 0.5 / 0.8, 0, 0.3 / 0.8}, n);
  }

  // On a full-size vocabulary the partial sort must give the same nucleus as sorting everything.
  void top_p_on_a_large_vocabulary() {
    std::vector<float> l(151936);
    std::mt19937 rng(5);
    for (float& x : l) x = std::normal_distribution<float>(0, 3)(rng);
    SamplerSettings st;
    st.temperature = 0.6f;
    st.top_p = 0.95f;
    st.seed = 9;
    Sampler s(st);
    auto dist = s.distribution(l, {});
    // Brute force: softmax, full sort, smallest prefix reaching 0.95.
    std::vector<double> p(l.size());
    float mx = *std::max_element(l.begin(), l.end());
    double sum = 0;
    for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp((l[i] - mx) / 0.6);
    std::vector<size_t> idx(l.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    double cum = 0;
    size_t k = 0;
    while (k < idx.size()) {
      cum += p[idx[k]] / sum;
      ++k;
      if (cum >= 0.95) break;
    }
    QCOMPARE(dist.size(), k);
    for (size_t i = 0; i < k; ++i) QCOMPARE(size_t(dist[i].id), idx[i]);
    QVERIFY(k > 64);  // the head had to grow past its first chunk
    std::vector<bool> in_nucleus(l.size(), false);
    for (size_t i = 0; i < k; ++i) in_nucleus[idx[i]] = true;
    for (int i = 0; i < 300; ++i) QVERIFY(in_nucleus[static_cast<size_t>(s.sample(l, {}))]);
  }

  void top_k_keeps_k() {
    std::vector<double> p = {0.1, 0.4, 0.2, 0.3};
    SamplerSettings st = plain(4);
    st.top_k = 2;  // {1, 3}
    Sampler s(st);
    const int n = 40000;
    check_frequencies(draw(s, logits_for(p), n), {0, 0.4 / 0.7, 0, 0.3 / 0.7}, n);
  }

  // Top-p applies to the tokens top-k kept, renormalised: {0.4, 0.3} of top-2 are {0.57, 0.43}, so top-p 0.5
  // keeps the first alone (against the whole vocabulary 0.4 would not reach 0.5 and both would stay).
  void top_p_after_top_k_renormalises() {
    std::vector<double> p = {0.4, 0.3, 0.2, 0.1};
    SamplerSettings st = plain(15);
    st.top_k = 2;
    st.top_p = 0.5f;
    Sampler s(st);
    const auto d = s.distribution(logits_for(p), {});
    QCOMPARE(int(d.size()), 1);
    QCOMPARE(d[0].id, Token(0));
    st.top_p = 0.6f;  // 0.57 < 0.6: both
    QCOMPARE(int(Sampler(st).distribution(logits_for(p), {}).size()), 2);
    for (int i = 0; i < 200; ++i) QCOMPARE(s.sample(logits_for(p), {}), Token(0));
  }

  void min_p_drops_unlikely_tokens() {
    std::vector<double> p = {0.5, 0.25, 0.15, 0.1};
    SamplerSettings st = plain(5);
    st.min_p = 0.4f;  // keep p >= 0.2: {0, 1}
    Sampler s(st);
    const int n = 40000;
    check_frequencies(draw(s, logits_for(p), n), {0.5 / 0.75, 0.25 / 0.75, 0, 0}, n);
  }

  void penalties_change_the_distribution() {
    std::vector<float> l = {2.0f, -1.0f, 0.5f, 0.0f};
    SamplerSettings st = plain(6);
    st.repeat_penalty = 2.0f;
    Sampler rep(st);
    std::vector<Token> recent = {0, 1, 1};
    auto d = rep.distribution(l, recent);
    // Expected logits: 2/2 = 1, -1*2 = -2, 0.5, 0.
    std::vector<double> e = {std::exp(1.0), std::exp(-2.0), std::exp(0.5), std::exp(0.0)};
    double sum = std::accumulate(e.begin(), e.end(), 0.0);
    std::map<Token, float> got;
    for (auto c : d) got[c.id] = c.p;
    QCOMPARE(int(got.size()), 4);
    for (Token t = 0; t < 4; ++t) QVERIFY(std::abs(got[t] - e[size_t(t)] / sum) < 1e-6);

    SamplerSettings pr = plain(7);
    pr.presence_penalty = 1.5f;
    Sampler pres(pr);
    d = pres.distribution(l, std::vector<Token>{2});
    e = {std::exp(2.0), std::exp(-1.0), std::exp(0.5 - 1.5), std::exp(0.0)};
    sum = std::accumulate(e.begin(), e.end(), 0.0);
    for (auto c : d) QVERIFY(std::abs(c.p - e[size_t(c.id)] / sum) < 1e-6);

    // Only the last repeat_last_n tokens count.
    SamplerSettings win = plain(8);
    win.repeat_penalty = 2.0f;
    win.repeat_last_n = 1;
    Sampler w(win);
    d = w.distribution(l, std::vector<Token>{0, 3});  // token 0 is outside the window
    for (auto c : d)
      if (c.id == 0) QVERIFY(std::abs(c.p - std::exp(2.0) / (std::exp(2.0) + std::exp(-1.0) + std::exp(0.5) + 1.0)) < 1e-6);
  }

  // The sampler's own exp (no library call, vector code): against a double-precision softmax over a full-size
  // vocabulary (not a multiple of 8 long: the tail too), with ties at the maximum, -inf, NaN and huge negative
  // logits, at temperatures from near-greedy to flat; the AVX2 code and the plain code agree to the bit.
  void softmax_weights_match_a_double_softmax() {
    std::vector<float> l(151936 + 5);
    std::mt19937 rng(11);
    for (float& x : l) x = std::normal_distribution<float>(0, 4)(rng);
    const float mx = 30.0f;
    l[3] = l[4] = mx;
    l[10] = -std::numeric_limits<float>::infinity();
    l[11] = std::numeric_limits<float>::quiet_NaN();
    l[12] = -1e30f;
    l[l.size() - 1] = mx - 0.25f;  // in the tail the vector code leaves to the plain code
    for (float temperature : {0.05f, 0.3f, 0.6f, 1.0f, 1.5f, 4.0f}) {
      std::vector<float> a, b;
      const double sum_plain = chat::detail::softmax_weights(l, mx, temperature, a, /*simd=*/false);
      const double sum_simd = chat::detail::softmax_weights(l, mx, temperature, b, /*simd=*/true);
      QCOMPARE(sum_simd, sum_plain);
      QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
      QCOMPARE(a[3], 1.0f);
      QCOMPARE(a[4], 1.0f);
      QCOMPARE(a[10], 0.0f);
      QCOMPARE(a[11], 0.0f);  // a NaN logit weighs nothing (and cannot poison the sum)
      QCOMPARE(a[12], 0.0f);
      double ref_sum = 0;
      for (size_t i = 0; i < l.size(); ++i) {
        if (std::isnan(l[i])) continue;
        const double x = double(l[i] - mx) / temperature;  // the float difference, as the sampler sees it
        const double r = std::exp(x);
        ref_sum += r;
        // 2e-7 for the polynomial and the rounding of 2^r, and what rounding x (float) to |x| log2(e) bits
        // costs: 1.2e-7 relative of x.
        const double tol = r * (3e-7 + 1.5e-7 * std::abs(x));
        if (x > -60)
          QVERIFY2(std::abs(a[i] - r) <= tol,
                   qPrintable(QString("T %1, logit %2: %3 against %4").arg(temperature).arg(l[i]).arg(a[i]).arg(r)));
        else
          QVERIFY(a[i] <= 1e-25);  // below 2^-100 (x < -69.3) it is 0; nothing that small counts
      }
      QVERIFY2(std::abs(sum_plain - ref_sum) <= 1e-6 * ref_sum,
               qPrintable(QString("T %1: sum %2 against %3").arg(temperature).arg(sum_plain).arg(ref_sum)));
    }
  }

  // The kept set (top-k, top-p) found by histograms of the weights' bits equals the prefix of a full sort
  // (most likely first, ties by id), on logits from flat (the cut falls deep inside a bucket, both levels and
  // the final sort run) to peaked, with many exact ties and all logits equal; sample() never leaves it.
  void nucleus_matches_a_full_sort() {
    const size_t n = 151936;
    std::mt19937 rng(21);
    std::vector<std::pair<const char*, std::vector<float>>> sets;
    for (float spread : {0.02f, 0.3f, 3.0f}) {
      std::vector<float> l(n);
      for (float& x : l) x = std::normal_distribution<float>(0, spread)(rng);
      sets.push_back({spread < 0.1f ? "flat" : spread < 1 ? "unsure" : "normal", l});
    }
    {
      std::vector<float> l(n);
      for (float& x : l) x = std::round(std::normal_distribution<float>(0, 2)(rng) * 2) / 2;  // exact ties
      sets.push_back({"ties", l});
    }
    sets.push_back({"all equal", std::vector<float>(n, 1.5f)});
    {
      std::vector<float> l(n);
      for (float& x : l) x = std::normal_distribution<float>(0, 2)(rng);
      l[77] = 25;  // sure of itself
      sets.push_back({"peaked", l});
    }
    struct Filters {
      int top_k;
      float top_p;
    };
    for (const auto& [name, l] : sets) {
      for (Filters f : {Filters{0, 0.95f}, Filters{0, 0.5f}, Filters{0, 0.999f}, Filters{40, 1.0f},
                        Filters{1, 1.0f}, Filters{5000, 0.95f}, Filters{40, 0.9f}}) {
        SamplerSettings st;
        st.temperature = 0.6f;
        st.top_k = f.top_k;
        st.top_p = f.top_p;
        st.seed = 3;
        Sampler s(st);
        const auto dist = s.distribution(l, {});
        // The reference: the same weights, every token sorted, the shortest prefix that satisfies the filters.
        std::vector<float> w;
        const float mx = *std::max_element(l.begin(), l.end());
        const double sum = chat::detail::softmax_weights(l, mx, st.temperature, w, true);
        std::vector<size_t> idx(n);
        std::iota(idx.begin(), idx.end(), 0);
        std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); });
        const size_t top_k = f.top_k > 0 ? size_t(f.top_k) : n;
        std::vector<double> cum(n + 1, 0.0);  // cum[k]: weight of the first k
        for (size_t k = 0; k < n; ++k) cum[k + 1] = cum[k] + w[idx[k]];
        // Top-p over what top-k left, renormalised (transformers' and llama.cpp's chain).
        const double target = f.top_p < 1 ? f.top_p * cum[top_k] : std::numeric_limits<double>::infinity();
        size_t k_ref = 1;
        while (k_ref < top_k && cum[k_ref] < target) ++k_ref;
        const size_t k = dist.size();
        // The histograms add in another order: a cut one token off is right when the sums at it are within
        // rounding of the target.
        const bool same = k == k_ref;
        const bool rounding = k <= top_k && k > 0 && std::abs(cum[std::min(k, k_ref)] - target) <= 1e-9 * sum;
        QVERIFY2(same || rounding, qPrintable(QString("%1, top-k %2, top-p %3: kept %4, a full sort keeps %5")
                                                  .arg(name).arg(f.top_k).arg(f.top_p).arg(k).arg(k_ref)));
        for (size_t i = 0; i < k; ++i)
          QVERIFY2(size_t(dist[i].id) == idx[i], qPrintable(QString("%1: token %2 of the kept set").arg(name).arg(i)));
        std::vector<bool> in(n, false);
        for (size_t i = 0; i < k; ++i) in[idx[i]] = true;
        for (int i = 0; i < 50; ++i) QVERIFY(in[size_t(s.sample(l, {}))]);
      }
    }
  }

  // Top-p is drawn by rejection (a draw from the whole softmax, kept when the token is in the nucleus) and, after
  // a few misses in a row, from the nucleus found outright. Here min-p keeps only 10% of the weight, so about
  // half the draws take each way; the frequencies must be the kept set's either way.
  void top_p_by_rejection_and_its_fallback() {
    std::vector<double> p = {0.06, 0.04};
    for (int i = 0; i < 900; ++i) p.push_back(0.001);
    SamplerSettings st = plain(16);
    st.top_p = 0.99f;  // nearly everything
    st.min_p = 0.5f;   // weight >= 0.5 of the best: tokens 0 and 1 (0.04 / 0.06 = 0.67)
    Sampler s(st);
    const int n = 40000;
    std::vector<double> expected(p.size(), 0.0);
    expected[0] = 0.6;
    expected[1] = 0.4;
    check_frequencies(draw(s, logits_for(p), n), expected, n);
    // Top-p alone on the same logits: the nucleus by a full sort, frequencies proportional inside it.
    st.min_p = 0.0f;
    st.top_p = 0.4995f;  // 0.06 + 0.04 + 400 x 0.001 reaches it: tokens 0, 1 and the 400 lowest ids after them
    Sampler t(st);
    std::vector<int> counts = draw(t, logits_for(p), n);
    std::vector<double> nucleus(p.size(), 0.0);
    for (size_t i = 0; i < 402; ++i) nucleus[i] = p[i] / 0.5;
    check_frequencies(counts, nucleus, n);
    for (size_t i = 402; i < p.size(); ++i) QCOMPARE(counts[i], 0);
  }

  // The passes the draw is made of, against brute force, the AVX2 code against the plain code (the same bits),
  // on a full-size vocabulary with zeros, exact ties and a tail that is not a multiple of 8 or of 64.
  void draw_passes_match_brute_force() {
    const size_t n = 151936 + 13;
    std::mt19937 rng(31);
    std::vector<float> l(n);
    for (float& x : l) x = std::round(std::normal_distribution<float>(0, 2)(rng) * 4) / 4;  // ties
    for (size_t i = 0; i < n; i += 97) l[i] = -std::numeric_limits<float>::infinity();  // weight 0
    std::vector<float> w;
    const float mx = *std::max_element(l.begin(), l.end());
    const double sum = chat::detail::softmax_weights(l, mx, 0.6f, w, true);
    std::vector<double> cum(n + 1, 0.0);
    for (size_t i = 0; i < n; ++i) cum[i + 1] = cum[i] + w[i];
    QVERIFY(std::abs(cum[n] - sum) <= 1e-12 * sum);
    // A draw landing in the middle of token i's share gives i; the ends of the range give the first and the
    // last token with weight.
    for (int k = 0; k < 2000; ++k) {
      const size_t i = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
      if (w[i] == 0) continue;
      const double u = cum[i] + 0.5 * w[i];
      const size_t got = chat::detail::draw_by_weight(w, u, true);
      QCOMPARE(got, i);
      QCOMPARE(chat::detail::draw_by_weight(w, u, false), got);
    }
    QCOMPARE(chat::detail::draw_by_weight(w, 0.0, true), size_t(1));  // token 0 weighs nothing
    size_t last = n - 1;
    while (w[last] == 0) --last;
    QCOMPARE(chat::detail::draw_by_weight(w, sum * (1 - 1e-17) + sum, true), last);  // past the end
    // The weight ahead of a token in the filters' order (heavier, or as heavy with a lower id).
    for (int k = 0; k < 40; ++k) {
      const size_t t = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
      double ref = 0;
      for (size_t i = 0; i < n; ++i)
        if (w[i] > w[t] || (w[i] == w[t] && i < t)) ref += w[i];
      const double a = chat::detail::weight_ahead(w, t, true), b = chat::detail::weight_ahead(w, t, false);
      QCOMPARE(a, b);
      QVERIFY2(std::abs(a - ref) <= 1e-12 * sum, qPrintable(QString("token %1: %2 against %3").arg(t).arg(a).arg(ref)));
    }
    // The k heaviest: the prefix of a full sort, with the vector code and without.
    std::vector<uint32_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0u);
    std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); });
    for (size_t k : {size_t(1), size_t(40), size_t(1000), size_t(20000)}) {
      std::vector<uint32_t> a, b;
      chat::detail::heaviest(w, k, a, true);
      chat::detail::heaviest(w, k, b, false);
      QCOMPARE(a, b);
      QVERIFY(std::equal(a.begin(), a.end(), idx.begin()));
      QCOMPARE(a.size(), k);
    }
  }

  // NaN logits (a broken model) are never drawn, and do not stop the others from being drawn.
  void nan_logits_are_never_drawn() {
    std::vector<float> l = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f, 0.5f};
    for (float top_p : {1.0f, 0.95f}) {
      SamplerSettings st = plain(12);
      st.top_p = top_p;
      Sampler s(st);
      std::vector<int> counts = draw(s, l, 4000);
      QCOMPARE(counts[1], 0);
      QVERIFY(counts[0] > 0 && counts[2] > 0 && counts[3] > 0);
    }
    // Nothing to choose from (every logit NaN or -inf): a valid token all the same, never a crash.
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
      const std::vector<float> all(1000, bad);
      for (float top_p : {1.0f, 0.95f}) {
        SamplerSettings st = plain(13);
        st.top_p = top_p;
        Sampler s(st);
        const Token t = s.sample(all, {});
        QVERIFY(t >= 0 && t < 1000);
        QVERIFY(!s.distribution(all, {}).empty());
      }
      SamplerSettings greedy = plain(14);
      greedy.temperature = 0;
      QCOMPARE(Sampler(greedy).sample(all, {}), Token(0));
    }
  }
};

QTEST_GUILESS_MAIN(TestChatSampler)
#include "test_chat_sampler.moc"
