// Shared by test_gui_chat and penser-gui-bench: a tiny random-weight Qwen2 model with the real R1 vocabulary
// and chat template (so the prompt opens a thought and the session's splitter sees <think>), run on the CPU.
#pragma once

#include "app/gui/engine.h"
#include "inference/gguf/gguf.h"
#include "inference/model/synth.h"
#include "tests/tiny_model.h"

#include <QSignalSpy>
#include <QTest>
#include <QString>

namespace penser::gui::testing {

inline Status write_tiny_r1_model(const QString& path, uint32_t n_embd = 64, uint32_t n_layer = 2) {
  auto vocab = gguf::File::open(penser::test_models::kR1Vocab);
  if (!vocab) return vocab.error();
  const model::SynthSpec s = penser::test_models::tiny_r1_spec(vocab->get(), 7, n_embd, n_layer, 8192);
  return model::write_synth_model(s, path.toStdString());
}

inline LoadRequest cpu_load(const QString& path, int n_ctx = 4096) {
  LoadRequest r;
  r.path = path;
  r.backend = QStringLiteral("cpu");
  r.n_ctx = n_ctx;
  r.n_threads = 2;
  return r;
}

// Greedy, so a run is reproducible; the thinking budget closes the thought (a random model never writes
// </think> itself) and max_tokens ends the answer (nor does it write EOS).
inline SamplingSettings greedy(int max_tokens, int thinking_budget) {
  SamplingSettings s;
  s.temperature = 0;
  s.max_tokens = max_tokens;
  s.thinking_budget = thinking_budget;
  s.seed = 1;
  return s;
}

// Loads and waits; returns the error, empty on success.
inline QString load_and_wait(Engine& engine, const LoadRequest& request, int timeout_ms = 30000) {
  QSignalSpy loaded(&engine, &Engine::loaded);
  QSignalSpy failed(&engine, &Engine::loadFailed);
  engine.load(request);
  if (!QTest::qWaitFor([&] { return !loaded.isEmpty() || !failed.isEmpty(); }, timeout_ms)) {
    return QStringLiteral("the model did not load in time");
  }
  return failed.isEmpty() ? QString() : failed.at(0).at(0).toString();
}

}  // namespace penser::gui::testing
