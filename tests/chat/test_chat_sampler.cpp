// The sampler's distributions, checked by drawing many tokens: nothing outside the filters, frequencies
// within a few standard errors of the intended probabilities, and the same tokens for the same seed.
#include "inference/chat/sampler.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
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
};

QTEST_GUILESS_MAIN(TestChatSampler)
#include "test_chat_sampler.moc"
