// Helpers shared by the model suites: tiny synthetic models in a temporary folder, logits from the CPU backend.
#pragma once

#include <QTemporaryDir>
#include <QtTest>

#include <string>
#include <vector>

#include "inference/cpu/cpu.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"

namespace test {

inline penser::model::SynthSpec tiny_spec(penser::model::Arch arch) {
  penser::model::SynthSpec s;
  s.arch = arch;
  s.n_embd = 64;
  s.n_layer = 2;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 96;
  s.n_ctx_train = 256;
  s.seed = 7;
  if (arch == penser::model::Arch::Llama) {
    s.rope_freqs = true;
    s.rope_freq_base = 500000.0f;
  }
  if (arch == penser::model::Arch::Qwen3) {
    s.head_dim = 32;  // differs from n_embd / n_head, as in the small Qwen3 models
    s.tie_embeddings = true;
  }
  return s;
}

inline std::unique_ptr<penser::model::Model> load(const QString& path) {
  auto m = penser::model::Model::load(path.toStdString());
  if (!m) qFatal("load: %s", m.error().message.c_str());
  return std::move(m).value();
}

inline std::unique_ptr<penser::model::Model> make_model(const penser::model::SynthSpec& spec, const QString& path) {
  auto st = penser::model::write_synth_model(spec, path.toStdString());
  if (!st) qFatal("write_synth_model: %s", st.error().message.c_str());
  auto m = penser::model::Model::load(path.toStdString());
  if (!m) qFatal("load: %s", m.error().message.c_str());
  return std::move(m).value();
}

inline std::unique_ptr<penser::model::Evaluator> make_eval(const penser::model::Model& m, int threads = 2,
                                                           uint32_t n_batch = 64, uint32_t n_ctx = 256) {
  auto e = penser::cpu::create_evaluator(m, {n_ctx, threads, n_batch});
  if (!e) qFatal("create_evaluator: %s", e.error().message.c_str());
  return std::move(e).value();
}

// max |a - b| / max |b|
inline double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(double(a[i]) - double(b[i])));
    den = std::max(den, std::abs(double(b[i])));
  }
  return den > 0 ? num / den : num;
}

inline int argmax(const std::vector<float>& v) {
  return int(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace test
